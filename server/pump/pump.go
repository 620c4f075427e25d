// Package pump runs leased background work: it claims due jobs from a store, works each on a
// goroutine of its own, up to a bound, and claims again as they finish, when kicked, and every
// interval. The webhook dispatcher and the channel outbox both run on it.
package pump

import (
	"context"
	"sync"
	"time"
)

// Pump claims and works jobs of type J.
type Pump[J any] struct {
	// Claim leases up to n due jobs to this process.
	Claim func(ctx context.Context, n int) ([]J, error)
	// Work does one job. Its context outlives Run's: a claimed job is finished, not dropped,
	// since an unrecorded one would only be done again once its lease ran out.
	Work func(ctx context.Context, job J)
	// ClaimFailed hears about a failed claim (Run goes on).
	ClaimFailed func(ctx context.Context, err error)
	// Concurrency bounds jobs in flight.
	Concurrency int
	// Batch is the fewest free slots worth a claim while jobs are in flight (a claim costs a
	// query whatever its size); 1 claims as soon as a slot frees.
	Batch int
	// Interval is how often it claims without being kicked (for work that became due).
	Interval time.Duration

	kick chan struct{}
	once sync.Once
}

// Kick asks for a claim now; it never blocks.
func (p *Pump[J]) Kick() {
	select {
	case p.kicks() <- struct{}{}:
	default: // one is pending already
	}
}

func (p *Pump[J]) kicks() chan struct{} {
	p.once.Do(func() { p.kick = make(chan struct{}, 1) })
	return p.kick
}

// Run claims and works jobs until ctx ends, then waits for the jobs in flight.
func (p *Pump[J]) Run(ctx context.Context) {
	concurrency := max(1, p.Concurrency)
	batch := min(max(1, p.Batch), concurrency)
	slots := make(chan struct{}, concurrency)
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		if free := concurrency - len(slots); free >= batch {
			jobs, err := p.Claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				p.ClaimFailed(ctx, err)
			}
			for _, job := range jobs {
				slots <- struct{}{}
				inFlight.Go(func() {
					defer func() { <-slots; p.Kick() }() // what waited behind this job may go
					p.Work(context.WithoutCancel(ctx), job)
				})
			}
			if len(jobs) == free {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kicks():
		case <-tick.C:
		}
	}
}
