package serve_test

import (
	"context"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// TestHandoverStory drives the whole story through the generated client over real HTTP:
// a customer writes, the bot answers, hands off, an agent accepts, the bot's late reply is
// refused, the agent hands back, and the bot owns again — watched on Subscribe and listed on
// the ownership timeline.
func TestHandoverStory(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { handoverStory(t, start(t)) })
	t.Run("postgres", func(t *testing.T) { handoverStory(t, replicas(t, 1)[0]) })
}

func handoverStory(t *testing.T, h *harness) {
	ctx := context.Background()
	w := h.world(1)
	agent := w.agentAPI[0]
	// Every event but delivery statuses, which the outbox reports whenever it has sent a message.
	var story []batonv1.EventType
	for v := range batonv1.EventType_name {
		if typ := batonv1.EventType(v); typ != batonv1.EventType_EVENT_TYPE_UNSPECIFIED && typ != batonv1.EventType_EVENT_TYPE_MESSAGE_STATUS_CHANGED {
			story = append(story, typ)
		}
	}
	events := subscribe(t, w.botAPI, &batonv1.SubscribeRequest{AfterSequence: new(uint64), Filter: &batonv1.EventFilter{Types: story}})

	in := h.ingest(w.channel.GetId(), "cust-1", "m-1", "Where is my parcel?")
	conv := in.GetConversation()
	if got := conv.GetOwner(); got.GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT || got.GetId() != w.bot.GetId() || conv.GetEpoch() != 1 {
		t.Fatalf("new conversation owner = %v epoch %d, want the bot at epoch 1", got, conv.GetEpoch())
	}

	epoch := conv.GetEpoch()
	need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), ExpectedEpoch: &epoch, Content: text_("Let me check."),
	}))(t)

	handoff := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
		ConversationId: conv.GetId(), ExpectedEpoch: &epoch, Reason: "parcel lost",
		Summary: "customer asks about a parcel", Metadata: map[string]string{"order": "A-17"},
	}))(t)
	ho := handoff.GetHandover()
	if ho.GetState() != batonv1.HandoverState_HANDOVER_STATE_OFFERED || ho.GetOfferedAgentId() != w.agents[0].GetId() {
		t.Fatalf("handoff = %v offered to %q, want offered to the online agent", ho.GetState(), ho.GetOfferedAgentId())
	}
	if got := handoff.GetConversation().GetOwner().GetKind(); got != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Fatalf("owner after handoff = %v, want the queue", got)
	}

	accepted := need(agent.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)
	if got := accepted.GetConversation(); got.GetOwner().GetId() != w.agents[0].GetId() || got.GetEpoch() != 3 {
		t.Fatalf("after accept owner = %v epoch %d, want the agent at epoch 3", got.GetOwner(), got.GetEpoch())
	}

	// The bot, still believing in epoch 1, is refused, and told who owns the conversation now.
	_, err := w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), ExpectedEpoch: &epoch, Content: text_("Anything else?"),
	})
	if code(err) != connect.CodeFailedPrecondition {
		t.Fatalf("stale bot send: %v, want FAILED_PRECONDITION", err)
	}
	if info := ownershipInfo(t, err); info.GetOwner().GetId() != w.agents[0].GetId() || info.GetEpoch() != 3 {
		t.Fatalf("ownership detail = %v, want the agent at epoch 3", info)
	}
	// Without an epoch it is refused too: it is not the owner.
	if _, err := w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), Content: text_("Anything else?"),
	}); code(err) != connect.CodeFailedPrecondition {
		t.Fatalf("non-owner bot send: %v, want FAILED_PRECONDITION", err)
	}

	need(agent.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), Content: text_("Hi, I found your parcel."),
	}))(t)
	back := need(agent.Handovers.Handback(ctx, &batonv1.HandbackRequest{
		ConversationId: conv.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED, Summary: "parcel found",
	}))(t)
	if got := back.GetConversation(); got.GetOwner().GetId() != w.bot.GetId() || got.GetEpoch() != 4 {
		t.Fatalf("after handback owner = %v epoch %d, want the bot at epoch 4", got.GetOwner(), got.GetEpoch())
	}
	if got := back.GetHandover(); got.GetOutcome() != batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED || got.GetState() != batonv1.HandoverState_HANDOVER_STATE_RELEASED {
		t.Fatalf("handover after handback = %v", got)
	}
	epoch = 4
	need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), ExpectedEpoch: &epoch, Content: text_("Glad it's sorted!"),
	}))(t)

	want := []batonv1.EventType{
		batonv1.EventType_EVENT_TYPE_CONVERSATION_CREATED,
		batonv1.EventType_EVENT_TYPE_OWNER_CHANGED, // nobody → bot
		batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED,
		batonv1.EventType_EVENT_TYPE_MESSAGE_SENT,
		batonv1.EventType_EVENT_TYPE_HANDOVER_REQUESTED,
		batonv1.EventType_EVENT_TYPE_OWNER_CHANGED, // bot → queue
		batonv1.EventType_EVENT_TYPE_HANDOVER_OFFERED,
		batonv1.EventType_EVENT_TYPE_HANDOVER_ACCEPTED,
		batonv1.EventType_EVENT_TYPE_OWNER_CHANGED, // queue → agent
		batonv1.EventType_EVENT_TYPE_MESSAGE_SENT,
		batonv1.EventType_EVENT_TYPE_HANDOVER_RELEASED,
		batonv1.EventType_EVENT_TYPE_OWNER_CHANGED, // agent → bot
		batonv1.EventType_EVENT_TYPE_MESSAGE_SENT,
	}
	got := events.next(t, len(want))
	if !slices.Equal(types(got), want) {
		t.Fatalf("events = %v\nwant %v", types(got), want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].GetEvent().GetSequence() <= got[i-1].GetEvent().GetSequence() {
			t.Fatalf("sequence not increasing at %d: %d after %d", i, got[i].GetEvent().GetSequence(), got[i-1].GetEvent().GetSequence())
		}
	}
	// The bot is flagged responsible exactly while it owns the conversation.
	if got[9].GetResponsible() || !got[12].GetResponsible() {
		t.Fatalf("responsible flags: agent's message %v, bot's last message %v", got[9].GetResponsible(), got[12].GetResponsible())
	}

	timeline := need(h.admin.Handovers.GetOwnershipTimeline(ctx, &batonv1.GetOwnershipTimelineRequest{ConversationId: conv.GetId()}))(t)
	var owners []batonv1.OwnerKind
	for i, p := range timeline.GetPeriods() {
		owners = append(owners, p.GetOwner().GetKind())
		if p.GetEpoch() != uint64(i+1) {
			t.Errorf("period %d has epoch %d", i, p.GetEpoch())
		}
	}
	wantOwners := []batonv1.OwnerKind{
		batonv1.OwnerKind_OWNER_KIND_BOT, batonv1.OwnerKind_OWNER_KIND_QUEUE,
		batonv1.OwnerKind_OWNER_KIND_AGENT, batonv1.OwnerKind_OWNER_KIND_BOT,
	}
	if !slices.Equal(owners, wantOwners) {
		t.Fatalf("timeline owners = %v, want %v", owners, wantOwners)
	}
	if last := timeline.GetPeriods()[3]; last.GetEndTime() != nil {
		t.Fatalf("current period has an end time: %v", last)
	}

	list := need(h.admin.Handovers.ListHandovers(ctx, &batonv1.ListHandoversRequest{ConversationId: conv.GetId()}))(t)
	if len(list.GetHandovers()) != 1 || list.GetHandovers()[0].GetTimeToAccept() == nil {
		t.Fatalf("handovers = %v, want one with its time to accept", list.GetHandovers())
	}

	// Every ownership transition has its own span carrying the conversation, handover, owners
	// and epoch.
	assertTransitionSpan(t, h, "baton.ownership.accept", conv.GetId(), ho.GetId(), 3)
	assertTransitionSpan(t, h, "baton.ownership.handback", conv.GetId(), ho.GetId(), 4)
	// ... inside the RPC's own span, which otelconnect opens for every call.
	if !hasSpan(h, "baton.v1.HandoverService/AcceptHandover") {
		t.Fatal("no RPC span for AcceptHandover")
	}
}

func hasSpan(h *harness, name string) bool {
	for _, s := range h.spans.Ended() {
		if s.Name() == name {
			return true
		}
	}
	return false
}

func assertTransitionSpan(t *testing.T, h *harness, name, conversationID, handoverID string, epoch int64) {
	t.Helper()
	for _, s := range h.spans.Ended() {
		if s.Name() != name {
			continue
		}
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value
		}
		if attrs["baton.conversation.id"].AsString() == conversationID &&
			attrs["baton.handover.id"].AsString() == handoverID &&
			attrs["baton.epoch"].AsInt64() == epoch &&
			attrs["baton.owner.from"].AsString() != "" && attrs["baton.owner.to"].AsString() != "" {
			return
		}
	}
	t.Fatalf("no %s span for conversation %s, handover %s, epoch %d", name, conversationID, handoverID, epoch)
}
