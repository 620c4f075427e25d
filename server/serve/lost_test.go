package serve_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// lostWorld is an agent who accepted a conversation, a supervisor, a second queue the agent is
// not in, and a stranger who never had any part in the conversation.
type lostWorld struct {
	world
	conv     *batonv1.Conversation // as the agent accepted it
	handover *batonv1.Handover     // the handover the agent accepted
	billing  *batonv1.Queue
	stranger *batonv1.Agent
}

func newLostWorld(t *testing.T, h *harness) lostWorld {
	t.Helper()
	ctx := context.Background()
	w := h.world(2)
	need(h.admin.Routing.UpdateAgent(ctx, &batonv1.UpdateAgentRequest{AgentId: w.agents[1].GetId(), Role: batonv1.AgentRole_AGENT_ROLE_SUPERVISOR.Enum()}))(t)
	_, ho := handedOff(t, h, w, "c")
	accepted := need(w.agentAPI[0].Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)
	billing := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	elsewhere := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Elsewhere"}))(t).GetQueue()
	stranger := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Stranger", QueueIds: []string{elsewhere.GetId()}, Capacity: 2,
	}))(t).GetAgent()
	return lostWorld{world: w, conv: accepted.GetConversation(), handover: accepted.GetHandover(), billing: billing, stranger: stranger}
}

// ownershipCalls are every call that acts on a conversation's ownership, made by c with the
// epoch it believed in.
func ownershipCalls(lw lostWorld, epoch uint64) map[string]func(ctx context.Context, c *client.Client) error {
	convID, hoID := lw.conv.GetId(), lw.handover.GetId()
	return map[string]func(ctx context.Context, c *client.Client) error{
		"send with its epoch": func(ctx context.Context, c *client.Client) error {
			_, err := c.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: convID, ExpectedEpoch: &epoch, Content: text_("still here")})
			return err
		},
		"send without an epoch": func(ctx context.Context, c *client.Client) error {
			_, err := c.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: convID, Content: text_("still here")})
			return err
		},
		"handback": func(ctx context.Context, c *client.Client) error {
			_, err := c.Handovers.Handback(ctx, &batonv1.HandbackRequest{ConversationId: convID, ExpectedEpoch: &epoch, Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED})
			return err
		},
		"transfer": func(ctx context.Context, c *client.Client) error {
			_, err := c.Handovers.Transfer(ctx, &batonv1.TransferRequest{ConversationId: convID, ExpectedEpoch: &epoch,
				Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: domain.DefaultQueueID}}})
			return err
		},
		"close": func(ctx context.Context, c *client.Client) error {
			_, err := c.Conversations.CloseConversation(ctx, &batonv1.CloseConversationRequest{ConversationId: convID, ExpectedEpoch: &epoch})
			return err
		},
		"mute": func(ctx context.Context, c *client.Client) error {
			_, err := c.Conversations.MuteBot(ctx, &batonv1.MuteBotRequest{Scope: &batonv1.MuteBotRequest_ConversationId{ConversationId: convID}})
			return err
		},
		"accept": func(ctx context.Context, c *client.Client) error {
			_, err := c.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: hoID})
			return err
		},
		"decline": func(ctx context.Context, c *client.Client) error {
			_, err := c.Handovers.DeclineHandover(ctx, &batonv1.DeclineHandoverRequest{HandoverId: hoID})
			return err
		},
	}
}

// TestFormerOwnerIsToldItLostTheConversation: an agent that held a conversation and lost it, in
// every way it can be lost, is refused every ownership call with FAILED_PRECONDITION naming the
// owner and epoch now, and the refusal changes nothing; an agent that never had a part in the
// conversation is told it does not exist.
func TestFormerOwnerIsToldItLostTheConversation(t *testing.T) {
	losses := map[string]func(t *testing.T, h *harness, lw lostWorld){
		"a supervisor took it over": func(t *testing.T, h *harness, lw lostWorld) {
			need(lw.agentAPI[1].Handovers.Takeover(context.Background(), &batonv1.TakeoverRequest{ConversationId: lw.conv.GetId()}))(t)
		},
		"it transferred it out of its queues": func(t *testing.T, h *harness, lw lostWorld) {
			need(lw.agentAPI[0].Handovers.Transfer(context.Background(), &batonv1.TransferRequest{ConversationId: lw.conv.GetId(),
				Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: lw.billing.GetId()}}}))(t)
		},
		"a supervisor transferred it out of its queues": func(t *testing.T, h *harness, lw lostWorld) {
			need(lw.agentAPI[1].Handovers.Transfer(context.Background(), &batonv1.TransferRequest{ConversationId: lw.conv.GetId(),
				Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: lw.billing.GetId()}}}))(t)
		},
		"it handed it back": func(t *testing.T, h *harness, lw lostWorld) {
			need(lw.agentAPI[0].Handovers.Handback(context.Background(), &batonv1.HandbackRequest{ConversationId: lw.conv.GetId(),
				Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED}))(t)
		},
		"the session timed out": func(t *testing.T, h *harness, lw lostWorld) {
			h.clock.Advance(domain.DefaultSessionTimeout + time.Minute)
			runTimers(t, h)
		},
		"an admin closed it": func(t *testing.T, h *harness, lw lostWorld) {
			need(h.admin.Conversations.CloseConversation(context.Background(), &batonv1.CloseConversationRequest{ConversationId: lw.conv.GetId()}))(t)
		},
	}
	for loss, lose := range losses {
		t.Run(loss, func(t *testing.T) {
			h := start(t)
			lw := newLostWorld(t, h)
			lose(t, h, lw)
			now := getConversation(t, h, lw.conv.GetId())
			if now.GetOwner().GetId() == lw.agents[0].GetId() {
				t.Fatalf("the agent still owns the conversation: %v", now.GetOwner())
			}
			stranger := h.key(batonv1.Role_ROLE_AGENT, lw.stranger.GetId())
			for name, call := range ownershipCalls(lw, lw.conv.GetEpoch()) {
				ctx := context.Background()
				err := call(ctx, lw.agentAPI[0])
				if code(err) != connect.CodeFailedPrecondition {
					t.Errorf("%s: %v, want FAILED_PRECONDITION", name, err)
					continue
				}
				info := ownershipInfo(t, err)
				if info.GetOwner().GetId() != now.GetOwner().GetId() || info.GetOwner().GetKind() != now.GetOwner().GetKind() || info.GetEpoch() != now.GetEpoch() {
					t.Errorf("%s: told owner %v at epoch %d, want %v at %d", name, info.GetOwner(), info.GetEpoch(), now.GetOwner(), now.GetEpoch())
				}
				if after := getConversation(t, h, lw.conv.GetId()); after.GetEpoch() != now.GetEpoch() || after.GetState() != now.GetState() {
					t.Errorf("%s: the refused call changed the conversation: epoch %d → %d, state %v → %v", name, now.GetEpoch(), after.GetEpoch(), now.GetState(), after.GetState())
				}
				err = call(ctx, stranger)
				if code(err) != connect.CodeNotFound {
					t.Errorf("%s by a stranger: %v, want NOT_FOUND", name, err)
				} else if id := now.GetOwner().GetId(); id != "" && strings.Contains(err.Error(), id) {
					t.Errorf("%s by a stranger: the refusal names the owner: %v", name, err)
				}
			}
		})
	}
}

// TestUnboundBotIsToldItLostTheConversation: a bot whose channel was bound to another bot
// learns, on a late reply, who owns its former conversation now.
func TestUnboundBotIsToldItLostTheConversation(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	conv := h.ingest(w.channel.GetId(), "c", "m", "hi").GetConversation()
	other := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Successor"}))(t).GetBot()
	need(h.admin.Bots.UnbindChannel(ctx, &batonv1.UnbindChannelRequest{BotId: w.bot.GetId(), ChannelId: w.channel.GetId()}))(t)
	need(h.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: other.GetId(), ChannelId: w.channel.GetId()}))(t)
	h.ingest(w.channel.GetId(), "c", "m2", "anyone there?") // the successor takes the conversation
	now := getConversation(t, h, conv.GetId())

	epoch := conv.GetEpoch()
	_, err := w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), ExpectedEpoch: &epoch, Content: text_("late")})
	if code(err) != connect.CodeFailedPrecondition {
		t.Fatalf("late reply of the unbound bot: %v, want FAILED_PRECONDITION", err)
	}
	if info := ownershipInfo(t, err); info.GetOwner().GetId() != now.GetOwner().GetId() || info.GetEpoch() != now.GetEpoch() {
		t.Errorf("told owner %v at %d, want %v at %d", info.GetOwner(), info.GetEpoch(), now.GetOwner(), now.GetEpoch())
	}
}
