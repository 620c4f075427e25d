package bot

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

func event(conv string, seq uint64) *batonv1.SubscribedEvent {
	return &batonv1.SubscribedEvent{Event: &batonv1.Event{ConversationId: conv, Sequence: seq}}
}

// TestSchedulerOrdersEachConversationAndBoundsConcurrency feeds interleaved events of several
// conversations: each conversation's run one at a time in order, conversations run side by side
// (the first two wait for each other, which a serial scheduler would never let happen), and
// never more at once than the bound.
func TestSchedulerOrdersEachConversationAndBoundsConcurrency(t *testing.T) {
	const convs, perConv, bound = 5, 40, 2
	var (
		mu       sync.Mutex
		order    = map[string][]uint64{}
		busy     = map[string]bool{}
		running  atomic.Int32
		peak     atomic.Int32
		barrier  sync.WaitGroup
		finished = make(chan uint64, convs*perConv)
	)
	barrier.Add(2)
	handle := func(ctx context.Context, e *batonv1.SubscribedEvent) bool {
		conv, seq := e.GetEvent().GetConversationId(), e.GetEvent().GetSequence()
		mu.Lock()
		if busy[conv] {
			t.Errorf("two handlers of %s at once", conv)
		}
		busy[conv] = true
		mu.Unlock()
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if seq <= 2 { // the first events of c0 and c1
			barrier.Done()
			barrier.Wait()
		}
		running.Add(-1)
		mu.Lock()
		busy[conv] = false
		order[conv] = append(order[conv], seq)
		mu.Unlock()
		return true
	}
	s := newScheduler(bound, 16, handle, func(seq uint64) { finished <- seq })
	ctx := t.Context()
	seq := uint64(0)
	for range perConv {
		for c := range convs {
			seq++
			if err := s.add(ctx, event(fmt.Sprintf("c%d", c), seq)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range seq {
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatal("the scheduler stalled")
		}
	}
	s.wait()
	for conv, got := range order {
		if len(got) != perConv || !slices.IsSorted(got) {
			t.Errorf("%s handled %v", conv, got)
		}
	}
	if p := peak.Load(); p > bound {
		t.Errorf("%d conversations handled at once, bound %d", p, bound)
	}
}

func TestTrackerSavesOnlyPastHandledEvents(t *testing.T) {
	var saved []uint64
	tr := newTracker(func(seq uint64) { saved = append(saved, seq) })
	for _, seq := range []uint64{3, 5, 8, 9} {
		tr.received(seq)
	}
	tr.handled(5) // 3 still runs
	tr.handled(9)
	if len(saved) != 0 {
		t.Fatalf("saved %v while event 3 was running", saved)
	}
	tr.handled(3)
	tr.handled(8)
	if !slices.Equal(saved, []uint64{5, 9}) {
		t.Fatalf("saved %v, want [5 9]", saved)
	}
}

func TestBackoffDoublesUpToItsCapWithJitter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: 0.25}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		for range 100 {
			if d := b.Delay(i + 1); d > w || d < w*3/4 {
				t.Fatalf("attempt %d waits %v, want within [%v, %v]", i+1, d, w*3/4, w)
			}
		}
	}
}

func TestDeliveriesForgetTheOldestBeyondTheirBound(t *testing.T) {
	d := newDeliveries(2)
	runs := map[string]int{}
	run := func(id string) {
		d.once(t.Context(), id, func() error { runs[id]++; return nil })
	}
	for _, id := range []string{"a", "b", "c", "c", "b", "a"} {
		run(id)
	}
	if runs["a"] != 2 || runs["b"] != 1 || runs["c"] != 1 {
		t.Fatalf("runs %v: want a forgotten (twice), b and c remembered", runs)
	}
	if len(d.done) != 2 {
		t.Fatalf("remembers %d ids, bound 2", len(d.done))
	}
}

// TestUnsentIsOnlyAFailedDial: a call to a closed port was never sent, and so may be retried
// even without a request id.
func TestUnsentIsOnlyAFailedDial(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = client.New("http://"+addr, "key").Conversations.GetConversation(t.Context(), &batonv1.GetConversationRequest{ConversationId: "c"})
	if !unsent(err) || !transient(err) {
		t.Fatalf("a refused dial: unsent %v, transient %v (%v)", unsent(err), transient(err), err)
	}
	if unsent(context.DeadlineExceeded) {
		t.Fatal("a deadline is not a failed dial")
	}
}

// TestSchedulerCountsAHandlerThatFinishedAsTheBotStopped: an event whose handler finished is
// handled, even when the bot stopped at that moment; one the bot stopped before is not, so that
// it runs again when the bot resumes.
func TestSchedulerCountsAHandlerThatFinishedAsTheBotStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var handled []uint64
	s := newScheduler(1, 16, func(_ context.Context, e *batonv1.SubscribedEvent) bool {
		cancel() // the bot stops while this handler finishes its work
		return e.GetEvent().GetSequence() == 1
	}, func(seq uint64) { handled = append(handled, seq) })
	if err := s.add(ctx, event("c", 1)); err != nil {
		t.Fatal(err)
	}
	s.wait()
	if len(handled) != 1 || handled[0] != 1 {
		t.Fatalf("handled %v, want [1]", handled)
	}
}
