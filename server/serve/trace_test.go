package serve_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// TestHandoverLifecycleIsOneTrace checks each later step of a handover (decline, accept,
// handback, an offer's expiry run by the timers) is a span linked to the span of the handoff
// that began it, although each runs in a trace of its own (another RPC, a timer).
func TestHandoverLifecycleIsOneTrace(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(2)
	agentAPI := func(id string) int {
		for i, a := range w.agents {
			if a.GetId() == id {
				return i
			}
		}
		t.Fatalf("offered to unknown agent %q", id)
		return -1
	}

	conv := h.ingest(w.channel.GetId(), "cust-1", "m-1", "a human please").GetConversation()
	ho := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "human"}))(t).GetHandover()
	handoff := transitionSpan(t, h, "baton.ownership.handoff", ho.GetId())
	first := agentAPI(ho.GetOfferedAgentId())
	need(w.agentAPI[first].Handovers.DeclineHandover(ctx, &batonv1.DeclineHandoverRequest{HandoverId: ho.GetId(), Reason: "busy"}))(t)
	need(w.agentAPI[1-first].Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)
	need(w.agentAPI[1-first].Handovers.Handback(ctx, &batonv1.HandbackRequest{
		ConversationId: conv.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED,
	}))(t)
	for _, step := range []string{"baton.ownership.decline", "baton.ownership.accept", "baton.ownership.handback"} {
		span := transitionSpan(t, h, step, ho.GetId())
		if span.SpanContext().TraceID() == handoff.SpanContext().TraceID() {
			t.Errorf("%s runs in the handoff's trace: the test proves nothing", step)
		}
		wantLink(t, span, handoff)
	}

	// An offer that nobody answers expires in a timer pass: that span links to its handoff too.
	other := h.ingest(w.channel.GetId(), "cust-2", "m-2", "me too").GetConversation()
	ho2 := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: other.GetId(), Reason: "human"}))(t).GetHandover()
	h.clock.Advance(domain.DefaultOfferTimeout + 1)
	if err := h.srv.App().RunTimers(ctx); err != nil {
		t.Fatal(err)
	}
	wantLink(t, transitionSpan(t, h, "baton.ownership.expire_offer", ho2.GetId()), transitionSpan(t, h, "baton.ownership.handoff", ho2.GetId()))
}

// TestFailedHandoffSpan checks a handoff that finds nobody says why on its span.
func TestFailedHandoffSpan(t *testing.T) {
	h := start(t)
	w := h.world(0)
	conv := h.ingest(w.channel.GetId(), "c", "m", "human please").GetConversation()
	ho := need(w.botAPI.Handovers.Handoff(context.Background(), &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "human"}))(t).GetHandover()
	span := transitionSpan(t, h, "baton.ownership.handoff", ho.GetId())
	if got := attrs(span)["baton.handover.failure_reason"].AsString(); got != string(domain.NoAgentOnline) {
		t.Fatalf("failure reason on the span = %q, want %q", got, domain.NoAgentOnline)
	}
}

// transitionSpan finds the one span named name of handover id.
func transitionSpan(t *testing.T, h *harness, name, handoverID string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range h.spans.Ended() {
		if s.Name() == name && attrs(s)["baton.handover.id"].AsString() == handoverID {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans for handover %s, want 1", len(found), name, handoverID)
	}
	return found[0]
}

func wantLink(t *testing.T, span, to sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, l := range span.Links() {
		if l.SpanContext.TraceID() == to.SpanContext().TraceID() && l.SpanContext.SpanID() == to.SpanContext().SpanID() {
			return
		}
	}
	t.Errorf("%s span links %v, want a link to the handoff span %s/%s", span.Name(), span.Links(), to.SpanContext().TraceID(), to.SpanContext().SpanID())
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}
