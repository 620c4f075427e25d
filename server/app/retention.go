package app

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Retention sweep: each channel's messages, events and delivery log older than its retention
// (domain.Retention, its unset fields the server's default) are deleted in batches of their own
// short transactions, so that no lock is held for long. With several replicas on one database,
// one sweeps at a time: each batch renews a lease in its own transaction, and a replica that
// does not hold the lease deletes nothing.

// retentionLease names the sweeper's lease.
const retentionLease = "retention"

// DefaultRetentionBatch is how many rows one batch deletes at most.
const DefaultRetentionBatch = 500

// DefaultRetentionLease is how long a sweeper holds the lease without renewing it: the longest
// a replica that died while sweeping keeps the others from taking over.
const DefaultRetentionLease = time.Minute

// maxSweepBatches bounds the batches of one pass; the next pass goes on where it stopped.
const maxSweepBatches = 2000

// Sweeper deletes what is older than its retention.
type Sweeper struct {
	App *App
	// Default is the server's retention, for what a channel leaves unset; zero fields keep
	// forever.
	Default domain.Retention
	// Holder names this sweeper in the lease; a random name when empty.
	Holder string
	// Batch bounds the rows of one transaction; DefaultRetentionBatch when zero.
	Batch int
	// Lease is how long a batch's lease lasts; DefaultRetentionLease when zero.
	Lease time.Duration
	// Interval is how often Run sweeps.
	Interval time.Duration
	// OnError is told about a failed pass; the next pass retries.
	OnError func(error)
}

// Swept counts what one pass deleted. Held is false when another sweeper held the lease, and
// the pass deleted nothing.
type Swept struct {
	Messages, Events, Deliveries, Conversations int
	Batches                                     int
	Held                                        bool
}

// errLeaseLost stops a pass whose lease another sweeper took.
var errLeaseLost = errors.New("retention: another sweeper holds the lease")

// Sweep runs one pass at the app's current time.
func (s *Sweeper) Sweep(ctx context.Context) (Swept, error) {
	if s.Holder == "" {
		s.Holder = rand.Text()
	}
	var out Swept
	channels, err := s.targets(ctx)
	if err != nil {
		return out, err
	}
	out.Held = true
	for _, t := range channels {
		err := s.sweepChannel(ctx, t, &out)
		if errors.Is(err, errLeaseLost) {
			out.Held = out.Batches > 0
			return out, nil
		}
		if err != nil || out.Batches >= maxSweepBatches {
			return out, err
		}
	}
	return out, nil
}

// target is one channel's retention, defaults applied; the channel "" holds the events (and
// their deliveries) of no channel, kept by the server's default.
type target struct {
	channelID string
	keep      domain.Retention
}

func (s *Sweeper) targets(ctx context.Context) ([]target, error) {
	out := []target{{"", domain.Retention{Messages: domain.Forever, Events: s.Default.Events, Deliveries: s.Default.Deliveries}}}
	page := store.Page{Size: 500}
	for {
		var list []domain.Channel
		var next string
		err := s.App.read(ctx, func(tx store.Tx) error {
			var err error
			list, next, err = tx.ListChannels(ctx, "", page)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			out = append(out, target{c.ID, c.Retention.Or(s.Default)})
		}
		if next == "" {
			return out, nil
		}
		page.Cursor = next
	}
}

// sweepChannel deletes what the channel keeps no longer: deliveries before the events they
// deliver, messages before the closed conversations they belong to.
func (s *Sweeper) sweepChannel(ctx context.Context, t target, out *Swept) error {
	kinds := []struct {
		keep  time.Duration
		count *int
		del   deleter
	}{
		{t.keep.Deliveries, &out.Deliveries, store.Tx.DeleteDeliveriesBefore},
		{t.keep.Events, &out.Events, store.Tx.DeleteEventsBefore},
		{t.keep.Messages, &out.Messages, store.Tx.DeleteMessagesBefore},
		{t.keep.Messages, &out.Conversations, store.Tx.DeleteClosedConversationsBefore},
	}
	for _, k := range kinds {
		if err := s.sweepKind(ctx, t.channelID, k.keep, k.count, out, k.del); err != nil {
			return err
		}
	}
	return nil
}

// deleter is one of the store's retention deletions.
type deleter func(tx store.Tx, ctx context.Context, channelID string, before time.Time, limit int) (int, error)

// sweepKind deletes one kind of the channel's rows, a batch per transaction, until a batch
// finds fewer than it may delete.
func (s *Sweeper) sweepKind(ctx context.Context, channelID string, keep time.Duration, count *int, out *Swept, del deleter) error {
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultRetentionBatch
	}
	lease := s.Lease
	if lease <= 0 {
		lease = DefaultRetentionLease
	}
	for out.Batches < maxSweepBatches {
		now := s.App.Now()
		before, ok := domain.Horizon(now, keep)
		if !ok {
			return nil
		}
		var n int
		err := s.App.write(ctx, func(tx store.Tx) error {
			held, err := tx.AcquireLease(ctx, retentionLease, s.Holder, now, now.Add(lease))
			if err != nil {
				return err
			}
			if !held {
				return errLeaseLost
			}
			n, err = del(tx, ctx, channelID, before, batch)
			return err
		})
		if err != nil {
			return err
		}
		out.Batches++
		*count += n
		if n < batch {
			return nil
		}
	}
	return nil
}

// Run sweeps every Interval until ctx is done.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && s.OnError != nil && ctx.Err() == nil {
				s.OnError(err)
			}
		}
	}
}
