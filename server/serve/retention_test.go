package serve_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/serve"
)

// eventsGone returns the EventsGoneInfo detail of an OUT_OF_RANGE error.
func eventsGone(t *testing.T, err error) *batonv1.EventsGoneInfo {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeOutOfRange {
		t.Fatalf("got %v, want OUT_OF_RANGE", err)
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if info, ok := v.(*batonv1.EventsGoneInfo); ok {
				return info
			}
		}
	}
	t.Fatalf("no EventsGoneInfo detail on %v", err)
	return nil
}

// TestEventsGoneAfterRetention sweeps a channel's old events and then asks for them: ListEvents
// and Subscribe from before the sweep are OUT_OF_RANGE with the earliest sequence still stored,
// in the detail and in the message; from that sequence on they read what is left, with no gap.
func TestEventsGoneAfterRetention(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.Retention.Interval = -1 })
	ctx := context.Background()
	hour := durationpb.New(time.Hour)
	ch := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "kept-an-hour",
		Retention: &batonv1.RetentionPolicy{Events: hour, Messages: hour},
	}))(t).GetChannel()
	if got := ch.GetRetention(); got.GetEvents().AsDuration() != time.Hour || got.GetDeliveries() != nil {
		t.Fatalf("channel retention %v, want events 1h and deliveries unset", got)
	}
	h.ingest(ch.GetId(), "alice", "m1", "old")
	h.ingest(ch.GetId(), "alice", "m2", "old")
	filter := &batonv1.EventFilter{ChannelId: ch.GetId()}
	old := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: filter, PageSize: 100}))(t).GetEvents()
	h.clock.Advance(2 * time.Hour)
	h.ingest(ch.GetId(), "alice", "m3", "young")
	young := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{
		Filter: filter, AfterSequence: old[len(old)-1].GetSequence(), PageSize: 100,
	}))(t).GetEvents()

	swept, err := (&app.Sweeper{App: h.srv.App()}).Sweep(ctx)
	if err != nil || swept.Events != len(old) {
		t.Fatalf("sweep = %+v, %v; want the %d old events", swept, err, len(old))
	}
	earliest := old[len(old)-1].GetSequence() + 1

	_, err = h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: filter, PageSize: 100})
	if info := eventsGone(t, err); info.GetEarliestSequence() != earliest || info.GetAfterSequence() != 0 {
		t.Errorf("ListEvents detail %v, want the earliest %d after 0", info, earliest)
	}
	var ce *connect.Error
	if errors.As(err, &ce) && !containsNumber(ce.Message(), earliest) {
		t.Errorf("message %q does not name the earliest sequence %d", ce.Message(), earliest)
	}
	list := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: filter, AfterSequence: earliest - 1, PageSize: 100}))(t).GetEvents()
	if len(list) != len(young) || list[0].GetId() != young[0].GetId() {
		t.Errorf("ListEvents from the earliest: %d events, want the %d young ones", len(list), len(young))
	}

	// A stream resuming from before the sweep ends with the same error, having sent nothing.
	after := uint64(0)
	s := subscribe(t, h.admin, &batonv1.SubscribeRequest{Filter: filter, AfterSequence: &after})
	select {
	case err := <-s.done:
		if info := eventsGone(t, err); info.GetEarliestSequence() != earliest {
			t.Errorf("Subscribe detail %v, want the earliest %d", info, earliest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream from before the sweep did not end")
	}
	if e, ok := <-s.events; ok {
		t.Errorf("the stream sent event %d before failing", e.GetEvent().GetSequence())
	}
	// From the earliest it streams the young events.
	from := earliest - 1
	s = subscribe(t, h.admin, &batonv1.SubscribeRequest{Filter: filter, AfterSequence: &from})
	if got := s.next(t, len(young)); got[0].GetEvent().GetId() != young[0].GetId() {
		t.Errorf("the stream from the earliest began with %s, want %s", got[0].GetEvent().GetId(), young[0].GetId())
	}

	// Another channel's readers are not affected.
	other := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "kept-forever",
	}))(t).GetChannel()
	if _, err := h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{ChannelId: other.GetId()}}); err != nil {
		t.Errorf("ListEvents of another channel: %v", err)
	}
}

func containsNumber(s string, n uint64) bool {
	return strings.Contains(s, strconv.FormatUint(n, 10))
}

// TestRetentionIsValidated refuses a retention under an hour, and reads back a zero one as
// forever.
func TestRetentionIsValidated(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.Retention.Interval = -1 })
	ctx := context.Background()
	_, err := h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "too-short",
		Retention: &batonv1.RetentionPolicy{Messages: durationpb.New(time.Minute)},
	})
	if code(err) != connect.CodeInvalidArgument {
		t.Errorf("a retention of a minute: %v, want INVALID_ARGUMENT", err)
	}
	ch := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "forever",
		Retention: &batonv1.RetentionPolicy{Events: durationpb.New(0)},
	}))(t).GetChannel()
	if got := ch.GetRetention().GetEvents(); got == nil || got.AsDuration() != 0 {
		t.Errorf("events retention %v, want a zero duration (forever)", got)
	}
	// An update replaces the whole policy: unset fields go back to the default.
	ch = need(h.admin.Channels.UpdateChannel(ctx, &batonv1.UpdateChannelRequest{
		ChannelId: ch.GetId(), Retention: &batonv1.RetentionPolicy{Messages: durationpb.New(48 * time.Hour)},
	}))(t).GetChannel()
	if got := ch.GetRetention(); got.GetEvents() != nil || got.GetMessages().AsDuration() != 48*time.Hour {
		t.Errorf("after update: %v, want messages 48h and events unset", got)
	}
}
