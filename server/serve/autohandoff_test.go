package serve_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// Two "not understood" statuses in a row from the bot hand the conversation off on their own,
// with the policy's reason on the handover and on the owner change of the timeline.
func TestTwoNotUnderstoodHandOff(t *testing.T) {
	h := start(t)
	w := h.world(1)
	ctx := context.Background()
	need(h.admin.Bots.UpdateBot(ctx, &batonv1.UpdateBotRequest{
		BotId: w.bot.GetId(), AutoHandoff: &batonv1.AutoHandoffPolicy{NotUnderstoodLimit: 2},
	}))(t)
	conv := h.ingest(w.channel.GetId(), "ada", "m1", "I want to dispute a charge").GetConversation()

	status := func() *batonv1.Conversation {
		t.Helper()
		return need(w.botAPI.Conversations.UpdateConversation(ctx, &batonv1.UpdateConversationRequest{
			ConversationId: conv.GetId(), Status: batonv1.ConversationStatus_CONVERSATION_STATUS_NOT_UNDERSTOOD.Enum(),
		}))(t).GetConversation()
	}
	if first := status(); first.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT || first.GetNotUnderstoodCount() != 1 {
		t.Fatalf("after one: owner %v, run %d; want the bot, 1", first.GetOwner(), first.GetNotUnderstoodCount())
	}
	second := status()
	if second.GetOwner().GetKind() == batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatalf("after two in a row the bot still owns: %v", second.GetOwner())
	}
	ho := getHandover(t, h, second.GetActiveHandoverId())
	if !strings.HasPrefix(ho.GetReason(), "auto_handoff.not_understood") || ho.GetRequestedBy().GetKind() != batonv1.ActorKind_ACTOR_KIND_SYSTEM {
		t.Fatalf("handover reason %q by %v", ho.GetReason(), ho.GetRequestedBy())
	}
	events := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
		ConversationId: conv.GetId(), Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_OWNER_CHANGED},
	}}))(t).GetEvents()
	last := events[len(events)-1].GetOwnerChange()
	if last.GetReason() != ho.GetReason() || last.GetTo().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Fatalf("timeline's last owner change: %v, want to the queue for %q", last, ho.GetReason())
	}
}

// A customer asking for a human in words hands the conversation off at once.
func TestAskingForAHumanHandsOff(t *testing.T) {
	h := start(t)
	w := h.world(1)
	ctx := context.Background()
	need(h.admin.Channels.UpdateChannel(ctx, &batonv1.UpdateChannelRequest{
		ChannelId: w.channel.GetId(), AutoHandoff: &batonv1.AutoHandoffPolicy{HumanWordsEnabled: true},
	}))(t)
	bot := h.ingest(w.channel.GetId(), "bo", "m1", "where is my parcel?").GetConversation()
	if bot.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatalf("an ordinary question left the bot: %v", bot.GetOwner())
	}
	conv := h.ingest(w.channel.GetId(), "bo", "m2", "Let me talk to a real person!").GetConversation()
	if conv.GetOwner().GetKind() == batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatal("asking for a person left the bot in charge")
	}
	if r := getHandover(t, h, conv.GetActiveHandoverId()).GetReason(); !strings.HasPrefix(r, "auto_handoff.asked_for_human") {
		t.Fatalf("reason %q", r)
	}
}

// A customer the bot leaves unanswered past the policy's timeout is handed off by the timers.
func TestUnansweredByTheBotHandsOff(t *testing.T) {
	h := start(t)
	w := h.world(0)
	ctx := context.Background()
	need(h.admin.Bots.UpdateBot(ctx, &batonv1.UpdateBotRequest{
		BotId: w.bot.GetId(), AutoHandoff: &batonv1.AutoHandoffPolicy{UnansweredTimeout: durationpb.New(2 * time.Minute), QueueAnyway: true},
	}))(t) // queue anyway: the agent's heartbeat lapses while the clock runs ahead
	conv := h.ingest(w.channel.GetId(), "cy", "m1", "hello?").GetConversation()
	h.clock.Advance(2*time.Minute - time.Second)
	runTimers(t, h)
	if got := getConversation(t, h, conv.GetId()); got.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatalf("handed off before the timeout: %v", got.GetOwner())
	}
	h.clock.Advance(time.Second)
	runTimers(t, h)
	got := getConversation(t, h, conv.GetId())
	if got.GetOwner().GetKind() == batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatal("still with the bot after the timeout")
	}
	if r := getHandover(t, h, got.GetActiveHandoverId()).GetReason(); !strings.HasPrefix(r, "auto_handoff.unanswered") {
		t.Fatalf("reason %q", r)
	}
}

// An SLA breach, driven by the injected clock, emits conversation.sla_breached once, raises the
// handover's priority, and makes ListConversations find the conversation as breached.
func TestSLABreachRaisesPriority(t *testing.T) {
	h := start(t)
	w := h.world(0) // nobody to take it: it waits
	ctx := context.Background()
	q := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{
		DisplayName: "Billing", Sla: &batonv1.QueueSla{WaitTarget: durationpb.New(3 * time.Minute), RaisePriority: 5},
	}))(t).GetQueue()
	conv := h.ingest(w.channel.GetId(), "di", "m1", "refund please").GetConversation()
	ho := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
		ConversationId: conv.GetId(), QueueAnyway: true, Reason: "refund",
		Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: q.GetId()}},
	}))(t).GetHandover()

	breaches := func() []*batonv1.Event {
		t.Helper()
		return need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
			ConversationId: conv.GetId(), Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_CONVERSATION_SLA_BREACHED},
		}}))(t).GetEvents()
	}
	breached := func(b bool) []*batonv1.Conversation {
		t.Helper()
		return need(h.admin.Conversations.ListConversations(ctx, &batonv1.ListConversationsRequest{
			Filter: &batonv1.ConversationFilter{SlaBreached: &b},
		}))(t).GetConversations()
	}
	h.clock.Advance(3*time.Minute - time.Millisecond)
	runTimers(t, h)
	if n := len(breaches()); n != 0 || len(breached(true)) != 0 {
		t.Fatalf("%d breaches before the target", n)
	}
	h.clock.Advance(time.Millisecond)
	runTimers(t, h)
	h.clock.Advance(time.Hour)
	runTimers(t, h) // still waiting: no second breach of the same target
	events := breaches()
	if len(events) != 1 {
		t.Fatalf("%d sla_breached events, want 1", len(events))
	}
	if b := events[0].GetSlaBreach(); b.GetTarget() != batonv1.SlaTarget_SLA_TARGET_WAIT || b.GetQueueId() != q.GetId() {
		t.Fatalf("breach %v", b)
	}
	if got := getHandover(t, h, ho.GetId()); got.GetPriority() != 5 || len(got.GetSlaBreaches()) != 1 {
		t.Fatalf("handover priority %d, breaches %v; want 5, [wait]", got.GetPriority(), got.GetSlaBreaches())
	}
	if got := breached(true); len(got) != 1 || got[0].GetId() != conv.GetId() {
		t.Fatalf("breached conversations: %v", got)
	}
	if got := breached(false); len(got) != 0 {
		t.Fatalf("never-breached conversations: %v", got)
	}
}
