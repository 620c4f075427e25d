// Package rpc serves Baton's Connect services. Handlers are thin translators: they turn wire
// messages into application calls and domain results back into wire messages, and map errors
// to Connect codes. Validation happens before them (protovalidate), authentication around
// them (auth.Interceptor).
package rpc

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/events"
	"github.com/batonhq/baton/server/store"
)

// Handlers implements every Baton service over one App.
type Handlers struct {
	App *app.App
	// Hub hands committed events to the streams (Subscribe, StreamChat).
	Hub *events.Hub
	// Stop, when closed, ends every event stream: the server is shutting down.
	Stop <-chan struct{}
	// KeyCheckInterval is how often an open event stream checks that its key was not revoked.
	KeyCheckInterval time.Duration
	// KeysChanged and ChannelsChanged fire when this server revokes a key or changes a channel,
	// so that streams check their key (Subscribe) or visitor token (StreamChat) at once.
	KeysChanged, ChannelsChanged *events.Signal
}

// principal is the caller the auth interceptor authenticated. Every service is wrapped by it,
// so a missing principal is a wiring bug and is treated as no rights at all.
func principal(ctx context.Context) domain.Principal {
	p, _ := auth.PrincipalFrom(ctx)
	return p
}

// defaultPageSize is the page size when a request gives none.
const defaultPageSize = 50

func page(size int32, token string) store.Page {
	return store.Page{Size: pageSize(size, defaultPageSize), Cursor: token}
}

// optionalDuration converts an optional duration field: nil when unset.
func optionalDuration(d *durationpb.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.AsDuration()
	return &v
}
