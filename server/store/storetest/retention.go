package storetest

import (
	"errors"
	"slices"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Retention: the sweep's deletions and the swept marks readers check.

// horizon is the retention horizon of these tests: rows created before it are old.
var horizon = t0.Add(-time.Hour)

// old and young are creation times on either side of horizon.
var old, young = horizon.Add(-time.Minute), horizon.Add(time.Minute)

// deleteBefore runs one retention deletion in a Write and returns how many rows it deleted.
func (h *harness) deleteBefore(del func(store.Tx) (int, error)) int {
	h.t.Helper()
	var n int
	h.write(func(tx store.Tx) error {
		var err error
		n, err = del(tx)
		return err
	})
	return n
}

// drain runs del until it deletes nothing, and returns each batch's count.
func (h *harness) drain(del func(store.Tx) (int, error)) []int {
	h.t.Helper()
	var batches []int
	for range 10 {
		n := h.deleteBefore(del)
		batches = append(batches, n)
		if n == 0 {
			return batches
		}
	}
	h.t.Fatalf("still deleting after 10 batches: %v", batches)
	return nil
}

func storedMessages(h *harness, conv domain.Conversation) []string {
	h.t.Helper()
	list, _ := mustRead2(h, func(tx store.Tx) ([]domain.Message, string, error) {
		return tx.ListMessages(h.ctx, conv.ID, store.Page{Size: 100})
	})
	return ids(list, func(m domain.Message) string { return m.ID })
}

func mustRead2[A, B any](h *harness, get func(store.Tx) (A, B, error)) (A, B) {
	h.t.Helper()
	var a A
	var b B
	h.read(func(tx store.Tx) error {
		var err error
		a, b, err = get(tx)
		return err
	})
	return a, b
}

// testRetentionMessages checks DeleteMessagesBefore deletes only the channel's messages created
// before the horizon, oldest first, in batches of at most limit, and keeps those waiting to be
// sent.
func testRetentionMessages(h *harness) {
	chA, chB := h.channel(), h.channel()
	convA, convB := h.conversation(chA), h.conversation(chB)
	at := func(t time.Time) func(*domain.Message) { return func(m *domain.Message) { m.CreateTime = t } }
	var oldA []string
	for i := range 5 {
		oldA = append(oldA, h.message(convA, at(old.Add(-time.Duration(5-i)*time.Second))).ID)
	}
	pending := h.message(convA, at(old.Add(-time.Hour)), func(m *domain.Message) {
		m.Status, m.RequestID = domain.DeliveryPending, ""
	})
	youngA := h.message(convA, at(young))
	oldB := h.message(convB, at(old))

	del := func(tx store.Tx) (int, error) { return tx.DeleteMessagesBefore(h.ctx, chA.ID, horizon, 2) }
	if n := h.deleteBefore(del); n != 2 {
		h.t.Fatalf("first batch deleted %d messages, want 2", n)
	}
	// Oldest first: the first two are gone, the rest are not.
	if got, want := storedMessages(h, convA), []string{pending.ID, oldA[2], oldA[3], oldA[4], youngA.ID}; !slices.Equal(got, want) {
		h.t.Errorf("after one batch: %v, want %v", got, want)
	}
	if got, want := h.drain(del), []int{2, 1, 0}; !slices.Equal(got, want) {
		h.t.Errorf("batches deleted %v, want %v", got, want)
	}
	if got, want := storedMessages(h, convA), []string{pending.ID, youngA.ID}; !slices.Equal(got, want) {
		h.t.Errorf("channel A keeps %v, want %v (the young one and the one waiting to be sent)", got, want)
	}
	if got := storedMessages(h, convB); !slices.Equal(got, []string{oldB.ID}) {
		h.t.Errorf("channel B keeps %v, want its message untouched", got)
	}
}

// testRetentionEvents checks DeleteEventsBefore deletes the channel's oldest events up to the
// first young one, in batches, never the last event stored; and that SweptThrough tells readers
// of that channel (or of every channel) what is gone, and readers of other channels nothing.
func testRetentionEvents(h *harness) {
	chA, chB := h.channel(), h.channel()
	convA, convB := h.conversation(chA), h.conversation(chB)
	ev := func(conv domain.Conversation, t time.Time) domain.Event {
		return h.event(conv.ID, func(e *domain.Event) { e.ChannelID, e.Time = conv.ChannelID, t })
	}
	stored := h.append(
		ev(convA, old), ev(convB, old), ev(convA, old), ev(convA, old),
		h.event("", func(e *domain.Event) { e.ChannelID, e.Time = "", old }),
		ev(convA, young), ev(convA, old), // a straggler after a young one stays: it waits its turn
		ev(convB, young),
	)
	seq := func(i int) uint64 { return stored[i].Sequence }
	del := func(tx store.Tx) (int, error) { return tx.DeleteEventsBefore(h.ctx, chA.ID, horizon, 2) }
	if got, want := h.drain(del), []int{2, 1, 0}; !slices.Equal(got, want) {
		h.t.Errorf("batches deleted %v, want %v", got, want)
	}
	all := listEvents(h, 0, store.EventFilter{}, 100)
	if got, want := ids(all, func(e domain.Event) string { return e.ID }),
		ids([]domain.Event{stored[1], stored[4], stored[5], stored[6], stored[7]}, func(e domain.Event) string { return e.ID }); !slices.Equal(got, want) {
		h.t.Errorf("events left %v, want %v", got, want)
	}
	swept := func(f store.EventFilter) uint64 {
		return mustRead(h, func(tx store.Tx) (uint64, error) { return tx.SweptThrough(h.ctx, f) })
	}
	for _, c := range []struct {
		name string
		f    store.EventFilter
		want uint64
	}{
		{"channel A", store.EventFilter{ChannelID: chA.ID}, seq(3)},
		{"conversation of A", store.EventFilter{ConversationID: convA.ID}, seq(3)},
		{"every channel", store.EventFilter{}, seq(3)},
		{"a bot", store.EventFilter{BotID: "bot-1"}, seq(3)},
		{"channel B", store.EventFilter{ChannelID: chB.ID}, 0},
		{"conversation of B", store.EventFilter{ConversationID: convB.ID}, 0},
	} {
		if got := swept(c.f); got != c.want {
			h.t.Errorf("SweptThrough(%s) = %d, want %d", c.name, got, c.want)
		}
	}
	h.read(func(tx store.Tx) error {
		var gone *domain.EventsGoneError
		err := store.EventsGone(h.ctx, tx, seq(0), store.EventFilter{ChannelID: chA.ID})
		if !errors.As(err, &gone) || gone.Earliest != seq(3)+1 || gone.After != seq(0) {
			h.t.Errorf("EventsGone after %d: %v, want the earliest %d", seq(0), err, seq(3)+1)
		}
		if err := store.EventsGone(h.ctx, tx, seq(3), store.EventFilter{ChannelID: chA.ID}); err != nil {
			h.t.Errorf("EventsGone after the mark: %v", err)
		}
		if err := store.EventsGone(h.ctx, tx, 0, store.EventFilter{ChannelID: chB.ID}); err != nil {
			h.t.Errorf("EventsGone for channel B: %v", err)
		}
		return nil
	})

	// The events of no channel, all old but the last event stored: that one stays.
	last := h.append(h.event("", func(e *domain.Event) { e.ChannelID, e.Time = "", old }))[0]
	none := func(tx store.Tx) (int, error) { return tx.DeleteEventsBefore(h.ctx, "", horizon, 10) }
	if got, want := h.drain(none), []int{1, 0}; !slices.Equal(got, want) {
		h.t.Errorf("events of no channel: batches %v, want %v", got, want)
	}
	if got := h.head(); got != last.Sequence {
		h.t.Errorf("LastSequence = %d after the sweep, want %d", got, last.Sequence)
	}
	if got := mustRead(h, func(tx store.Tx) ([]domain.Event, error) { return tx.GetEvents(h.ctx, []string{last.ID}) }); len(got) != 1 || got[0].Sequence != last.Sequence {
		h.t.Errorf("the last event was deleted")
	}
	next := h.append(h.event(convB.ID, func(e *domain.Event) { e.ChannelID = chB.ID }))[0]
	if next.Sequence <= last.Sequence {
		h.t.Errorf("the next event got sequence %d, not above %d", next.Sequence, last.Sequence)
	}
}

// testRetentionDeliveries checks DeleteDeliveriesBefore deletes the channel's ended deliveries
// created before the horizon with their attempts, and keeps pending ones and other channels'.
func testRetentionDeliveries(h *harness) {
	hook := h.webhook(firehose)
	ev := func(ch string, t time.Time) domain.Event {
		return h.event("conv-"+ch, func(e *domain.Event) { e.ChannelID, e.Time = ch, t })
	}
	events := h.append(ev("ch-a", old), ev("ch-a", old), ev("ch-a", old), ev("ch-a", young), ev("ch-b", old))
	end := func(i int, state domain.DeliveryState) {
		h.write(func(tx store.Tx) error {
			d, err := tx.GetDelivery(h.ctx, deliveryOf(hook, events[i]))
			if err != nil {
				return err
			}
			d.State = state
			if err := tx.UpdateDeliveries(h.ctx, []domain.Delivery{d}); err != nil {
				return err
			}
			return tx.AddAttempts(h.ctx, []domain.Attempt{{DeliveryID: d.ID, Number: 1, Time: old, StatusCode: 200}})
		})
	}
	end(0, domain.DeliveryStateDelivered)
	end(1, domain.DeliveryStateDead)
	end(3, domain.DeliveryStateDelivered)
	end(4, domain.DeliveryStateDelivered)
	// events[2]'s delivery stays pending.
	del := func(tx store.Tx) (int, error) { return tx.DeleteDeliveriesBefore(h.ctx, "ch-a", horizon, 1) }
	if got, want := h.drain(del), []int{1, 1, 0}; !slices.Equal(got, want) {
		h.t.Errorf("batches deleted %v, want %v", got, want)
	}
	for i, want := range []bool{false, false, true, true, true} {
		id := deliveryOf(hook, events[i])
		_, err := readValue(h, func(tx store.Tx) (domain.Delivery, error) { return tx.GetDelivery(h.ctx, id) })
		if got := err == nil; got != want {
			h.t.Errorf("delivery %d kept = %v (%v), want %v", i, got, err, want)
		}
		attempts := mustRead(h, func(tx store.Tx) (map[string][]domain.Attempt, error) { return tx.ListAttempts(h.ctx, []string{id}) })
		if got := len(attempts[id]) > 0; got != want && i != 2 {
			h.t.Errorf("delivery %d attempts kept = %v, want %v", i, got, want)
		}
	}
}

// testRetentionConversations checks DeleteClosedConversationsBefore deletes the channel's
// closed conversations idle since before the horizon, with their messages and handovers, and
// keeps open ones, those with a live handover, young ones and other channels'.
func testRetentionConversations(h *harness) {
	chA, chB := h.channel(), h.channel()
	closed := func(c *domain.Conversation) { c.State, c.ActiveHandoverID = domain.ConversationClosed, "" }
	gone := h.conversation(chA, closed, withActivity(old))
	h.message(gone, func(m *domain.Message) { m.CreateTime = old.Add(-time.Hour) })
	h.handover(gone, withState(domain.HandoverReleased))
	open := h.conversation(chA, withActivity(old), func(c *domain.Conversation) { c.ActiveHandoverID = "" })
	live := h.conversation(chA, withActivity(old), func(c *domain.Conversation) { c.State = domain.ConversationClosed })
	recent := h.conversation(chA, closed, withActivity(young))
	other := h.conversation(chB, closed, withActivity(old))

	del := func(tx store.Tx) (int, error) {
		return tx.DeleteClosedConversationsBefore(h.ctx, chA.ID, horizon, 10)
	}
	if got, want := h.drain(del), []int{1, 0}; !slices.Equal(got, want) {
		h.t.Errorf("batches deleted %v, want %v", got, want)
	}
	for _, c := range []struct {
		conv domain.Conversation
		kept bool
	}{{gone, false}, {open, true}, {live, true}, {recent, true}, {other, true}} {
		_, err := readValue(h, func(tx store.Tx) (domain.Conversation, error) { return tx.GetConversation(h.ctx, c.conv.ID) })
		if got := err == nil; got != c.kept {
			h.t.Errorf("conversation %s kept = %v (%v), want %v", c.conv.ID, got, err, c.kept)
		}
	}
	if got := storedMessages(h, gone); len(got) != 0 {
		h.t.Errorf("the deleted conversation's messages remain: %v", got)
	}
	if n := mustRead(h, func(tx store.Tx) (int, error) {
		return tx.CountHandovers(h.ctx, store.HandoverQuery{ConversationID: gone.ID})
	}); n != 0 {
		h.t.Errorf("the deleted conversation's %d handovers remain", n)
	}
	if n := mustRead(h, func(tx store.Tx) (int, error) { return tx.CountConversations(h.ctx, chA.ID) }); n != 3 {
		h.t.Errorf("channel A counts %d conversations, want 3", n)
	}
}

// testRetentionLease checks AcquireLease elects one holder at a time, renews its holder's lease,
// and hands it over once expired.
func testRetentionLease(h *harness) {
	acquire := func(holder string, now time.Time) bool {
		h.t.Helper()
		var held bool
		h.write(func(tx store.Tx) error {
			var err error
			held, err = tx.AcquireLease(h.ctx, "sweep", holder, now, now.Add(time.Minute))
			return err
		})
		return held
	}
	steps := []struct {
		holder string
		at     time.Duration
		want   bool
	}{
		{"a", 0, true},
		{"b", 0, false},
		{"a", 30 * time.Second, true}, // renewed until 1m30s
		{"b", time.Minute, false},
		{"b", 90 * time.Second, true}, // expired: b takes it
		{"a", 100 * time.Second, false},
	}
	for _, s := range steps {
		if got := acquire(s.holder, t0.Add(s.at)); got != s.want {
			h.t.Errorf("%s at %v: held = %v, want %v", s.holder, s.at, got, s.want)
		}
	}
	// Leases of other names are independent.
	var held bool
	h.write(func(tx store.Tx) error {
		var err error
		held, err = tx.AcquireLease(h.ctx, "other", "a", t0, t0.Add(time.Minute))
		return err
	})
	if !held {
		h.t.Errorf("a lease of another name was refused")
	}
}
