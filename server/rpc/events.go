package rpc

import (
	"cmp"
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/events"
	"github.com/batonhq/baton/server/store"
)

var _ batonv1connect.EventServiceHandler = Handlers{}

// Subscribe implements EventServiceHandler.
func (h Handlers) Subscribe(ctx context.Context, req *batonv1.SubscribeRequest, stream *connect.ServerStream[batonv1.SubscribeResponse]) error {
	p := principal(ctx)
	f, err := app.ScopeEvents(p, eventFilter(req.GetFilter()))
	if err != nil {
		return toConnect(ctx, err)
	}
	after := req.GetAfterSequence()
	if req.AfterSequence == nil {
		if after, err = events.Head(ctx, h.App.Store()); err != nil {
			return toConnect(ctx, err)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go h.watch(ctx, cancel, p)
	// Send the headers now, so a client knows it is subscribed before the first event.
	if err := stream.Send(nil); err != nil {
		return err
	}
	err = events.Stream(ctx, h.App.Store(), h.Broker, cmp.Or(h.PollInterval, events.DefaultPollInterval), after, f, func(batch []domain.Event) error {
		res := &batonv1.SubscribeResponse{Cursor: batch[len(batch)-1].Sequence}
		for _, e := range batch {
			pe, err := eventToProto(e)
			if err != nil {
				return err
			}
			res.Events = append(res.Events, &batonv1.SubscribedEvent{Event: pe, Responsible: responsible(p, e)})
		}
		return stream.Send(res)
	})
	if errors.Is(context.Cause(ctx), errRevoked) {
		return connect.NewError(connect.CodeUnauthenticated, errRevoked)
	}
	return toConnect(ctx, err)
}

var errRevoked = errors.New("the API key of this stream was revoked")

// watch ends a stream when the server shuts down or the stream's key is revoked: a stream is
// authenticated once, when it opens, and may stay open for days.
func (h Handlers) watch(ctx context.Context, cancel context.CancelCauseFunc, p domain.Principal) {
	tick := time.NewTicker(cmp.Or(h.KeyCheckInterval, defaultKeyCheckInterval))
	defer tick.Stop()
	for {
		select {
		case <-h.Stop: // a nil Stop never ends a stream
			cancel(nil)
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			if ok, err := auth.Exists(ctx, h.App.Store(), p.KeyID); err == nil && !ok {
				cancel(errRevoked)
				return
			}
		}
	}
}

// defaultKeyCheckInterval is how often an open stream checks its key by default.
const defaultKeyCheckInterval = 10 * time.Second

// responsible tells a bot whether it owns the conversation the event is about (standby
// delivery flags the rest). Other subscribers answer no customer, so the flag stays true.
func responsible(p domain.Principal, e domain.Event) bool {
	if p.Role != domain.PrincipalBot {
		return true
	}
	return e.Owner == domain.BotOwner(p.SubjectID)
}

func eventFilter(f *batonv1.EventFilter) store.EventFilter {
	return store.EventFilter{
		ConversationID: f.GetConversationId(),
		BotID:          f.GetBotId(),
		ChannelID:      f.GetChannelId(),
		Types:          eventTypesToDomain(f.GetTypes()),
	}
}

// ListEvents implements EventServiceHandler.
func (h Handlers) ListEvents(ctx context.Context, req *batonv1.ListEventsRequest) (*batonv1.ListEventsResponse, error) {
	list, cursor, err := h.App.ListEvents(ctx, principal(ctx), req.GetAfterSequence(), eventFilter(req.GetFilter()), pageSize(req.GetPageSize(), 100))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.ListEventsResponse{Cursor: cursor}
	for _, e := range list {
		pe, err := eventToProto(e)
		if err != nil {
			return nil, toConnect(ctx, err)
		}
		out.Events = append(out.Events, pe)
	}
	return out, nil
}
