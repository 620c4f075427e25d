package main

import (
	"os"
	"runtime"
	rtdebug "runtime/debug"
	"runtime/metrics"
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
// the environment alone.
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	tune := func() { rtdebug.SetGCPercent(gcPercentFor(liveHeap())) }
	tune()
	afterEachGC(tune)
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
