package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/webhook"
)

// source hands out its jobs once each and holds the first RecordAttempts until released.
type source struct {
	mu       sync.Mutex
	jobs     []webhook.Job
	recorded map[string]int
	calls    int
	held     chan struct{} // closed when the first record starts waiting
	release  chan struct{}
}

func (s *source) ClaimDeliveries(_ context.Context, limit int) ([]webhook.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(limit, len(s.jobs))
	out := s.jobs[:n]
	s.jobs = s.jobs[n:]
	return out, nil
}

func (s *source) RecordAttempts(_ context.Context, sent []webhook.Sent) error {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	for _, r := range sent {
		s.recorded[r.Delivery.ID]++
	}
	s.mu.Unlock()
	if first {
		close(s.held)
		<-s.release
	}
	return nil
}

func (s *source) recordedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recorded)
}

// TestSendersDoNotWaitForRecords: while the recorder is held writing one result, senders go
// on sending, and once it is free every result is recorded exactly once.
func TestSendersDoNotWaitForRecords(t *testing.T) {
	var posted atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posted.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sink.Close()
	const n = 20
	src := &source{recorded: map[string]int{}, held: make(chan struct{}), release: make(chan struct{})}
	for i := range n {
		id := "dl_" + strconv.Itoa(i)
		src.jobs = append(src.jobs, webhook.Job{
			Delivery: domain.Delivery{ID: id},
			Request:  webhook.Request{URL: sink.URL, ID: id, Body: []byte(`{}`), Secrets: []string{"whsec_dGVzdA=="}},
		})
	}
	client := webhook.NewClient(webhook.Config{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	d := webhook.NewDispatcher(src, client, time.Now)
	d.Concurrency, d.Interval = 2, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { d.Run(ctx); close(stopped) }()
	d.Kick()
	<-src.held
	// Senders go on while the record is held, until the recorder's queue is full.
	for deadline := time.Now().Add(20 * time.Second); posted.Load() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries sent while one result was being recorded, want senders to go on", posted.Load())
		}
		time.Sleep(time.Millisecond) // polls the sink's count, which nothing signals
	}
	close(src.release)
	for deadline := time.Now().Add(20 * time.Second); src.recordedCount() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d results recorded", src.recordedCount(), n)
		}
		time.Sleep(time.Millisecond) // polls: nothing signals the last record
	}
	cancel()
	<-stopped
	src.mu.Lock()
	defer src.mu.Unlock()
	for id, times := range src.recorded {
		if times != 1 {
			t.Errorf("%s recorded %d times", id, times)
		}
	}
	if src.calls >= n {
		t.Errorf("%d results recorded in %d writes, want them batched", n, src.calls)
	}
}
