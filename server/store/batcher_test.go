package store

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBatcherRunsEachRequestOnceAndHandsOver holds a first batch open while many callers
// queue, then lets them race on, and checks that every request ran exactly once, in batches no
// larger than Max, one batch at a time, each batch run by a caller whose request is in it (the
// batcher is handed over rather than drained by one caller).
func TestBatcherRunsEachRequestOnceAndHandsOver(t *testing.T) {
	const callers = 64
	b := &Batcher[int]{Max: 8}
	var running atomic.Int32
	var mu sync.Mutex
	ran := map[int]int{}
	var sizes []int
	hold, held := make(chan struct{}), make(chan struct{})
	var holdOnce sync.Once
	runBy := func(caller int) func([]int) {
		return func(batch []int) {
			if running.Add(1) != 1 {
				t.Error("two batches ran at once")
			}
			defer running.Add(-1)
			if !slices.Contains(batch, caller) {
				t.Errorf("caller %d ran batch %v, without its own request", caller, batch)
			}
			mu.Lock()
			sizes = append(sizes, len(batch))
			for _, r := range batch {
				ran[r]++
			}
			mu.Unlock()
			if caller == 0 {
				holdOnce.Do(func() { close(held); <-hold })
			}
		}
	}
	var wg sync.WaitGroup
	do := func(i int) {
		b.Do(i, runBy(i))
		mu.Lock()
		defer mu.Unlock()
		if ran[i] != 1 {
			t.Errorf("request %d returned after running %d times", i, ran[i])
		}
	}
	wg.Go(func() { do(0) })
	<-held
	for i := 1; i < callers; i++ {
		wg.Go(func() { do(i) })
	}
	for b.Queued() < callers-1 { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	close(hold)
	wg.Wait()
	total := 0
	for _, n := range sizes {
		if n < 1 || n > b.Max {
			t.Errorf("a batch of %d, want 1 to %d", n, b.Max)
		}
		total += n
	}
	if total != callers || len(ran) != callers || len(sizes) != 1+(callers-1+b.Max-1)/b.Max {
		t.Errorf("%d requests ran in %d batches (%d distinct), want %d in %d", total, len(sizes), len(ran), callers, 1+(callers-1+b.Max-1)/b.Max)
	}
	if b.running || len(b.pending) != 0 {
		t.Errorf("idle batcher: running %v, %d pending", b.running, len(b.pending))
	}
}

// TestBatcherBatchesWhatQueuedMeanwhile holds a batch open while others queue, and checks they
// run together next, run by one of them (the first caller runs only its own batch).
func TestBatcherBatchesWhatQueuedMeanwhile(t *testing.T) {
	b := &Batcher[int]{Max: 10}
	hold, held := make(chan struct{}), make(chan struct{})
	var batches [][]int
	run := func(batch []int) {
		batches = append(batches, batch)
		if batch[0] == 0 {
			close(held)
			<-hold
		}
	}
	first := make(chan struct{})
	go func() { b.Do(0, run); close(first) }()
	<-held
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Go(func() { b.Do(i, run) })
	}
	for b.Queued() < 3 { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	close(hold)
	<-first
	wg.Wait()
	if len(batches) != 2 || len(batches[1]) != 3 {
		t.Errorf("batches %v, want [0] then the three queued meanwhile", batches)
	}
}

// TestBatcherSurvivesAPanic has a batch panic: its runner panics, the other callers of the
// batch get ErrBatchPanicked rather than a success, and the batcher goes on with later ones.
func TestBatcherSurvivesAPanic(t *testing.T) {
	b := &Batcher[int]{Max: 10}
	hold, held := make(chan struct{}), make(chan struct{})
	run := func(batch []int) {
		switch {
		case batch[0] == 0:
			close(held)
			<-hold
		case slices.Contains(batch, 1):
			panic("boom")
		}
	}
	go b.Do(0, run)
	<-held
	errs := make(chan error, 2)
	for i := 1; i <= 2; i++ {
		go func() {
			defer func() {
				if p := recover(); p != nil {
					errs <- fmt.Errorf("panicked: %v", p)
				}
			}()
			errs <- b.Do(i, run)
		}()
	}
	for b.Queued() < 2 { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	close(hold)
	got := []string{(<-errs).Error(), (<-errs).Error()}
	slices.Sort(got)
	want := []string{"panicked: boom", ErrBatchPanicked.Error()}
	if !slices.Equal(got, want) {
		t.Errorf("outcomes %q, want %q", got, want)
	}
	if err := b.Do(3, run); err != nil {
		t.Errorf("a request after the panic: %v", err)
	}
}
