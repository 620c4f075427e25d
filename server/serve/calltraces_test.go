package serve_test

import (
	"context"
	"testing"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
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
