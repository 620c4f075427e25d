// Package gateway connects channels to the application: their webhooks in, on
// /webhooks/<kind>/<channel id> on the API's port, turned into the use cases the RPCs call; and
// outbound messages out, through each channel's send API. A webhook is answered only once what
// it carries is stored, so a channel that gets no answer sends again, and the repeat stores
// nothing new.
package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel/meta"
	"github.com/batonhq/baton/server/channel/whatsapp"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ratelimit"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/ttlcache"
)

// Handler serves the channels' webhooks.
type Handler struct {
	App    *app.App
	Logger *slog.Logger
	// Channels, when set, keeps the channels webhooks name (their kind and credentials) for a
	// short time: a busy channel then costs no read per request besides its ingest. The App
	// must tell it about changes (app.Config.ChannelChanged).
	Channels *ttlcache.Cache[domain.Channel]
	// MaxBodyBytes bounds a webhook's body: a longer one is answered 413 and stores nothing.
	// 1 MiB when zero.
	MaxBodyBytes int64
	// Limiter bounds each channel's POSTed webhooks: over it they are answered 429 with a
	// Retry-After, before the body is read or checked. None when nil.
	Limiter *ratelimit.Limiter
}

// Register mounts the webhook routes on mux.
func (h Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/generic/{channel}", h.generic)
	for kind, parse := range map[domain.ChannelKind]parser{
		domain.ChannelMessenger: meta.ParseMessaging,
		domain.ChannelInstagram: meta.ParseMessaging,
		domain.ChannelWhatsApp:  whatsapp.Parse,
	} {
		mux.HandleFunc("GET /webhooks/"+string(kind)+"/{channel}", h.metaSubscribe(kind))
		mux.HandleFunc("POST /webhooks/"+string(kind)+"/{channel}", h.metaEvents(kind, parse))
	}
	mux.HandleFunc("POST /webhooks/telegram/{channel}", h.telegramUpdates())
}

// adapter is who channel webhooks act as once their signature is checked: a service, which may
// ingest on any channel.
var adapter = domain.Principal{Role: domain.PrincipalService, KeyID: "channel-webhook"}

// channel loads the channel a webhook names, if it is of the given kind; otherwise it answers
// 404 itself and returns false.
func (h Handler) channel(w http.ResponseWriter, r *http.Request, kind domain.ChannelKind) (domain.Channel, bool) {
	ch, err := h.lookup(r.Context(), r.PathValue("channel"))
	var notFound *domain.NotFoundError
	switch {
	case errors.As(err, &notFound) || (err == nil && ch.Kind != kind):
		http.Error(w, "no "+string(kind)+" channel "+r.PathValue("channel"), http.StatusNotFound)
		return ch, false
	case err != nil:
		h.fail(w, r, err)
		return ch, false
	}
	return ch, true
}

// posted loads the channel a POSTed webhook names, as channel does, takes a token from its
// bucket and reads the body; when any fails it answers itself and returns false. The bucket is
// only a real channel's, so ids made up by a stranger hold no memory.
func (h Handler) posted(w http.ResponseWriter, r *http.Request, kind domain.ChannelKind) (domain.Channel, []byte, bool) {
	ch, ok := h.channel(w, r, kind)
	if !ok {
		return ch, nil, false
	}
	if ok, retry := h.Limiter.Allow(ch.ID); !ok {
		ratelimit.TooMany(w, retry)
		return ch, nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cmp.Or(h.MaxBodyBytes, 1<<20)))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, fmt.Sprintf("the body is over the limit of %d bytes", tooLarge.Limit), http.StatusRequestEntityTooLarge)
		return ch, nil, false
	case err != nil:
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return ch, nil, false
	}
	return ch, body, true
}

// lookup returns a channel, from the cache when it holds it.
func (h Handler) lookup(ctx context.Context, id string) (domain.Channel, error) {
	if ch, ok := h.Channels.Get(id); ok {
		return ch, nil
	}
	generation := h.Channels.Generation()
	ch, err := h.App.GetChannel(ctx, adapter, id)
	if err == nil {
		h.Channels.Put(id, ch, generation)
	}
	return ch, err
}

// fail answers 503 for what the server could not do (the channel will send again) and logs it:
// as a warning when the database is out of reach for now, which is no fault of the server's.
func (h Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelError
	if errors.Is(err, store.ErrUnavailable) {
		level = slog.LevelWarn
	}
	h.Logger.Log(r.Context(), level, "channel webhook", "path", r.URL.Path, "error", err)
	w.Header().Set("Retry-After", "1")
	http.Error(w, "the message could not be stored; send it again", http.StatusServiceUnavailable)
}

// reply answers with a JSON-encoded message.
func reply(w http.ResponseWriter, status int, m proto.Message) {
	b, err := protojson.Marshal(m)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
