package serve_test

import (
	"context"
	"testing"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// TestActivity: the server's activity changes when a request starts, a stream's included, and
// again when it ends; the GC policy collects when it stays the same.
func TestActivity(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	before := h.srv.Activity()
	if _, err := h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{}); err != nil {
		t.Fatal(err)
	}
	afterCall := h.srv.Activity()
	if afterCall == before {
		t.Fatal("a call left the activity as it was")
	}
	stream, err := h.admin.Events.Subscribe(ctx, &batonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	stream.ResponseHeader() // the server has the stream
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if h.srv.Activity() == afterCall {
		t.Fatal("opening a stream left the activity as it was")
	}
	cancel()
	stream.Close()
	h.stop() // every handler has returned
	if got, want := h.srv.Activity(), before+4; got != want {
		t.Fatalf("after two requests ended: activity %d, want %d", got, want)
	}
}
