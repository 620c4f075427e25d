package pump

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPumpWorksEveryJobOnceWithinTheBound claims from a queue of 50 jobs with 4 slots: every job
// is worked exactly once, never more than 4 at a time, and Run waits for the jobs in flight.
func TestPumpWorksEveryJobOnceWithinTheBound(t *testing.T) {
	var mu sync.Mutex
	queue := make([]int, 50)
	for i := range queue {
		queue[i] = i
	}
	worked := make([]atomic.Int32, len(queue))
	var inFlight, most, done atomic.Int32
	all := make(chan struct{})
	p := &Pump[int]{
		Concurrency: 4, Batch: 2, Interval: time.Hour, // only kicks and finished jobs claim
		Claim: func(_ context.Context, n int) ([]int, error) {
			mu.Lock()
			defer mu.Unlock()
			if n > 4 {
				t.Errorf("claimed %d with 4 slots", n)
			}
			n = min(n, len(queue))
			jobs := queue[:n]
			queue = queue[n:]
			return jobs, nil
		},
		Work: func(_ context.Context, job int) {
			now := inFlight.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			worked[job].Add(1)
			inFlight.Add(-1)
			if done.Add(1) == int32(len(worked)) {
				close(all)
			}
		},
		ClaimFailed: func(_ context.Context, err error) { t.Error(err) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	p.Kick()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("worked %d of %d jobs", done.Load(), len(worked))
	}
	cancel()
	<-stopped
	for i := range worked {
		if n := worked[i].Load(); n != 1 {
			t.Errorf("job %d worked %d times", i, n)
		}
	}
	if m := most.Load(); m > 4 {
		t.Errorf("%d jobs in flight at once, bound 4", m)
	}
}

// TestPumpFinishesClaimedJobsAfterStop: a job claimed before the stop is worked to the end, with
// a context that is not canceled, and Run returns only then.
func TestPumpFinishesClaimedJobsAfterStop(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var claimed atomic.Bool
	var finishedAlive atomic.Bool
	p := &Pump[int]{
		Concurrency: 1, Interval: time.Hour,
		Claim: func(context.Context, int) ([]int, error) {
			if claimed.Swap(true) {
				return nil, nil
			}
			return []int{1}, nil
		},
		Work: func(ctx context.Context, _ int) {
			close(started)
			<-release
			finishedAlive.Store(ctx.Err() == nil)
		},
		ClaimFailed: func(_ context.Context, err error) { t.Error(err) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	<-started
	cancel()
	select {
	case <-stopped:
		t.Fatal("Run returned with a job in flight")
	default:
	}
	close(release)
	<-stopped
	if !finishedAlive.Load() {
		t.Error("the job's context was canceled by the stop")
	}
}
