package store

import (
	"slices"
	"sync"
)

// Batcher lets concurrent callers share the cost of their requests (group commit): requests
// queue, and one caller at a time runs a batch of the oldest. The first caller to find the
// batcher idle runs a batch, then hands the batcher to the oldest caller still waiting, so no
// caller runs more than the one batch its own request is in, however busy the batcher is.
type Batcher[R any] struct {
	// Max bounds a batch: how long its callers wait for its slowest request.
	Max int

	mu      sync.Mutex
	pending []*waiter[R]
	running bool // a caller is running a batch; false only when pending is empty
}

type waiter[R any] struct {
	req  R
	lead chan struct{} // this caller is to run the next batch
	done chan struct{} // closed once a batch with req has run
}

// Do queues req and returns once run has run a batch holding it. run gets the requests of a
// batch, oldest first, and reports each one's outcome through the request itself.
func (b *Batcher[R]) Do(req R, run func(batch []R)) {
	w := &waiter[R]{req: req, lead: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, w)
	if !b.running {
		b.running = true
		w.lead <- struct{}{}
	}
	b.mu.Unlock()
	for {
		select {
		case <-w.done:
			return
		case <-w.lead:
			b.runBatch(run) // w is the oldest waiting, so it is in this batch
		}
	}
}

func (b *Batcher[R]) runBatch(run func([]R)) {
	b.mu.Lock()
	waiters := slices.Clone(b.pending[:min(len(b.pending), max(b.Max, 1))])
	b.pending = slices.Delete(b.pending, 0, len(waiters))
	b.mu.Unlock()

	batch := make([]R, len(waiters))
	for i, w := range waiters {
		batch[i] = w.req
	}
	run(batch)
	for _, w := range waiters {
		close(w.done)
	}

	b.mu.Lock()
	if len(b.pending) > 0 {
		b.pending[0].lead <- struct{}{}
	} else {
		b.running = false
	}
	b.mu.Unlock()
}

// Queued returns how many requests wait, the running batch's aside.
func (b *Batcher[R]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}
