package serve_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
)

// TestServerStreamsAreNotTraced: calls get otelconnect's span, but server streams, whose span
// would last as long as the subscription, do not.
func TestServerStreamsAreNotTraced(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := h.admin.Events.Subscribe(ctx, &batonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	stream.ResponseHeader() // the server has the stream
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{}); err != nil {
		t.Fatal(err)
	}
	cancel()
	stream.Close()
	h.stop() // every handler has returned: a span of the stream would have ended
	if !hasSpan(h, "baton.v1.EventService/ListEvents") {
		t.Error("no span for ListEvents")
	}
	if hasSpan(h, "baton.v1.EventService/Subscribe") {
		t.Error("a span for Subscribe")
	}
}

// readRecorder counts the reads made for long-lived callers (store.LongLived).
type readRecorder struct {
	store.Store
	mu        sync.Mutex
	longLived int
}

func (r *readRecorder) Read(ctx context.Context, fn func(store.Tx) error) error {
	r.mu.Lock()
	if store.IsLongLived(ctx) {
		r.longLived++
	}
	r.mu.Unlock()
	return r.Store.Read(ctx, fn)
}

// TestServerStreamsAreLongLived: a stream's reads (its catch-up here) are a long-lived caller's,
// which SQLite runs off the stream's goroutine so that its stack stays small; a call's are not.
// (The stream's key check, every 10 s, does not come within the test.)
func TestServerStreamsAreLongLived(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &readRecorder{Store: st}
	h := startOn(t, rec, &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)})
	w := h.world(0)
	h.ingest(w.channel.GetId(), "c1", "m1", "hello")
	rec.mu.Lock()
	rec.longLived = 0
	rec.mu.Unlock()
	from := uint64(0) // before the message: the stream catches up from the store
	s := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: &from, Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED},
	}})
	s.next(t, 1)
	rec.mu.Lock()
	if rec.longLived == 0 {
		t.Error("the stream's catch-up was not a long-lived caller's read")
	}
	rec.longLived = 0
	rec.mu.Unlock()
	if _, err := h.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.longLived != 0 { // the stream is idle: nothing else reads as a long-lived caller
		t.Error("ListEvents's read was a long-lived caller's")
	}
}
