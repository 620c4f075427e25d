// Package ratelimit keeps one noisy caller from starving the others: a token bucket per API key
// and per channel webhook. Limits are per server: with N replicas behind a balancer, a caller
// spread over all of them gets up to N times the rate.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket's refill rate and depth.
type Rate struct {
	// PerSecond is the sustained rate; no limit when zero or negative.
	PerSecond float64
	// Burst is how many requests may come at once; max(1, PerSecond) when zero.
	Burst int
}

// Limiter holds a token bucket per key. Buckets idle long enough to have refilled are dropped,
// since a new one is the same, so memory follows the keys active within that time. A nil
// *Limiter limits nothing.
type Limiter struct {
	rate  rate.Limit
	burst int
	idle  time.Duration // how long a bucket takes to refill from empty
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	nextSweep time.Time
}

type bucket struct {
	limiter *rate.Limiter
	used    time.Time
}

// New returns a limiter at r, or nil when r sets no limit.
func New(r Rate) *Limiter {
	if r.PerSecond <= 0 {
		return nil
	}
	burst := r.Burst
	if burst <= 0 {
		burst = max(1, int(r.PerSecond))
	}
	idle := time.Duration(float64(burst) / r.PerSecond * float64(time.Second))
	return &Limiter{rate: rate.Limit(r.PerSecond), burst: burst, idle: max(idle, time.Second),
		now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes a token from key's bucket. When there is none it returns false and how long until
// there is one.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{limiter: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	r := b.limiter.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now) // a refused request takes no token, so the flood does not dig a deeper hole
		return false, delay
	}
	return true, 0
}

// sweep drops the buckets idle for longer than a refill, at most once per refill time.
func (l *Limiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(l.idle)
	for key, b := range l.buckets {
		if now.Sub(b.used) > l.idle {
			delete(l.buckets, key)
		}
	}
}

// Len is how many buckets are held.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
