package gateway

import (
	"context"
	"io"
	"net/http"

	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/channel/meta"
	"github.com/batonhq/baton/server/channel/telegram"
	"github.com/batonhq/baton/server/domain"
)

// metaSubscribe answers Meta's subscription check with the challenge, when the verify token is
// the channel's.
func (h Handler) metaSubscribe(kind domain.ChannelKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ch, ok := h.channel(w, r, kind)
		if !ok {
			return
		}
		challenge, ok := meta.VerifySubscription(r.URL.Query(), ch.Credentials.VerifyToken)
		if !ok {
			http.Error(w, "the verify token is not the channel's", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, challenge)
	}
}

// parser turns a channel's webhook body into updates.
type parser func(body []byte) ([]channel.Update, error)

// forChannel keeps the updates for the channel's own account: one Meta app's webhook may carry
// several pages' or phone numbers' events, each of them another channel with its own route.
func (h Handler) forChannel(ctx context.Context, ch domain.Channel, updates []channel.Update) []channel.Update {
	var out []channel.Update
	for _, u := range updates {
		if u.Account == "" || u.Account == ch.ExternalID {
			out = append(out, u)
		}
	}
	if dropped := len(updates) - len(out); dropped > 0 {
		h.Logger.WarnContext(ctx, "channel webhook carried another account's updates: route each account to its own channel",
			"channel", ch.ID, "external_id", ch.ExternalID, "dropped", dropped)
	}
	return out
}

// metaEvents receives a Meta webhook signed with the channel's app secret and parsed by parse.
func (h Handler) metaEvents(kind domain.ChannelKind, parse parser) http.HandlerFunc {
	return h.updates(kind, func(ch domain.Channel, r *http.Request, body []byte) error {
		return meta.CheckSignature(ch.Credentials.AppSecret, r.Header, body)
	}, parse, received)
}

// received is Meta's expected answer.
func received([]channel.Update) (string, []byte) { return "text/plain", []byte("EVENT_RECEIVED") }

// answerCallback answers a Telegram button press in the webhook's response (Telegram runs the
// method the response names), so the customer's button stops spinning.
func answerCallback(updates []channel.Update) (string, []byte) {
	for _, u := range updates {
		if body, ok := telegram.CallbackAnswer(u.ChannelMessageID); ok {
			return "application/json", body
		}
	}
	return "text/plain", nil
}

// telegramUpdates receives a Telegram update carrying the channel's secret token.
func (h Handler) telegramUpdates() http.HandlerFunc {
	return h.updates(domain.ChannelTelegram, func(ch domain.Channel, r *http.Request, _ []byte) error {
		return telegram.CheckSecret(ch.Credentials.WebhookSecret, r.Header)
	}, telegram.Parse, answerCallback)
}

// updates serves a channel webhook: its body (413 when over the limit, nothing stored), the
// channel's check of the request (401 when it fails, nothing stored), its parser (400 when
// the body is not the channel's payload, nothing stored), then every update, each on its own:
// one the rules refuse is logged and skipped, the others are stored. The channel hears 200
// once everything is stored, or 503 to send again.
func (h Handler) updates(kind domain.ChannelKind, check func(domain.Channel, *http.Request, []byte) error, parse parser, answer func([]channel.Update) (string, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ch, body, ok := h.posted(w, r, kind)
		if !ok {
			return
		}
		if err := check(ch, r, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		updates, err := parse(body)
		if err != nil {
			http.Error(w, "the body is not a "+string(kind)+" payload: "+err.Error(), http.StatusBadRequest)
			return
		}
		updates = h.forChannel(r.Context(), ch, updates)
		refused, err := h.applyUpdates(r.Context(), ch, updates)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, err := range refused {
			h.Logger.WarnContext(r.Context(), "channel webhook item refused", "channel", ch.ID, "error", err)
		}
		contentType, body := answer(updates)
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}
