package main

import (
	"context"
	"runtime"
	rtdebug "runtime/debug"
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

// idleFake is what an idleCollector sees: requests, garbage, and the collections it made.
type idleFake struct {
	activity, garbage uint64
	collections       int
}

func (f *idleFake) collector() *idleCollector {
	c := &idleCollector{
		activity: func() uint64 { return f.activity },
		garbage:  func() uint64 { return f.garbage },
		collect:  func() { f.collections++; f.garbage = 0 },
	}
	c.last = f.activity
	return c
}

// TestIdleCollector: the server collects on the first tick with no request started or ended
// since the one before, when there is garbage enough; never while requests come, never for a
// little garbage; and, quiet, again once it made garbage enough without requests.
func TestIdleCollector(t *testing.T) {
	f := &idleFake{garbage: 64 << 20}
	c := f.collector()
	for range 5 { // a burst: a request every tick, however much garbage it leaves
		f.activity += 2
		if c.tick() {
			t.Fatal("collected while requests came")
		}
	}
	if !c.tick() || f.collections != 1 {
		t.Fatalf("quiet tick after the burst: %d collections, want 1", f.collections)
	}
	if c.tick() {
		t.Fatal("collected again with no garbage")
	}
	f.garbage = idleGarbage - 1 // streams checking their keys, say: garbage without requests
	if c.tick() {
		t.Fatal("collected less than idleGarbage")
	}
	f.garbage = idleGarbage
	if !c.tick() || f.collections != 2 {
		t.Fatalf("quiet, with idleGarbage: %d collections, want 2", f.collections)
	}
	f.activity++ // a stream opens
	f.garbage = 64 << 20
	if c.tick() {
		t.Fatal("collected on the tick a request started")
	}
	if !c.tick() || f.collections != 3 {
		t.Fatalf("quiet tick after the stream opened: %d collections, want 3", f.collections)
	}
}

// TestCollectorRun: run ticks on what it is given, until its context ends.
func TestCollectorRun(t *testing.T) {
	f := &idleFake{garbage: 64 << 20}
	c := f.collector()
	ctx, cancel := context.WithCancel(t.Context())
	ticks, done := make(chan time.Time), make(chan struct{})
	go func() { c.run(ctx, ticks); close(done) }()
	ticks <- time.Time{}
	ticks <- time.Time{} // received once the first tick was handled
	cancel()
	<-done
	if f.collections != 1 {
		t.Fatalf("%d collections, want 1", f.collections)
	}
}

var sink []byte // what escapes to it is on the heap

// TestHeapGarbage: the estimate counts the garbage made since the last collection, and what a
// collection leaves is not counted.
func TestHeapGarbage(t *testing.T) {
	defer rtdebug.SetGCPercent(rtdebug.SetGCPercent(-1)) // no collection but ours
	runtime.GC()
	if g := heapGarbage(); g >= idleGarbage {
		t.Fatalf("right after a collection: %d bytes of garbage", g)
	}
	keep := make([][]byte, 0, 1<<10)
	for i := range 32 << 10 { // 32 MiB in 1 KiB pieces; one in 32 kept
		b := make([]byte, 1<<10)
		if i%32 == 0 {
			keep = append(keep, b)
		}
	}
	if g := heapGarbage(); g < 30<<20 {
		t.Fatalf("after making 31 MiB of garbage: an estimate of %d bytes", g)
	}
	runtime.GC()
	if g := heapGarbage(); g >= idleGarbage {
		t.Fatalf("after a collection: %d bytes of garbage", g)
	}
	// With 64 MiB live, garbage counts from 8 MiB: an idle collection would cost more than it frees.
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20))
	}
	runtime.GC()
	for range 6 << 10 {
		sink = make([]byte, 1<<10)
	}
	if g := heapGarbage(); g != 0 {
		t.Fatalf("6 MiB of garbage with 64 MiB live: an estimate of %d bytes", g)
	}
	for range 4 << 10 {
		sink = make([]byte, 1<<10)
	}
	if g := heapGarbage(); g < 9<<20 {
		t.Fatalf("10 MiB of garbage with 64 MiB live: an estimate of %d bytes", g)
	}
	runtime.KeepAlive(keep)
	runtime.KeepAlive(live)
}
