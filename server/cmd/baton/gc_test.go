package main

import (
	"runtime"
	"testing"
	"time"
)

// TestGCPercentFor: the next collection comes at the floor while the live heap is small, and at
// gcPercent more than the live heap past that.
func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, gcFloor * 100 / (4 << 20)}, // before the first collection: the runtime's 4 MiB minimum, × 32
		{1 << 20, (gcFloor - 1<<20) * 100 / (4 << 20)},
		{8 << 20, (gcFloor - 8<<20) * 100 / (8 << 20)},
		{gcFloor / 5, gcPercent}, // live × 5 is the floor
		{gcFloor / 2, gcPercent},
		{2 * gcFloor, gcPercent},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d) = %d, want %d", c.live, got, c.want)
		}
		if goal := c.live + c.live*uint64(gcPercentFor(c.live))/100; c.live >= 4<<20 && c.live < gcFloor/5 && goal != gcFloor {
			t.Errorf("live %d: goal %d, want the floor %d", c.live, goal, gcFloor)
		}
	}
}

// TestAfterEachGC: the callback runs after a collection, and again after the next one.
func TestAfterEachGC(t *testing.T) {
	ran := make(chan struct{}, 1)
	afterEachGC(func() {
		select {
		case ran <- struct{}{}:
		default:
		}
	})
	for i := range 2 {
		deadline := time.After(10 * time.Second)
	wait:
		for {
			runtime.GC()
			select {
			case <-ran:
				break wait
			case <-deadline:
				t.Fatalf("collection %d: the callback did not run", i+1)
			default:
				runtime.Gosched()
			}
		}
	}
}
