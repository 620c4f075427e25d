package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// retentionWorld is an App on st with a clock only the test moves, and two channels: A keeps
// messages and events two hours, B follows the server's default (forever).
type retentionWorld struct {
	t      *testing.T
	app    *App
	clock  *testClock
	chA    domain.Channel
	chB    domain.Channel
	nextID int
}

func newRetentionWorld(t *testing.T, st store.Store) *retentionWorld {
	t.Helper()
	w := &retentionWorld{t: t, clock: &testClock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}}
	w.app = New(Config{Store: st, Clock: w.clock})
	ctx := t.Context()
	if err := w.app.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	keep := domain.Retention{Messages: 2 * time.Hour, Events: 2 * time.Hour}
	if w.chA, err = w.app.CreateChannel(ctx, chatAdmin, domain.Channel{Kind: domain.ChannelGeneric, ExternalID: "a", Retention: keep}, ""); err != nil {
		t.Fatal(err)
	}
	if w.chB, err = w.app.CreateChannel(ctx, chatAdmin, domain.Channel{Kind: domain.ChannelGeneric, ExternalID: "b"}, ""); err != nil {
		t.Fatal(err)
	}
	return w
}

// ingest stores n messages of one customer on ch and returns the conversation.
func (w *retentionWorld) ingest(ch domain.Channel, customer string, n int) domain.Conversation {
	w.t.Helper()
	var conv domain.Conversation
	for range n {
		w.nextID++
		out, err := w.app.Ingest(w.t.Context(), chatAdmin, Inbound{
			ChannelID: ch.ID, Contact: domain.Contact{ExternalID: customer}, ChannelMessageID: fmt.Sprint("m", w.nextID),
			Content: json.RawMessage(`{"text":{"text":"hi"}}`),
		})
		if err != nil {
			w.t.Fatal(err)
		}
		conv = out.Conversation
	}
	return conv
}

func (w *retentionWorld) messages(conv domain.Conversation) int {
	w.t.Helper()
	var n int
	err := w.app.store.Read(w.t.Context(), func(tx store.Tx) error {
		list, _, err := tx.ListMessages(w.t.Context(), conv.ID, store.Page{Size: 1000})
		n = len(list)
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// events lists every stored event of a channel.
func (w *retentionWorld) events(ch domain.Channel) []domain.Event {
	w.t.Helper()
	list, _, err := w.app.ListEvents(w.t.Context(), chatAdmin, 0, store.EventFilter{ChannelID: ch.ID}, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

// stored counts the events of a channel still stored, swept marks aside.
func (w *retentionWorld) stored(ch domain.Channel) int {
	w.t.Helper()
	var n int
	err := w.app.store.Read(w.t.Context(), func(tx store.Tx) error {
		list, err := tx.ListEvents(w.t.Context(), 0, store.EventFilter{ChannelID: ch.ID}, 100_000)
		n = len(list)
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// TestSweepDeletesWhatIsOlderPerChannel sweeps channel A's old messages and events in batches of
// two, leaves its young ones and channel B alone, and then answers a read from before the sweep
// with EventsGoneError naming the earliest sequence left.
func TestSweepDeletesWhatIsOlderPerChannel(t *testing.T) {
	w := newRetentionWorld(t, testStore(t))
	ctx := t.Context()
	convA := w.ingest(w.chA, "alice", 5)
	convB := w.ingest(w.chB, "bob", 5)
	oldA, oldB := w.events(w.chA), w.events(w.chB)
	w.clock.Advance(3 * time.Hour)
	w.ingest(w.chA, "alice", 2)
	youngA := w.events(w.chA)[len(oldA):]

	sw := &Sweeper{App: w.app, Batch: 2}
	swept, err := sw.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !swept.Held || swept.Messages != 5 || swept.Events != len(oldA) {
		t.Errorf("swept %+v, want the lease held, 5 messages and %d events", swept, len(oldA))
	}
	if got := w.messages(convA); got != 2 {
		t.Errorf("channel A keeps %d messages, want the 2 young ones", got)
	}
	if got := w.messages(convB); got != 5 {
		t.Errorf("channel B keeps %d messages, want its 5", got)
	}
	if got := len(w.events(w.chB)); got != len(oldB) {
		t.Errorf("channel B keeps %d events, want its %d", got, len(oldB))
	}

	// A reader of channel A from before the sweep is told where to resume.
	_, _, err = w.app.ListEvents(ctx, chatAdmin, 0, store.EventFilter{ChannelID: w.chA.ID}, 100)
	var gone *domain.EventsGoneError
	if !errors.As(err, &gone) || gone.Earliest != oldA[len(oldA)-1].Sequence+1 {
		t.Fatalf("ListEvents from 0 = %v, want EventsGoneError with the earliest %d", err, oldA[len(oldA)-1].Sequence+1)
	}
	list, _, err := w.app.ListEvents(ctx, chatAdmin, gone.Earliest-1, store.EventFilter{ChannelID: w.chA.ID}, 100)
	if err != nil || len(list) != len(youngA) || list[0].ID != youngA[0].ID {
		t.Errorf("ListEvents from the earliest = %d events, %v; want the %d young ones", len(list), err, len(youngA))
	}

	// A second pass finds nothing more; nor does one once the young ones are old, beyond them.
	if swept, err := sw.Sweep(ctx); err != nil || swept.Messages+swept.Events != 0 {
		t.Errorf("second pass swept %+v, %v; want nothing", swept, err)
	}
}

// TestSweepOneReplicaAtATime runs the sweep of two replicas on one PostgreSQL database at once,
// several times: in each round one of them holds the lease and sweeps, the other deletes
// nothing, and together they delete every old row once and no young one.
func TestSweepOneReplicaAtATime(t *testing.T) {
	url := pgtest.URL(t)
	open := func() *postgres.Store {
		st, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	w := newRetentionWorld(t, open())
	other := New(Config{Store: open(), Clock: w.clock})
	ctx := t.Context()
	sweepers := []*Sweeper{
		{App: w.app, Holder: "replica-1", Batch: 3},
		{App: other, Holder: "replica-2", Batch: 3},
	}
	const rounds, customers, perCustomer = 3, 4, 5
	for round := range rounds {
		var convs []domain.Conversation
		for c := range customers {
			convs = append(convs, w.ingest(w.chA, fmt.Sprintf("r%d-c%d", round, c), perCustomer))
		}
		oldMessages := customers * perCustomer
		if round > 0 {
			oldMessages++ // the last round's young message is old now
		}
		oldEvents := w.stored(w.chA)
		w.clock.Advance(3 * time.Hour) // past retention, and past the last round's lease
		w.ingest(w.chA, fmt.Sprintf("r%d-young", round), 1)
		youngEvents := w.stored(w.chA) - oldEvents

		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]Swept, len(sweepers))
		errs := make([]error, len(sweepers))
		for i, s := range sweepers {
			wg.Go(func() {
				<-start
				results[i], errs[i] = s.Sweep(ctx)
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		held, messages, events := 0, 0, 0
		for _, r := range results {
			if r.Held {
				held++
			} else if r.Messages+r.Events+r.Deliveries+r.Conversations != 0 {
				t.Errorf("round %d: a sweeper without the lease deleted %+v", round, r)
			}
			messages += r.Messages
			events += r.Events
		}
		if held != 1 {
			t.Errorf("round %d: %d sweepers held the lease (%+v), want 1", round, held, results)
		}
		if messages != oldMessages || events != oldEvents {
			t.Errorf("round %d: swept %d messages and %d events, want %d and %d", round, messages, events, oldMessages, oldEvents)
		}
		for _, c := range convs {
			if n := w.messages(c); n != 0 {
				t.Errorf("round %d: conversation %s keeps %d old messages", round, c.ID, n)
			}
		}
		if left := w.stored(w.chA); left != youngEvents {
			t.Errorf("round %d: %d events left, want the %d young ones", round, left, youngEvents)
		}
	}
}

// TestSweepStopsWhenItLosesTheLease has another holder take the lease (expired) in the middle of
// a pass: the pass stops at its next batch instead of sweeping beside it.
func TestSweepStopsWhenItLosesTheLease(t *testing.T) {
	w := newRetentionWorld(t, testStore(t))
	ctx := t.Context()
	w.ingest(w.chA, "alice", 6)
	w.clock.Advance(3 * time.Hour)
	now := w.clock.Now()
	err := w.app.store.Write(ctx, func(tx store.Tx) error {
		held, err := tx.AcquireLease(ctx, retentionLease, "elsewhere", now, now.Add(time.Minute))
		if err == nil && !held {
			err = errors.New("the lease was not free")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	swept, err := (&Sweeper{App: w.app, Batch: 2}).Sweep(ctx)
	if err != nil || swept.Held || swept.Messages != 0 {
		t.Errorf("sweep beside a live lease = %+v, %v; want nothing held or deleted", swept, err)
	}
	w.clock.Advance(time.Minute) // the other holder's lease expires
	swept, err = (&Sweeper{App: w.app, Batch: 2}).Sweep(ctx)
	if err != nil || !swept.Held || swept.Messages != 6 {
		t.Errorf("sweep after the lease expired = %+v, %v; want the 6 messages", swept, err)
	}
}
