package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newAt(t *testing.T, r Rate) (*Limiter, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	l := New(r)
	l.now = clk.now
	return l, clk
}

func TestAllowRefusesPastTheBurstWithTheDelayToTheNextToken(t *testing.T) {
	l, clk := newAt(t, Rate{PerSecond: 2, Burst: 3})
	for i := range 3 {
		if ok, _ := l.Allow("key_a"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, retry := l.Allow("key_a")
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("past the burst: ok=%v retry=%v, want refused with 500ms", ok, retry)
	}
	if ok, _ := l.Allow("key_b"); !ok {
		t.Fatal("another key was refused for key_a's flood")
	}
	clk.t = clk.t.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("key_a"); !ok {
		t.Fatal("refused after waiting the delay it gave")
	}
}

func TestRefusedRequestsTakeNoToken(t *testing.T) {
	l, clk := newAt(t, Rate{PerSecond: 1, Burst: 1})
	l.Allow("k")
	for range 100 {
		l.Allow("k")
	}
	clk.t = clk.t.Add(time.Second)
	if ok, retry := l.Allow("k"); !ok {
		t.Fatalf("a flood of refused requests pushed the next token back by %v", retry)
	}
}

func TestIdleBucketsAreDropped(t *testing.T) {
	l, clk := newAt(t, Rate{PerSecond: 10, Burst: 10}) // refills in 1s
	for i := range 1000 {
		l.Allow(fmt.Sprint("key_", i))
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("%d buckets, want 1000", n)
	}
	clk.t = clk.t.Add(2 * time.Second)
	l.Allow("key_new")
	if n := l.Len(); n != 1 {
		t.Fatalf("%d buckets after the others idled past a refill, want 1", n)
	}
}

func TestNoRateLimitsNothing(t *testing.T) {
	l := New(Rate{})
	for range 1000 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("a limiter with no rate refused")
		}
	}
}

func TestConcurrentCallersShareTheBurst(t *testing.T) {
	l, _ := newAt(t, Rate{PerSecond: 1, Burst: 50})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if ok, _ := l.Allow("k"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d allowed at once, want the burst of 50", allowed)
	}
}
