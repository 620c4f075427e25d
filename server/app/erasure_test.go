package app

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// crashingStore stands for a server that stops: once its writes are spent, every Write fails
// without running.
type crashingStore struct {
	store.Store
	writes atomic.Int64 // Writes done
	left   atomic.Int64 // Writes left before the crash; negative: no crash
}

var errCrashed = errors.New("the server stopped")

func (s *crashingStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	if s.left.Add(-1) == -1 {
		s.left.Store(0)
		return errCrashed
	}
	s.writes.Add(1)
	return s.Store.Write(ctx, fn)
}

// TestErasureResumesAfterACrash stops an erasure half-way, batch boundaries being the only
// places a crash leaves visible, and checks that what is left is finished by the timers once the
// erasure is old enough, or by a repeated call, with one contact.erased event in the end.
func TestErasureResumesAfterACrash(t *testing.T) {
	ctx := context.Background()
	st := &crashingStore{Store: testStore(t)}
	st.left.Store(-1 << 40)
	clk := &testClock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	a := New(Config{Store: st, Clock: clk})
	a.eraseBatch = 2
	if err := a.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	ch := chatChannel(t, a, domain.ChannelGeneric, "whsec_x")
	const messages = 7
	var contact domain.Contact
	for i := range messages {
		in, err := a.Ingest(ctx, chatAdmin, Inbound{
			ChannelID: ch.ID, Contact: domain.Contact{ExternalID: "customer-1", DisplayName: "Ada"},
			ChannelMessageID: fmt.Sprint("m", i), Content: []byte(`{"text":{"text":"secret"}}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		contact = in.Contact
	}

	// Start, then one batch of messages, then the crash.
	st.left.Store(2)
	if _, err := a.EraseContact(ctx, chatAdmin, contact.ID); !errors.Is(err, errCrashed) {
		t.Fatalf("EraseContact = %v, want the crash", err)
	}
	st.left.Store(-1 << 40)
	er := erasureOf(t, a, contact.ID)
	if er.Complete() {
		t.Fatal("the erasure completed before the crash")
	}
	if erased, _ := messagesErased(t, a, er.ConversationID); erased != 2 {
		t.Fatalf("%d messages erased before the crash, want one batch of 2", erased)
	}
	if got := erasedEvents(t, a); got != 0 {
		t.Fatalf("%d contact.erased events before the erasure completed", got)
	}

	// The timers leave a young erasure to the call that may still run it...
	clk.Advance(erasureResumeAfter - time.Second)
	if err := a.RunTimers(ctx); err != nil {
		t.Fatal(err)
	}
	if erasureOf(t, a, contact.ID).Complete() {
		t.Fatal("the timers finished an erasure that may still be running")
	}
	// ...and finish an old one, in batches.
	clk.Advance(2 * time.Second)
	before := st.writes.Load()
	if err := a.RunTimers(ctx); err != nil {
		t.Fatal(err)
	}
	if !erasureOf(t, a, contact.ID).Complete() {
		t.Fatal("the timers did not finish the erasure")
	}
	if erased, total := messagesErased(t, a, er.ConversationID); erased != total || total != messages {
		t.Errorf("%d of %d messages erased, want all %d", erased, total, messages)
	}
	if writes := st.writes.Load() - before; writes < (messages-2)/2 {
		t.Errorf("the rest was erased in %d writes, want batches of 2", writes)
	}
	if got := erasedEvents(t, a); got != 1 {
		t.Errorf("%d contact.erased events, want 1", got)
	}
	c, err := a.GetContact(ctx, chatAdmin, contact.ID)
	if err != nil || !c.Erased() || c.DisplayName != "" {
		t.Errorf("contact after the erasure = %+v, %v", c, err)
	}

	// A repeat returns the erasure as it is and announces nothing.
	again, err := a.EraseContact(ctx, chatAdmin, contact.ID)
	if err != nil || !again.Complete() {
		t.Fatalf("a repeat = %+v, %v", again, err)
	}
	if got := erasedEvents(t, a); got != 1 {
		t.Errorf("%d contact.erased events after a repeat, want 1", got)
	}
}

func erasureOf(t *testing.T, a *App, contactID string) domain.Erasure {
	t.Helper()
	var er domain.Erasure
	err := a.read(context.Background(), func(tx store.Tx) error {
		var err error
		er, err = tx.GetErasure(context.Background(), contactID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return er
}

func messagesErased(t *testing.T, a *App, conversationID string) (erased, total int) {
	t.Helper()
	list, _, err := a.ListMessages(context.Background(), chatAdmin, conversationID, store.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Erased {
			erased++
		}
	}
	return erased, len(list)
}

func erasedEvents(t *testing.T, a *App) int {
	t.Helper()
	list, _, err := a.ListEvents(context.Background(), chatAdmin, 0, store.EventFilter{Types: []domain.EventType{domain.EventContactErased}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}
