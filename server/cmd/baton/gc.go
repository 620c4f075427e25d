package main

import (
	"context"
	"os"
	"runtime"
	rtdebug "runtime/debug"
	"runtime/metrics"
	"time"
)

// The server's garbage collection (the bench commands, which run beside it, use it too). Its live
// heap is small (some megabytes: caches, pools) and its garbage comes per request, tens of
// kilobytes each (pgx, for one, encodes every statement into buffers of its own). Under Go's
// default a busy server would then collect several times a second, and each collection takes a core
// from requests for milliseconds: on a small machine that is what the slowest requests wait for. So
// the heap may grow to gcFloor before it is collected, however small the live heap; past that, to
// gcPercent more than the live heap, as GOGC would have it. GOMEMLIMIT still bounds it all.
const (
	gcFloor   = 128 << 20
	gcPercent = 400
)

// tuneGC sets GOGC now and after each collection, so that the next one comes when the heap
// reaches the larger of gcFloor and the live heap grown by gcPercent. It leaves a GOGC set in
// the environment alone, and then reports false.
func tuneGC() bool {
	if os.Getenv("GOGC") != "" {
		return false
	}
	tune := func() { rtdebug.SetGCPercent(gcPercentFor(liveHeap())) }
	tune()
	afterEachGC(tune)
	return true
}

// gcPercentFor returns the GOGC that puts the next collection at the larger of gcFloor and the
// live heap grown by gcPercent. Below the runtime's minimum heap (4 MiB, which it scales by GOGC
// too), as before the first collection, the goal is that minimum's.
func gcPercentFor(live uint64) int {
	const minHeap = 4 << 20
	if live >= gcFloor {
		return gcPercent
	}
	return max(gcPercent, int((gcFloor-live)*100/max(live, minHeap)))
}

// The floor's cost: the garbage of a burst stays resident until the heap reaches it, also once
// the server is idle again. Opening 1,000 event streams, say, left 35–40 KB of resident memory per
// stream, half of it garbage. So once no request has started or ended for idleTick, and the heap
// holds at least idleGarbage of garbage (and an eighth of the live heap: a collection's work
// grows with the live heap), the server collects and returns the free memory to the system. No
// request waits for that collection but those that arrive during it; a busy server never has a
// quiet idleTick, and a quiet one collects once per idleGarbage it makes at most.
const (
	idleTick    = 100 * time.Millisecond
	idleGarbage = 2 << 20
)

// idleCollector collects when the server turns idle after making garbage.
type idleCollector struct {
	activity func() uint64 // changes whenever a request starts or ends
	garbage  func() uint64 // what a collection would free, about
	collect  func()
	last     uint64
}

// collectWhenIdle runs an idleCollector every idleTick until ctx ends, over the runtime's heap.
func collectWhenIdle(ctx context.Context, activity func() uint64) {
	c := &idleCollector{activity: activity, garbage: heapGarbage, collect: collectAll}
	t := time.NewTicker(idleTick)
	defer t.Stop()
	c.run(ctx, t.C)
}

func (c *idleCollector) run(ctx context.Context, ticks <-chan time.Time) {
	c.last = c.activity()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			c.tick()
		}
	}
}

// tick collects, and reports true, if no request started or ended since the last tick and
// there is garbage enough. A quiet server collects too, what it makes without requests: open
// streams check their keys every few seconds, and their garbage would otherwise pile up to the
// floor.
func (c *idleCollector) tick() bool {
	if a := c.activity(); a != c.last {
		c.last = a
		return false
	}
	if c.garbage() < idleGarbage {
		return false
	}
	c.collect()
	return true
}

// collectAll collects twice, then returns the free memory to the system: what sync.Pools held
// at the first collection (net/http's and Connect's buffers, among others) is freed only by the
// second. Measured with 1,000 streams opened: 21 KB resident per stream a second later, against
// 22–23 KB with one collection.
func collectAll() {
	runtime.GC()
	rtdebug.FreeOSMemory()
}

// heapGarbage estimates what a collection would free: the heap's objects beyond the live heap
// the last collection found, when that is at least an eighth of it (0 otherwise).
func heapGarbage() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	objects, live := s[0].Value.Uint64(), s[1].Value.Uint64()
	if objects < live || objects-live < live/8 {
		return 0
	}
	return objects - live
}

// liveHeap returns the heap the last collection found live (0 before the first).
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// gcSentinel is garbage as soon as it is made: its cleanup runs once a collection has found it.
// (It holds a pointer so that it is not one of the tiny objects whose cleanups may never run.)
type gcSentinel struct{ _ *int }

// afterEachGC calls f, on the runtime's cleanup goroutine, after every collection from now on.
func afterEachGC(f func()) {
	runtime.AddCleanup(new(gcSentinel), func(struct{}) {
		f()
		afterEachGC(f)
	}, struct{}{})
}
