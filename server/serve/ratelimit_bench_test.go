package serve_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/ratelimit"
	"github.com/batonhq/baton/server/serve"
)

// BenchmarkRateLimitIsolation measures what one key flooding the server does to the others: the
// quiet keys' p99 of a read while one key floods it from many connections at once, as a ratio
// of their p99 without the flood, measured in the same run (the ceiling). The server has the
// a limit the quiet keys stay under. The flood is bounded in time and in calls.
func BenchmarkRateLimitIsolation(b *testing.B) {
	const (
		quietKeys    = 8
		callsPerKey  = 300 // per key and phase
		flooders     = 8
		maxFloodTime = time.Minute
	)
	// A limit well under what this server serves in all (the defaults are above what two
	// shared cores serve, so there a flood under them is only load), with a burst the quiet
	// keys' three phases stay under.
	h := start(b, func(c *serve.Config) { c.RateLimits.Key = ratelimit.Rate{PerSecond: 100, Burst: 3*callsPerKey + 50} })
	ctx := context.Background()
	ch := h.world(0).channel.GetId()
	quiet := make([]*client.Client, quietKeys)
	for i := range quiet {
		quiet[i] = h.key(batonv1.Role_ROLE_ADMIN, "")
	}
	noisy := h.key(batonv1.Role_ROLE_ADMIN, "")
	req := &batonv1.GetChannelRequest{ChannelId: ch}

	// p99 of the quiet keys' calls, all keys at once, one call at a time each.
	measure := func() time.Duration {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var latencies []time.Duration
		for _, c := range quiet {
			wg.Go(func() {
				own := make([]time.Duration, 0, callsPerKey)
				for range callsPerKey {
					t0 := time.Now()
					if _, err := c.Channels.GetChannel(ctx, req); err != nil {
						b.Errorf("quiet key: %v", err)
						return
					}
					own = append(own, time.Since(t0))
				}
				mu.Lock()
				latencies = append(latencies, own...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(latencies) < quietKeys*callsPerKey {
			b.FailNow()
		}
		slices.Sort(latencies)
		return latencies[len(latencies)*99/100]
	}

	for b.Loop() {
		measure() // warm connections and caches
		alone := measure()

		floodCtx, stop := context.WithTimeout(ctx, maxFloodTime)
		var wg sync.WaitGroup
		var refused, served, calls int64
		var mu sync.Mutex
		var once sync.Once
		limited := make(chan struct{}) // closed at the flood's first refusal: its burst is spent
		for range flooders {
			wg.Go(func() {
				var r, s int64
				for i := 0; i < 1_000_000 && floodCtx.Err() == nil; i++ {
					_, err := noisy.Channels.GetChannel(floodCtx, req)
					switch {
					case err == nil:
						s++
					case connect.CodeOf(err) == connect.CodeResourceExhausted:
						r++
						once.Do(func() { close(limited) })
					}
				}
				mu.Lock()
				refused, served, calls = refused+r, served+s, calls+r+s
				mu.Unlock()
			})
		}
		select {
		case <-limited:
		case <-floodCtx.Done():
		}
		flooded := measure()
		stop()
		wg.Wait()
		if refused == 0 {
			b.Fatalf("the flood was never refused (%d calls)", calls)
		}
		b.ReportMetric(float64(alone.Microseconds()), "p99-alone-µs")
		b.ReportMetric(float64(flooded.Microseconds()), "p99-flooded-µs")
		b.ReportMetric(float64(flooded)/float64(alone), "p99-ratio")
		b.ReportMetric(float64(refused)/float64(calls), "flood-refused-share")
	}
}
