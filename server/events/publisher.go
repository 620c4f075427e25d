package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/batonhq/baton/server/store"
)

// Publisher makes committed events readable (store.Publish) soon after each write, and wakes
// this process's subscribers when the published sequence moves. Kicks coalesce: a burst of
// writes costs one publication, not one each.
type Publisher struct {
	store  store.Store
	broker *Broker
	kick   chan struct{}
	// Interval is how often it publishes without being kicked, to cover writers that died
	// between their commit and their kick.
	Interval time.Duration
	Logger   *slog.Logger
}

// NewPublisher returns a Publisher; call Run to start it.
func NewPublisher(st store.Store, b *Broker) *Publisher {
	return &Publisher{store: st, broker: b, kick: make(chan struct{}, 1), Interval: time.Second, Logger: slog.Default()}
}

// Kick asks for a publication; it never blocks.
func (p *Publisher) Kick() {
	select {
	case p.kick <- struct{}{}:
	default: // one is pending already
	}
}

// Run publishes on every kick and every interval until ctx ends.
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
		seq, err := p.store.Publish(ctx)
		if err != nil {
			if ctx.Err() == nil {
				p.Logger.ErrorContext(ctx, "publish events", "error", err)
			}
			continue
		}
		if seq != last {
			last = seq
			p.broker.Notify()
		}
	}
}
