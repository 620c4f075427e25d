package bot

import (
	"context"
	"sync"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// scheduler runs handlers: one conversation's events one at a time in the order they came,
// different conversations concurrently, at most slots of them at once. It holds at most
// cap(held) events, so a slow bot slows its stream down instead of piling events up.
type scheduler struct {
	handle func(context.Context, *batonv1.SubscribedEvent) bool
	// handled is told of each event whose handler finished (not of those cut short by ctx).
	handled func(seq uint64)

	mu     sync.Mutex
	queues map[string][]*batonv1.SubscribedEvent // by conversation; the head is being handled
	slots  chan struct{}
	held   chan struct{}
	wg     sync.WaitGroup
}

func newScheduler(concurrency, hold int, handle func(context.Context, *batonv1.SubscribedEvent) bool, handled func(uint64)) *scheduler {
	return &scheduler{
		handle: handle, handled: handled,
		queues: map[string][]*batonv1.SubscribedEvent{},
		slots:  make(chan struct{}, concurrency),
		held:   make(chan struct{}, hold),
	}
}

// add queues an event behind its conversation's earlier ones; it waits while the scheduler
// holds as many events as it may.
func (s *scheduler) add(ctx context.Context, e *batonv1.SubscribedEvent) error {
	select {
	case s.held <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	key := e.GetEvent().GetConversationId() // events of no conversation share the "" queue
	s.mu.Lock()
	q, busy := s.queues[key]
	s.queues[key] = append(q, e)
	s.mu.Unlock()
	if !busy {
		s.wg.Add(1)
		go s.drain(ctx, key)
	}
	return nil
}

// drain handles a conversation's queue until it is empty, or ctx ends.
func (s *scheduler) drain(ctx context.Context, key string) {
	defer s.wg.Done()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		s.drop(key)
		return
	}
	for {
		s.mu.Lock()
		e := s.queues[key][0]
		s.mu.Unlock()
		if !s.handle(ctx, e) { // the bot stopped before the handler was done with it
			s.drop(key)
			return
		}
		s.handled(e.GetEvent().GetSequence())
		<-s.held
		s.mu.Lock()
		q := s.queues[key][1:]
		if len(q) == 0 {
			delete(s.queues, key)
			s.mu.Unlock()
			return
		}
		s.queues[key] = q
		s.mu.Unlock()
	}
}

// drop forgets a conversation's unhandled events when the bot stops.
func (s *scheduler) drop(key string) {
	s.mu.Lock()
	n := len(s.queues[key])
	delete(s.queues, key)
	s.mu.Unlock()
	for range n {
		<-s.held
	}
}

// wait returns once every handler has returned.
func (s *scheduler) wait() { s.wg.Wait() }

// tracker finds the cursor to save: the last sequence up to which every event was handled.
// Conversations finish out of order, and the cursor must not pass an event still waiting.
type tracker struct {
	save func(seq uint64)

	mu   sync.Mutex
	seqs []uint64 // received and not yet behind the cursor, in order
	done map[uint64]bool
}

func newTracker(save func(uint64)) *tracker {
	return &tracker{save: save, done: map[uint64]bool{}}
}

// received notes an event before it is scheduled.
func (t *tracker) received(seq uint64) {
	t.mu.Lock()
	t.seqs = append(t.seqs, seq)
	t.mu.Unlock()
}

// handled notes an event's handler finished, and saves the cursor when it moves. Saving under
// the lock keeps saves in order.
func (t *tracker) handled(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done[seq] = true
	n := 0
	for n < len(t.seqs) && t.done[t.seqs[n]] {
		delete(t.done, t.seqs[n])
		n++
	}
	if n > 0 {
		last := t.seqs[n-1]
		t.seqs = t.seqs[n:]
		t.save(last)
	}
}
