package store

import (
	"errors"
	"slices"
	"sync"
)

// ErrBatchPanicked is what Batcher.Do returns to the callers whose batch was cut short by a
// panic (the caller running it panics itself).
var ErrBatchPanicked = errors.New("store: the batch of this request panicked")

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
	req      R
	lead     chan struct{} // this caller is to run the next batch
	done     chan struct{} // closed once a batch with req has run
	panicked bool          // set before done is closed
}

// Do queues req and returns once run has run a batch holding it. run gets the requests of a
// batch, oldest first, and reports each one's outcome through the request itself; Do returns
// ErrBatchPanicked when run panicked instead.
func (b *Batcher[R]) Do(req R, run func(batch []R)) error {
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
			if w.panicked {
				return ErrBatchPanicked
			}
			return nil
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

	// Whatever run does, its callers hear of it and the next batch runs: a panic must not leave
	// every later request waiting.
	completed := false
	defer func() {
		for _, w := range waiters {
			w.panicked = !completed
			close(w.done)
		}
		b.mu.Lock()
		if len(b.pending) > 0 {
			b.pending[0].lead <- struct{}{}
		} else {
			b.running = false
		}
		b.mu.Unlock()
	}()
	batch := make([]R, len(waiters))
	for i, w := range waiters {
		batch[i] = w.req
	}
	run(batch)
	completed = true
}

// Queued returns how many requests wait, the running batch's aside.
func (b *Batcher[R]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}
