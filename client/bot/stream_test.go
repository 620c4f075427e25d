package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// recorder counts how often each event sequence was handled and reports each handling.
type recorder struct {
	mu      sync.Mutex
	counts  map[uint64]int
	handled chan uint64
}

func newRecorder() *recorder {
	return &recorder{counts: map[uint64]int{}, handled: make(chan uint64, 1024)}
}

func (r *recorder) handlers() bot.Handlers {
	return bot.Handlers{Other: func(ctx context.Context, e *batonv1.SubscribedEvent) error {
		seq := e.GetEvent().GetSequence()
		r.mu.Lock()
		r.counts[seq]++
		r.mu.Unlock()
		r.handled <- seq
		return nil
	}}
}

// await receives handled sequences until every one of want was handled.
func (r *recorder) await(t *testing.T, want []uint64) {
	t.Helper()
	r.mu.Lock()
	missing := map[uint64]bool{}
	for _, seq := range want {
		if r.counts[seq] == 0 {
			missing[seq] = true
		}
	}
	r.mu.Unlock()
	for len(missing) > 0 {
		delete(missing, receive(t, r.handled, fmt.Sprintf("handling of %d more events", len(missing))))
	}
}

// exactlyOnce fails unless the handled sequences are want, each handled once.
func (r *recorder) exactlyOnce(t *testing.T, want []uint64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var got []uint64
	for seq, n := range r.counts {
		if n != 1 {
			t.Errorf("event %d handled %d times", seq, n)
		}
		got = append(got, seq)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("handled events %v\nwant %v", got, want)
	}
}

// botEvents lists the sequences of every stored event of the bot.
func (s *server) botEvents(botID string) []uint64 {
	s.t.Helper()
	res := need(s.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{BotId: botID}, PageSize: 1000}))(s.t)
	var out []uint64
	for _, e := range res.GetEvents() {
		out = append(out, e.GetSequence())
	}
	return out
}

// minAttempts bounds the reconnections a backoff allows in elapsed: after attempt k the bot
// waits at least (1-Jitter) of min(Max, Initial·2^(k-1)), so attempt n+1 comes no sooner than
// the sum of the first n such waits.
func maxAttempts(b bot.Backoff, elapsed time.Duration) int {
	n, total := 1, time.Duration(0)
	for d := b.Initial; ; d = min(2*d, b.Max) {
		total += time.Duration(float64(d) * (1 - b.Jitter))
		if total > elapsed {
			return n
		}
		n++
	}
}

func TestStreamResumesAcrossServerRestart(t *testing.T) {
	s := startServer(t)
	w := s.world()
	rec := newRecorder()
	backoff := bot.Backoff{Initial: 40 * time.Millisecond, Max: 320 * time.Millisecond, Jitter: 0.5}
	var (
		mu       sync.Mutex
		attempts int
	)
	reconnecting := make(chan int, 1024)
	b := &bot.Bot{Client: client.New(s.url, w.botKey), Handlers: rec.handlers()}
	runStream(t, b, bot.StreamOptions{
		Cursor: cursorAt(0), Reconnect: backoff, Concurrency: 4,
		OnReconnect: func(attempt int, delay time.Duration, err error) {
			mu.Lock()
			attempts++
			mu.Unlock()
			reconnecting <- attempt
		},
	})
	for i := range 4 {
		s.ingest(w.channel.GetId(), fmt.Sprintf("cust-%d", i), fmt.Sprintf("before-%d", i), "hello")
	}
	rec.await(t, s.botEvents(w.bot.GetId()))

	down := time.Now()
	s.stop()
	// The bot tries again while the server is down: its stream ended, then the next dials fail.
	for range 3 {
		receive(t, reconnecting, "a reconnection attempt")
	}
	s.start()
	// Events stored before the bot is back are read from its cursor when it reconnects.
	for i := range 4 {
		s.ingest(w.channel.GetId(), fmt.Sprintf("cust-%d", i+2), fmt.Sprintf("after-%d", i), "again")
	}
	want := s.botEvents(w.bot.GetId())
	rec.await(t, want)
	elapsed := time.Since(down)

	rec.exactlyOnce(t, want)
	mu.Lock()
	defer mu.Unlock()
	if limit := maxAttempts(backoff, elapsed); attempts > limit {
		t.Errorf("%d reconnection attempts in %v; the backoff allows %d", attempts, elapsed, limit)
	}
}

// TestStreamResumesFromFileCursor stops the bot and runs it again, as a new process would:
// it resumes after the last event it handled.
func TestStreamResumesFromFileCursor(t *testing.T) {
	s := startServer(t)
	w := s.world()
	cursor := bot.FileCursor(filepath.Join(t.TempDir(), "bot.cursor"))
	cursor.Save(context.Background(), 0)
	rec := newRecorder()
	b := &bot.Bot{Client: client.New(s.url, w.botKey), Handlers: rec.handlers()}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Stream(ctx, bot.StreamOptions{Cursor: cursor}) }()
	s.ingest(w.channel.GetId(), "ada", "m-1", "hello")
	first := s.botEvents(w.bot.GetId())
	rec.await(t, first)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if seq, ok, err := cursor.Load(context.Background()); err != nil || !ok || seq != first[len(first)-1] {
		t.Fatalf("saved cursor %d (%v, %v), want %d", seq, ok, err, first[len(first)-1])
	}

	s.ingest(w.channel.GetId(), "ada", "m-2", "still there?")
	runStream(t, b, bot.StreamOptions{Cursor: cursor})
	all := s.botEvents(w.bot.GetId())
	rec.await(t, all)
	rec.exactlyOnce(t, all)
}
