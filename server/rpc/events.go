package rpc

import (
	"cmp"
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/events"
	"github.com/batonhq/baton/server/store"
)

var _ batonv1connect.EventServiceHandler = Handlers{}

// Subscribe implements EventServiceHandler. The stream reads the store only to catch up; then
// the hub hands it, from memory, the events its filter selects and its principal may read.
func (h Handlers) Subscribe(ctx context.Context, req *batonv1.SubscribeRequest, stream *connect.ServerStream[batonv1.SubscribeResponse]) error {
	// Subscribe stays small: its frame sits on the stack of every idle stream.
	s, err := h.subscription(ctx, req, stream)
	if err == nil {
		err = h.Hub.Follow(ctx, s)
	}
	if errors.Is(err, errRevoked) {
		return connect.NewError(connect.CodeUnauthenticated, errRevoked)
	}
	return toConnect(ctx, err)
}

// subscription opens the stream req asks for: it sends the headers once the filter and the
// starting point are known, so that a client knows it is subscribed before the first event.
func (h Handlers) subscription(ctx context.Context, req *batonv1.SubscribeRequest, stream *connect.ServerStream[batonv1.SubscribeResponse]) (events.Stream, error) {
	p := principal(ctx)
	r, err := h.App.EventReader(ctx, p, eventFilter(req.GetFilter()))
	if err != nil {
		return events.Stream{}, err
	}
	after := req.GetAfterSequence()
	if req.AfterSequence == nil {
		if after, err = h.Hub.Head(ctx); err != nil {
			return events.Stream{}, err
		}
	}
	if err := stream.Send(nil); err != nil {
		return events.Stream{}, err
	}
	send := func(items []*events.Item) error {
		res := &batonv1.SubscribeResponse{Cursor: items[len(items)-1].Sequence}
		for _, it := range items {
			pe, err := it.Rendered(eventForm)
			if err != nil {
				return err
			}
			res.Events = append(res.Events, &batonv1.SubscribedEvent{Event: pe.(*batonv1.Event), Responsible: responsible(p, it.Event)})
		}
		return stream.Send(res)
	}
	return events.Stream{
		After:   after,
		CatchUp: events.FromStore(h.App.Store(), r.Filter, r.Reads, send),
		Selects: r.Selects,
		Send:    send,
		Check: func(ctx context.Context) error {
			if err := h.checkKey(ctx, p); err != nil {
				return err
			}
			return r.Refresh(ctx) // an agent moved to other queues reads by its new ones
		},
		CheckEvery: cmp.Or(h.KeyCheckInterval, defaultKeyCheckInterval),
		Recheck:    h.KeysChanged,
		Stop:       h.Stop,
	}, nil
}

// eventForm renders a live event for event streams.
var eventForm = events.NewRenderer(func(e domain.Event) (any, error) { return eventToProto(e) })

var errRevoked = errors.New("the API key of this stream was revoked")

// checkKey fails once the stream's key was revoked: a stream is authenticated once, when it
// opens, and may stay open for days.
func (h Handlers) checkKey(ctx context.Context, p domain.Principal) error {
	if ok, err := auth.Exists(ctx, h.App.Store(), p.KeyID); err == nil && !ok {
		return errRevoked
	}
	return nil
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
