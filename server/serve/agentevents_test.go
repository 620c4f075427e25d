package serve_test

import (
	"context"
	"slices"
	"testing"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// deskAgent is an agent of the access story with its client.
type deskAgent struct {
	name string
	id   string
	api  *client.Client
}

// TestAgentEventsFollowTheReads walks a story through every kind of ownership change and, after
// each step, checks that each agent reads (ListEvents, and its Subscribe stream at the end)
// exactly the step's events its reads allow: those of a
// conversation it can read right after the step, those of the step in which it lost a
// conversation it owned, and those about itself (a supervisor reads everything).
func TestAgentEventsFollowTheReads(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { agentEventsFollowTheReads(t, start(t)) })
	t.Run("postgres", func(t *testing.T) { agentEventsFollowTheReads(t, replicas(t, 1)[0]) })
}

func agentEventsFollowTheReads(t *testing.T, h *harness) {
	ctx := context.Background()
	w := h.world(0)
	billing := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	elsewhere := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Elsewhere"}))(t).GetQueue()
	newAgent := func(name string, role batonv1.AgentRole, queues ...string) deskAgent {
		ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: name, QueueIds: queues, Capacity: 3, Role: role}))(t).GetAgent()
		api := h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
		need(api.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
		return deskAgent{name: name, id: ag.GetId(), api: api}
	}
	bob := newAgent("bob", batonv1.AgentRole_AGENT_ROLE_AGENT, domain.DefaultQueueID)
	cat := newAgent("cat", batonv1.AgentRole_AGENT_ROLE_AGENT, domain.DefaultQueueID, billing.GetId())
	eve := newAgent("eve", batonv1.AgentRole_AGENT_ROLE_AGENT, elsewhere.GetId())
	sue := newAgent("sue", batonv1.AgentRole_AGENT_ROLE_SUPERVISOR)
	desk := []deskAgent{bob, cat, eve, sue}

	start := lastSequence(t, h.admin)
	statuses := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: &start, Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_STATUS_CHANGED},
	}})
	conv := h.ingest(w.channel.GetId(), "c1", "m1", "hello").GetConversation()
	convID := conv.GetId()
	contactID := h.ingest(w.channel.GetId(), "c1", "m0", "again").GetContact().GetId()
	var handoverID string
	queue := func(id string) *batonv1.HandoverTarget {
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: id}}
	}
	offeredTo := func() deskAgent {
		ho := getHandover(t, h, handoverID)
		for _, a := range desk {
			if a.id == ho.GetOfferedAgentId() {
				return a
			}
		}
		t.Fatalf("handover %s is offered to %q, no agent of the story", handoverID, ho.GetOfferedAgentId())
		return deskAgent{}
	}
	steps := []struct {
		name string
		run  func()
	}{
		{"the bot hands off", func() {
			handoverID = need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: convID, Reason: "human", QueueAnyway: true}))(t).GetHandover().GetId()
		}},
		{"the offered agent declines", func() {
			need(offeredTo().api.Handovers.DeclineHandover(ctx, &batonv1.DeclineHandoverRequest{HandoverId: handoverID}))(t)
		}},
		{"cat accepts", func() {
			need(cat.api.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: handoverID}))(t)
		}},
		{"cat replies", func() {
			need(cat.api.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: convID, Content: text_("hi, cat here")}))(t)
			statuses.next(t, 1) // the channel's sender reports it sent, in the same step
		}},
		{"the customer writes", func() { h.ingest(w.channel.GetId(), "c1", "m2", "thanks") }},
		{"cat transfers to billing", func() {
			need(cat.api.Handovers.Transfer(ctx, &batonv1.TransferRequest{ConversationId: convID, Target: queue(billing.GetId())}))(t)
		}},
		{"sue takes over", func() {
			need(sue.api.Handovers.Takeover(ctx, &batonv1.TakeoverRequest{ConversationId: convID}))(t)
		}},
		{"sue mutes the bot", func() {
			need(sue.api.Conversations.MuteBot(ctx, &batonv1.MuteBotRequest{Scope: &batonv1.MuteBotRequest_ConversationId{ConversationId: convID}}))(t)
		}},
		{"sue tags it", func() {
			need(sue.api.Conversations.UpdateConversation(ctx, &batonv1.UpdateConversationRequest{ConversationId: convID, AddTags: []string{"vip"}}))(t)
		}},
		{"sue unmutes the bot", func() {
			need(sue.api.Conversations.UnmuteBot(ctx, &batonv1.UnmuteBotRequest{Scope: &batonv1.UnmuteBotRequest_ConversationId{ConversationId: convID}}))(t)
		}},
		{"sue hands back", func() {
			need(sue.api.Handovers.Handback(ctx, &batonv1.HandbackRequest{ConversationId: convID, Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED}))(t)
		}},
		{"an admin closes it", func() {
			need(h.admin.Conversations.CloseConversation(ctx, &batonv1.CloseConversationRequest{ConversationId: convID}))(t)
		}},
		{"the customer writes again", func() { h.ingest(w.channel.GetId(), "c1", "m3", "one more thing") }},
		{"eve takes a break", func() {
			need(eve.api.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_AWAY}))(t)
		}},
		{"an admin mutes the bot for the contact", func() {
			need(h.admin.Conversations.MuteBot(ctx, &batonv1.MuteBotRequest{Scope: &batonv1.MuteBotRequest_ContactId{ContactId: contactID}}))(t)
		}},
	}

	// The last step is each agent going offline: an event about itself that ends its stream's
	// share of the story.
	for _, a := range desk {
		steps = append(steps, struct {
			name string
			run  func()
		}{a.name + " goes offline", func() {
			need(a.api.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_OFFLINE}))(t)
		}})
	}

	cursor := lastSequence(t, h.admin)
	agentCursor := map[string]uint64{}
	streams := map[string]*subscription{}
	streamed := map[string][]uint64{} // what each agent's stream must deliver, in order
	for _, a := range desk {
		agentCursor[a.id] = cursor
		streams[a.id] = subscribe(t, a.api, &batonv1.SubscribeRequest{AfterSequence: &cursor})
	}
	for _, step := range steps {
		before := getConversation(t, h, convID).GetOwner()
		step.run()
		after := getConversation(t, h, convID).GetOwner()
		all := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{AfterSequence: cursor, PageSize: 1000}))(t)
		cursor = all.GetCursor()
		for _, a := range desk {
			_, convErr := a.api.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: convID})
			_, contactErr := a.api.Conversations.GetContact(ctx, &batonv1.GetContactRequest{ContactId: contactID})
			lost := before.GetId() == a.id && after.GetId() != a.id
			var want []uint64
			for _, e := range all.GetEvents() {
				// Events about agents (presence) are their own and the supervisors'.
				readable := e.GetAgentId() == a.id || a.id == sue.id
				switch {
				case e.GetConversationId() != "":
					readable = readable || convErr == nil || lost
				case e.GetContactId() != "":
					readable = readable || contactErr == nil
				}
				if readable {
					want = append(want, e.GetSequence())
				}
			}
			got := need(a.api.Events.ListEvents(ctx, &batonv1.ListEventsRequest{AfterSequence: agentCursor[a.id], PageSize: 1000}))(t)
			agentCursor[a.id] = got.GetCursor()
			var gotSeqs []uint64
			for _, e := range got.GetEvents() {
				gotSeqs = append(gotSeqs, e.GetSequence())
			}
			if !slices.Equal(gotSeqs, want) {
				t.Errorf("%s: %s reads events %v, want %v (of %v)", step.name, a.name, gotSeqs, want, types(wrap(all.GetEvents())))
			}
			streamed[a.id] = append(streamed[a.id], want...)
		}
	}
	for _, a := range desk {
		var got []uint64
		for _, e := range streams[a.id].next(t, len(streamed[a.id])) {
			got = append(got, e.GetEvent().GetSequence())
		}
		if !slices.Equal(got, streamed[a.id]) {
			t.Errorf("%s's stream delivered %v, want %v", a.name, got, streamed[a.id])
		}
	}
}

func lastSequence(t *testing.T, c *client.Client) uint64 {
	t.Helper()
	var after uint64
	for {
		page := need(c.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{AfterSequence: after, PageSize: 1000}))(t)
		if page.GetCursor() == after {
			return after
		}
		after = page.GetCursor()
	}
}

func wrap(events []*batonv1.Event) []*batonv1.SubscribedEvent {
	out := make([]*batonv1.SubscribedEvent, len(events))
	for i, e := range events {
		out[i] = &batonv1.SubscribedEvent{Event: e}
	}
	return out
}
