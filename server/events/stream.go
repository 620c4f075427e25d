// Package events streams the event log to subscribers: from a cursor, in sequence order,
// waking when new events are stored instead of polling hard.
package events

import (
	"context"
	"sync"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Broker wakes every waiting subscriber when events are stored.
type Broker struct {
	mu   sync.Mutex
	wake chan struct{}
}

// NewBroker returns a Broker.
func NewBroker() *Broker { return &Broker{wake: make(chan struct{})} }

// Notify wakes the current waiters.
func (b *Broker) Notify() {
	b.mu.Lock()
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}

// Wait returns a channel closed at the next Notify. Take it before reading, so a commit
// between the read and the wait is not missed.
func (b *Broker) Wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wake
}

// Batch is the most events read and sent at once.
const Batch = 500

// DefaultPollInterval is the fallback re-read interval, in case a wake-up was lost (a database
// notification during a reconnect, say).
const DefaultPollInterval = time.Second

// Stream sends, in sequence order, every event matching f with a sequence above after, then
// keeps sending new ones until ctx ends or send fails. Events committed together are sent
// together. It re-reads when the broker wakes it, and every poll interval regardless.
func Stream(ctx context.Context, st store.Store, b *Broker, poll time.Duration, after uint64, f store.EventFilter, send func([]domain.Event) error) error {
	for {
		wake := b.Wait()
		var batch []domain.Event
		err := st.Read(ctx, func(tx store.Tx) error {
			var err error
			batch, err = tx.ListEvents(ctx, after, f, Batch)
			return err
		})
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := send(batch); err != nil {
				return err
			}
			after = batch[len(batch)-1].Sequence
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(poll):
		}
	}
}

// Head returns the last stored sequence: where a subscription "from now" starts.
func Head(ctx context.Context, st store.Store) (uint64, error) {
	var seq uint64
	err := st.Read(ctx, func(tx store.Tx) error {
		var err error
		seq, err = tx.LastSequence(ctx)
		return err
	})
	return seq, err
}
