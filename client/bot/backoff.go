package bot

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a capped exponential schedule with jitter. Attempt n (from 1) waits
// min(Max, Initial·2^(n-1)) less a random part of it up to Jitter, so that bots cut off by one
// outage do not all come back at the same instant. Zero fields take DefaultBackoff's values.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// Jitter is the largest fraction of a delay taken off at random, in [0, 1).
	Jitter float64
}

// DefaultBackoff waits 0.5 s, 1 s, 2 s, ... up to 30 s, each up to a fifth shorter.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.2}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Jitter <= 0 || b.Jitter >= 1 {
		b.Jitter = DefaultBackoff.Jitter
	}
	return b
}

// Delay returns how long to wait before attempt n+1, after n failures.
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(rand.Float64()*b.Jitter*float64(d))
}

// sleep waits d, or less when ctx ends first (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
