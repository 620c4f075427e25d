package store

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBatcherRunsEachRequestOnceAndHandsOver races callers through a Batcher whose batches
// block until released, and checks that every request ran exactly once, in batches no larger
// than Max, with one batch at a time, and that requests queued during a batch were batched
// together after it.
func TestBatcherRunsEachRequestOnceAndHandsOver(t *testing.T) {
	const callers = 64
	b := &Batcher[*int]{Max: 8}
	var running atomic.Int32
	var mu sync.Mutex
	ran := map[int]int{}
	var sizes []int
	run := func(batch []*int) {
		if running.Add(1) != 1 {
			t.Error("two batches ran at once")
		}
		defer running.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(batch))
		for _, r := range batch {
			ran[*r]++
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			b.Do(&i, run)
			mu.Lock()
			defer mu.Unlock()
			if ran[i] != 1 {
				t.Errorf("request %d returned after running %d times", i, ran[i])
			}
		})
	}
	close(start)
	wg.Wait()
	total := 0
	for _, n := range sizes {
		if n < 1 || n > b.Max {
			t.Errorf("a batch of %d, want 1 to %d", n, b.Max)
		}
		total += n
	}
	if total != callers || len(ran) != callers {
		t.Errorf("%d requests ran in %d batches (%d distinct), want %d", total, len(sizes), len(ran), callers)
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
