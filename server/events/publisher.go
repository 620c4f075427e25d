package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/batonhq/baton/server/store"
)

// Publisher wakes this process's subscribers after writes, when the committed sequence
// (store.LastSequence) has moved. Kicks coalesce: a burst of writes costs one read of the
// sequence, not one each.
type Publisher struct {
	store  store.Store
	broker *Broker
	kick   chan struct{}
	// Interval is how often it looks without being kicked, to cover writers that died between
	// their commit and their kick.
	Interval time.Duration
	Logger   *slog.Logger
}

// NewPublisher returns a Publisher; call Run to start it.
func NewPublisher(st store.Store, b *Broker) *Publisher {
	return &Publisher{store: st, broker: b, kick: make(chan struct{}, 1), Interval: time.Second, Logger: slog.Default()}
}

// Kick asks it to look at the sequence; it never blocks.
func (p *Publisher) Kick() {
	select {
	case p.kick <- struct{}{}:
	default: // one is pending already
	}
}

// Run looks on every kick and every interval until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-t.C:
		}
		seq, err := p.store.LastSequence(ctx)
		if err != nil {
			if ctx.Err() == nil {
				p.Logger.ErrorContext(ctx, "read the last event sequence", "error", err)
			}
			continue
		}
		if seq != last {
			last = seq
			p.broker.Notify()
		}
	}
}
