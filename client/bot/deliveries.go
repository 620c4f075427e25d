package bot

import (
	"context"
	"sync"
)

// deliveries runs each webhook delivery's handler once: it remembers the ids of the last
// handled deliveries (a bounded number, oldest forgotten first), and makes a repeat that
// arrives while the first is still being handled wait for its outcome.
type deliveries struct {
	mu      sync.Mutex
	done    map[string]struct{}
	order   []string // done's ids, a ring; next is the oldest once it is full
	next    int
	running map[string]chan struct{}
}

func newDeliveries(remember int) *deliveries {
	return &deliveries{done: map[string]struct{}{}, order: make([]string, 0, remember), running: map[string]chan struct{}{}}
}

// once runs f for id unless a run for id already succeeded. An id that failed may run again.
func (d *deliveries) once(ctx context.Context, id string, f func() error) error {
	for {
		d.mu.Lock()
		if _, ok := d.done[id]; ok {
			d.mu.Unlock()
			return nil
		}
		wait, busy := d.running[id]
		if !busy {
			break // still locked
		}
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	finished := make(chan struct{})
	d.running[id] = finished
	d.mu.Unlock()

	err := f()

	d.mu.Lock()
	delete(d.running, id)
	if err == nil {
		d.remember(id)
	}
	d.mu.Unlock()
	close(finished)
	return err
}

// remember adds id, forgetting the oldest when full. d.mu is held.
func (d *deliveries) remember(id string) {
	if len(d.order) < cap(d.order) {
		d.order = append(d.order, id)
	} else {
		delete(d.done, d.order[d.next])
		d.order[d.next] = id
		d.next = (d.next + 1) % len(d.order)
	}
	d.done[id] = struct{}{}
}
