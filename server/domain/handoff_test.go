package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
)

func handoffRequest(target domain.Target) domain.HandoffRequest {
	return domain.HandoffRequest{
		Target:    target,
		Reason:    "billing question",
		Metadata:  map[string]string{"order": "42"},
		Summary:   "wants a refund",
		Intake:    []domain.IntakeAnswer{{Question: "Order number?", Answer: "42"}},
		RequestID: "req-1",
	}
}

// requestedHO is the handover a successful handoffRequest creates as ho-1 at epoch 4, before
// any offer.
func requestedHO(target domain.Target, queueID string) domain.Handover {
	return domain.Handover{
		ID: "ho-1", ConversationID: convID, From: domain.BotOwner(botID), Target: target, QueueID: queueID,
		Reason: "billing question", Metadata: map[string]string{"order": "42"}, Summary: "wants a refund",
		Intake:      []domain.IntakeAnswer{{Question: "Order number?", Answer: "42"}},
		State:       domain.HandoverRequested,
		RequestedBy: botActor, RequestID: "req-1", Epoch: 4, CreateTime: now,
	}
}

func offeredTo(h domain.Handover, agentID string, timeout time.Duration) domain.Handover {
	h.State, h.OfferedAgentID, h.OfferExpireTime = domain.HandoverOffered, agentID, now.Add(timeout)
	return h
}

// TestHandoffExact checks a successful handoff event by event.
func TestHandoffExact(t *testing.T) {
	s := botOwned()
	req := handoffRequest(domain.Target{QueueID: qDefault})
	req.Expected = ptr[uint64](3)
	got, err := domain.Handoff(s, botActor, req, defaultRouting())
	if err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	checkInvariants(t, s, got)

	conv := s.Conversation
	conv.Owner, conv.Epoch, conv.ActiveHandoverID = domain.QueueOwner(qDefault), 4, "ho-1"
	conv.LastActivityTime, conv.UpdateTime = now, now
	requested := requestedHO(domain.Target{QueueID: qDefault}, qDefault)
	offered := offeredTo(requested, "bob", 60*time.Second)
	base := domain.Event{
		Time: now, ConversationID: convID, ChannelID: chID, BotID: botID, ContactID: ctID,
		Actor: botActor, Owner: domain.QueueOwner(qDefault), Epoch: 4, Conversation: &conv,
		OwnerBefore: ownerPtr(domain.BotOwner(botID)),
		// Every event of the change carries the audience after it: the offer to bob.
		Audience: &domain.Audience{ChannelQueueID: qDefault, QueueID: qDefault, OfferedAgentID: "bob"},
	}
	e1, e2, e3 := base, base, base
	e1.ID, e1.Type, e1.Handover = "ev-2", domain.EventHandoverRequested, &requested
	e2.ID, e2.Type = "ev-3", domain.EventOwnerChanged
	e2.OwnerChange = &domain.OwnerChange{From: domain.BotOwner(botID), To: domain.QueueOwner(qDefault), Epoch: 4, Reason: "billing question", HandoverID: "ho-1"}
	e3.ID, e3.Type, e3.Handover, e3.AgentID = "ev-4", domain.EventHandoverOffered, &offered, "bob"
	want := domain.Change{Conversation: conv, Created: []domain.Handover{offered}, Events: []domain.Event{e1, e2, e3}}
	if d := cmp.Diff(want, got, equateEmpty); d != "" {
		t.Errorf("Handoff (-want +got):\n%s", d)
	}
	if h, ok := got.Handover(); !ok || h.ID != "ho-1" {
		t.Errorf("Change.Handover() = %q, %v", h.ID, ok)
	}
}

func TestHandoff(t *testing.T) {
	queuedWant := func(h domain.Handover, queueID string) want {
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.QueueOwner(queueID), 4, "ho-1", now
			},
			created: []domain.Handover{h},
			events: func() []ev {
				evs := []ev{
					hoEvent(domain.EventHandoverRequested, botActor, "", "ho-1", domain.HandoverRequested),
					ownerChanged(botActor, domain.BotOwner(botID), domain.QueueOwner(queueID), 4, "billing question", "ho-1"),
				}
				if h.State == domain.HandoverOffered {
					evs = append(evs, hoEvent(domain.EventHandoverOffered, botActor, h.OfferedAgentID, "ho-1", domain.HandoverOffered))
				}
				return evs
			}(),
		}
	}
	failed := func(target domain.Target, queueID string, why domain.FailureReason) want {
		h := requestedHO(target, queueID)
		h.State, h.FailureReason, h.Epoch, h.EndTime = domain.HandoverFailed, why, 3, now
		return want{
			created: []domain.Handover{h},
			events:  []ev{hoEvent(domain.EventHandoverFailed, botActor, "", "ho-1", domain.HandoverFailed)},
		}
	}
	full := func(a domain.Agent) domain.Agent {
		return with(a, func(a *domain.Agent) { a.Active = max(a.Capacity, 1) })
	}
	away := func(a domain.Agent) domain.Agent {
		return with(a, func(a *domain.Agent) { a.Presence = domain.PresenceAway })
	}
	defaultTarget := domain.Target{QueueID: qDefault}
	billingTarget := domain.Target{QueueID: qBilling}
	tests := []struct {
		name    string
		s       func() domain.Situation
		actor   domain.Actor
		req     func(*domain.HandoffRequest)
		r       domain.Routing
		want    want
		wantErr errCheck
	}{
		{
			name: "to the default queue: offered to the least loaded agent for 60 s",
			r:    defaultRouting(),
			want: queuedWant(offeredTo(requestedHO(defaultTarget, qDefault), "bob", 60*time.Second), qDefault),
		},
		{
			name: "to a queue with skills and its own offer timeout",
			req:  func(r *domain.HandoffRequest) { r.Target = billingTarget },
			r:    routing(billingQueue(), roster()...),
			want: queuedWant(offeredTo(requestedHO(billingTarget, qBilling), "cat", 30*time.Second), qBilling),
		},
		{
			name: "to a skill",
			req:  func(r *domain.HandoffRequest) { r.Target = domain.Target{Skill: "french"} },
			r:    defaultRouting(),
			want: queuedWant(offeredTo(requestedHO(domain.Target{Skill: "french"}, qDefault), "ann", 60*time.Second), qDefault),
		},
		{
			name: "to a role",
			req:  func(r *domain.HandoffRequest) { r.Target = domain.Target{Role: domain.RoleSupervisor} },
			r:    defaultRouting(),
			want: queuedWant(offeredTo(requestedHO(domain.Target{Role: domain.RoleSupervisor}, qDefault), "sue", 60*time.Second), qDefault),
		},
		{
			name: "to one agent",
			req:  func(r *domain.HandoffRequest) { r.Target = domain.Target{AgentID: "ann"} },
			r:    defaultRouting(),
			want: queuedWant(offeredTo(requestedHO(domain.Target{AgentID: "ann"}, qDefault), "ann", 60*time.Second), qDefault),
		},
		{
			name: "no eligible agent online: failed, the bot keeps it",
			r:    routing(defaultQueue(), dan(), away(bob()), sue()),
			want: failed(defaultTarget, qDefault, domain.NoAgentOnline),
		},
		{
			name: "nobody at all: failed",
			r:    routing(defaultQueue()),
			want: failed(defaultTarget, qDefault, domain.NoAgentOnline),
		},
		{
			name: "the one targeted agent is offline: failed",
			req:  func(r *domain.HandoffRequest) { r.Target = domain.Target{AgentID: "dan"} },
			r:    defaultRouting(),
			want: failed(domain.Target{AgentID: "dan"}, qDefault, domain.NoAgentOnline),
		},
		{
			name: "online agents lack the queue's skill: failed",
			req:  func(r *domain.HandoffRequest) { r.Target = billingTarget },
			r:    routing(billingQueue(), bob(), sue(), with(bob(), func(a *domain.Agent) { a.ID = "bea"; a.QueueIDs = []string{qBilling} })),
			want: failed(billingTarget, qBilling, domain.NoAgentOnline),
		},
		{
			name: "eligible agents online but all at capacity: failed",
			r:    routing(defaultQueue(), full(ann()), full(bob()), full(cat()), dan()),
			want: failed(defaultTarget, qDefault, domain.NoCapacity),
		},
		{
			name: "queue anyway with nobody online: queued, not offered",
			req:  func(r *domain.HandoffRequest) { r.QueueAnyway = true },
			r:    routing(defaultQueue(), dan()),
			want: queuedWant(requestedHO(defaultTarget, qDefault), qDefault),
		},
		{
			name: "queue anyway with everyone at capacity: queued, not offered",
			req:  func(r *domain.HandoffRequest) { r.QueueAnyway = true },
			r:    routing(defaultQueue(), full(ann()), full(bob())),
			want: queuedWant(requestedHO(defaultTarget, qDefault), qDefault),
		},
		{
			name: "queue anyway with someone available: offered as usual",
			req:  func(r *domain.HandoffRequest) { r.QueueAnyway = true },
			r:    routing(defaultQueue(), ann(), full(bob())),
			want: queuedWant(offeredTo(requestedHO(defaultTarget, qDefault), "ann", 60*time.Second), qDefault),
		},
		{
			name: "at the epoch the bot believes in",
			req:  func(r *domain.HandoffRequest) { r.Expected = ptr[uint64](3) },
			r:    defaultRouting(),
			want: queuedWant(offeredTo(requestedHO(defaultTarget, qDefault), "bob", 60*time.Second), qDefault),
		},
		{
			name:    "stale epoch",
			req:     func(r *domain.HandoffRequest) { r.Expected = ptr[uint64](2) },
			r:       defaultRouting(),
			wantErr: isOwnership("epoch", domain.BotOwner(botID), 3),
		},
		{
			name:    "another bot",
			actor:   domain.Actor{Kind: domain.ActorBot, ID: "bot-2"},
			r:       defaultRouting(),
			wantErr: isOwnership("owner", domain.BotOwner(botID), 3),
		},
		{
			name:    "already queued",
			s:       func() domain.Situation { return queued(offeredHO("ann")) },
			r:       defaultRouting(),
			wantErr: isOwnership("owner", domain.QueueOwner(qDefault), 4),
		},
		{
			name:    "agent-owned",
			s:       func() domain.Situation { return engaged("bob") },
			r:       defaultRouting(),
			wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5),
		},
		{
			name:    "closed",
			s:       closedConv,
			r:       defaultRouting(),
			wantErr: isOwnership("owner", domain.Nobody, 6),
		},
		{
			name:    "not bot-owned, even when no agent is online",
			s:       func() domain.Situation { return engaged("bob") },
			r:       routing(defaultQueue()),
			wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := botOwned()
			if tt.s != nil {
				s = tt.s()
			}
			actor := botActor
			if tt.actor != (domain.Actor{}) {
				actor = tt.actor
			}
			req := handoffRequest(domain.Target{QueueID: qDefault})
			if tt.req != nil {
				tt.req(&req)
			}
			got, err := domain.Handoff(s, actor, req, tt.r)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Handoff: %v", err)
			}
			assertChange(t, s, got, tt.want)
			if got.Conversation.Owner.Kind == domain.OwnerBot && (got.Conversation.Epoch != s.Conversation.Epoch || got.Conversation.Owner != s.Conversation.Owner) {
				t.Errorf("a failed handoff changed the owner or the epoch")
			}
		})
	}
}
