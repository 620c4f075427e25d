package domain_test

import (
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// ended is h ended now for reason in state.
func ended(h domain.Handover, state domain.HandoverState, reason domain.EndReason) domain.Handover {
	h.State, h.EndReason, h.EndTime = state, reason, now
	if state != domain.HandoverReleased {
		h.OfferedAgentID = ""
	}
	return h
}

func TestHandback(t *testing.T) {
	released := func(outcome domain.Outcome, summary string) domain.Handover {
		h := ended(engagedHO("bob"), domain.HandoverReleased, domain.EndHandedBack)
		h.Outcome, h.HandbackSummary = outcome, summary
		return h
	}
	bobActor := agentActor("bob")
	closedWant := func(outcome domain.Outcome) want {
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.State, c.ActiveHandoverID, c.LastActivityTime = domain.Nobody, 6, domain.ConversationClosed, "", now
			},
			updated: []domain.Handover{released(outcome, "")},
			events: []ev{
				hoEvent(domain.EventHandoverReleased, bobActor, "bob", "ho-e", domain.HandoverReleased),
				ownerChanged(bobActor, domain.AgentOwner("bob"), domain.Nobody, 6, "handed back: "+string(outcome), ""),
				{Type: domain.EventConversationClosed, Actor: bobActor},
			},
		}
	}
	tests := []struct {
		name     string
		s        func() domain.Situation
		agent    domain.Agent
		expected *uint64
		outcome  domain.Outcome
		summary  string
		want     want
		wantErr  errCheck
	}{
		{
			name: "the bot owns again", agent: bob(), expected: ptr[uint64](5),
			outcome: domain.OutcomeResolved, summary: "refund issued",
			want: want{
				conv: func(c *domain.Conversation) {
					c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.BotOwner(botID), 6, "", now
				},
				updated: []domain.Handover{released(domain.OutcomeResolved, "refund issued")},
				events: []ev{
					hoEvent(domain.EventHandoverReleased, bobActor, "bob", "ho-e", domain.HandoverReleased),
					ownerChanged(bobActor, domain.AgentOwner("bob"), domain.BotOwner(botID), 6, "handed back: resolved", ""),
				},
			},
		},
		{
			name: "no bot: the conversation is closed", s: func() domain.Situation { return botless(engaged("bob")) },
			agent: bob(), outcome: domain.OutcomeUnresolved, want: closedWant(domain.OutcomeUnresolved),
		},
		{
			name: "the bot is muted: the conversation is closed",
			s: func() domain.Situation {
				s := engaged("bob")
				s.Contact.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			agent: bob(), outcome: domain.OutcomeCustomerInactive, want: closedWant(domain.OutcomeCustomerInactive),
		},
		{name: "another agent", agent: ann(), outcome: domain.OutcomeResolved, wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5)},
		{name: "a supervisor who is not engaged", agent: sue(), outcome: domain.OutcomeResolved, wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5)},
		{name: "a bot-owned conversation", s: botOwned, agent: bob(), outcome: domain.OutcomeResolved, wantErr: isOwnership("owner", domain.BotOwner(botID), 3)},
		{name: "a queued conversation offered to the agent", s: func() domain.Situation { return queued(offeredHO("bob")) }, agent: bob(), outcome: domain.OutcomeResolved, wantErr: isOwnership("owner", domain.QueueOwner(qDefault), 4)},
		{name: "stale epoch", agent: bob(), expected: ptr[uint64](4), outcome: domain.OutcomeResolved, wantErr: isOwnership("epoch", domain.AgentOwner("bob"), 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := engaged("bob")
			if tt.s != nil {
				s = tt.s()
			}
			got, err := domain.Handback(s, tt.agent, tt.expected, tt.outcome, tt.summary)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Handback: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}

func TestTakeover(t *testing.T) {
	engagement := func(id string, from domain.Owner, agentID, reason string, epoch uint64) domain.Handover {
		return domain.Handover{
			ID: id, ConversationID: convID, From: from, Target: domain.Target{AgentID: agentID}, Reason: reason,
			State: domain.HandoverAccepted, AgentID: agentID, RequestedBy: agentActor(agentID), Epoch: epoch,
			CreateTime: now, AcceptTime: now,
		}
	}
	takenBy := func(agentID, id string, epoch uint64, edit func(*domain.Conversation)) func(*domain.Conversation) {
		return func(c *domain.Conversation) {
			c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.AgentOwner(agentID), epoch, id, now
			if edit != nil {
				edit(c)
			}
		}
	}
	bobActor, sueActor := agentActor("bob"), agentActor("sue")
	tests := []struct {
		name     string
		s        func() domain.Situation
		agent    domain.Agent
		expected *uint64
		reason   string
		want     want
		wantErr  errCheck
	}{
		{
			name: "an agent from the bot", s: botOwned, agent: bob(), expected: ptr[uint64](3),
			want: want{
				conv:    takenBy("bob", "ho-1", 4, nil),
				created: []domain.Handover{engagement("ho-1", domain.BotOwner(botID), "bob", "takeover", 4)},
				events: []ev{
					ownerChanged(bobActor, domain.BotOwner(botID), domain.AgentOwner("bob"), 4, "takeover", "ho-1"),
					hoEvent(domain.EventHandoverAccepted, bobActor, "bob", "ho-1", domain.HandoverAccepted),
				},
			},
		},
		{
			name: "an agent from the queue cancels the waiting handover", s: func() domain.Situation { return queued(offeredHO("ann")) },
			agent: bob(), reason: "escalation",
			want: want{
				conv:    takenBy("bob", "ho-2", 5, nil),
				updated: []domain.Handover{ended(offeredHO("ann"), domain.HandoverCanceled, domain.EndTakenOver)},
				created: []domain.Handover{engagement("ho-2", domain.QueueOwner(qDefault), "bob", "escalation", 5)},
				events: []ev{
					hoEvent(domain.EventHandoverCanceled, bobActor, "", "ho-w", domain.HandoverCanceled),
					ownerChanged(bobActor, domain.QueueOwner(qDefault), domain.AgentOwner("bob"), 5, "escalation", "ho-2"),
					hoEvent(domain.EventHandoverAccepted, bobActor, "bob", "ho-2", domain.HandoverAccepted),
				},
			},
		},
		{
			name: "an agent reopens a closed conversation", s: closedConv, agent: bob(),
			want: want{
				conv:    takenBy("bob", "ho-1", 7, func(c *domain.Conversation) { c.State = domain.ConversationOpen }),
				created: []domain.Handover{engagement("ho-1", domain.Nobody, "bob", "takeover", 7)},
				events: []ev{
					ownerChanged(bobActor, domain.Nobody, domain.AgentOwner("bob"), 7, "takeover", "ho-1"),
					hoEvent(domain.EventHandoverAccepted, bobActor, "bob", "ho-1", domain.HandoverAccepted),
				},
			},
		},
		{
			name: "a supervisor from another agent releases that engagement", s: func() domain.Situation { return engaged("bob") },
			agent: sue(), expected: ptr[uint64](5),
			want: want{
				conv:    takenBy("sue", "ho-2", 6, nil),
				updated: []domain.Handover{ended(engagedHO("bob"), domain.HandoverReleased, domain.EndTakenOver)},
				created: []domain.Handover{engagement("ho-2", domain.AgentOwner("bob"), "sue", "takeover", 6)},
				events: []ev{
					hoEvent(domain.EventHandoverReleased, sueActor, "bob", "ho-e", domain.HandoverReleased),
					ownerChanged(sueActor, domain.AgentOwner("bob"), domain.AgentOwner("sue"), 6, "takeover", "ho-2"),
					hoEvent(domain.EventHandoverAccepted, sueActor, "sue", "ho-2", domain.HandoverAccepted),
				},
			},
		},
		{name: "a plain agent from another agent", s: func() domain.Situation { return engaged("bob") }, agent: ann(), wantErr: isPermission()},
		{name: "the owning agent", s: func() domain.Situation { return engaged("bob") }, agent: bob(), wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5)},
		{name: "the owning supervisor", s: func() domain.Situation { return engaged("sue") }, agent: sue(), wantErr: isOwnership("owner", domain.AgentOwner("sue"), 5)},
		{name: "stale epoch", s: botOwned, agent: bob(), expected: ptr[uint64](2), wantErr: isOwnership("epoch", domain.BotOwner(botID), 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s()
			got, err := domain.Takeover(s, tt.agent, tt.expected, tt.reason)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Takeover: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}

func TestTransfer(t *testing.T) {
	waiting := func(from domain.Owner, target domain.Target, queueID, reason, summary string, by domain.Actor, offered string, timeout time.Duration) domain.Handover {
		h := domain.Handover{
			ID: "ho-2", ConversationID: convID, From: from, Target: target, QueueID: queueID, Reason: reason, Summary: summary,
			State: domain.HandoverRequested, RequestedBy: by, Epoch: 6, CreateTime: now,
		}
		if offered != "" {
			h = offeredTo(h, offered, timeout)
		}
		return h
	}
	transferred := func(by domain.Actor, queueID, reason string, h domain.Handover) want {
		evs := []ev{
			hoEvent(domain.EventHandoverReleased, by, "bob", "ho-e", domain.HandoverReleased),
			hoEvent(domain.EventHandoverRequested, by, "", "ho-2", domain.HandoverRequested),
			ownerChanged(by, domain.AgentOwner("bob"), domain.QueueOwner(queueID), 6, reason, "ho-2"),
		}
		if h.OfferedAgentID != "" {
			evs = append(evs, hoEvent(domain.EventHandoverOffered, by, h.OfferedAgentID, "ho-2", domain.HandoverOffered))
		}
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.QueueOwner(queueID), 6, "ho-2", now
			},
			updated: []domain.Handover{ended(engagedHO("bob"), domain.HandoverReleased, domain.EndTransferred)},
			created: []domain.Handover{h},
			events:  evs,
		}
	}
	// bob is engaged in this conversation, so his load counts it.
	busyBob := with(bob(), func(a *domain.Agent) { a.Active = 1 })
	bobOwner := domain.AgentOwner("bob")
	bobActor, sueActor := agentActor("bob"), agentActor("sue")
	billing := domain.Target{QueueID: qBilling}
	tests := []struct {
		name     string
		s        func() domain.Situation
		agent    domain.Agent
		expected *uint64
		target   domain.Target
		reason   string
		r        domain.Routing
		want     want
		wantErr  errCheck
	}{
		{
			name: "to another queue", agent: busyBob, expected: ptr[uint64](5), target: billing,
			r:    routing(billingQueue(), ann(), busyBob, cat()),
			want: transferred(bobActor, qBilling, "transfer", waiting(bobOwner, billing, qBilling, "transfer", "needs billing", bobActor, "cat", 30*time.Second)),
		},
		{
			name: "to another agent", agent: busyBob, target: domain.Target{AgentID: "ann"}, reason: "speaks french",
			r:    routing(defaultQueue(), ann(), busyBob, cat()),
			want: transferred(bobActor, qDefault, "speaks french", waiting(bobOwner, domain.Target{AgentID: "ann"}, qDefault, "speaks french", "needs billing", bobActor, "ann", 60*time.Second)),
		},
		{
			name: "with nobody available: waits in the queue", agent: busyBob, target: billing,
			r:    routing(billingQueue(), dan()),
			want: transferred(bobActor, qBilling, "transfer", waiting(bobOwner, billing, qBilling, "transfer", "needs billing", bobActor, "", 0)),
		},
		{
			name: "a supervisor transfers another agent's conversation", agent: sue(), target: domain.Target{QueueID: qDefault},
			r:    routing(defaultQueue(), ann(), busyBob, cat()),
			want: transferred(sueActor, qDefault, "transfer", waiting(bobOwner, domain.Target{QueueID: qDefault}, qDefault, "transfer", "needs billing", sueActor, "cat", 60*time.Second)),
		},
		{name: "to itself", agent: busyBob, target: domain.Target{AgentID: "bob"}, r: defaultRouting(), wantErr: isInvalid("target.agent_id")},
		{name: "by another agent", agent: ann(), target: billing, r: defaultRouting(), wantErr: isOwnership("owner", bobOwner, 5)},
		{name: "a bot-owned conversation", s: botOwned, agent: busyBob, target: billing, r: defaultRouting(), wantErr: isOwnership("owner", domain.BotOwner(botID), 3)},
		{name: "a queued conversation, by a supervisor", s: func() domain.Situation { return queued(waitingHO()) }, agent: sue(), target: billing, r: defaultRouting(), wantErr: isOwnership("owner", domain.QueueOwner(qDefault), 4)},
		{name: "stale epoch", agent: busyBob, expected: ptr[uint64](4), target: billing, r: defaultRouting(), wantErr: isOwnership("epoch", bobOwner, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := engaged("bob")
			if tt.s != nil {
				s = tt.s()
			}
			got, err := domain.Transfer(s, tt.agent, tt.expected, tt.target, tt.reason, "needs billing", domain.RouteMatch{}, tt.r)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Transfer: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}

func TestClose(t *testing.T) {
	closed := func(from domain.Owner, epoch uint64, actor domain.Actor, reason string, pre []ev, updated []domain.Handover) want {
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.State, c.ActiveHandoverID, c.LastActivityTime = domain.Nobody, epoch, domain.ConversationClosed, "", now
			},
			updated: updated,
			events: append(pre,
				ownerChanged(actor, from, domain.Nobody, epoch, reason, ""),
				ev{Type: domain.EventConversationClosed, Actor: actor}),
		}
	}
	bobActor := agentActor("bob")
	tests := []struct {
		name     string
		s        func() domain.Situation
		actor    domain.Actor
		expected *uint64
		reason   string
		want     want
		wantErr  errCheck
	}{
		{
			name: "the bot closes its conversation", s: botOwned, actor: botActor, expected: ptr[uint64](3),
			want: closed(domain.BotOwner(botID), 4, botActor, "closed", nil, nil),
		},
		{
			name: "an admin closes a queued conversation: the waiting handover is canceled", s: func() domain.Situation { return queued(offeredHO("ann")) },
			actor: adminActor, reason: "spam",
			want: closed(domain.QueueOwner(qDefault), 5, adminActor, "spam",
				[]ev{hoEvent(domain.EventHandoverCanceled, adminActor, "", "ho-w", domain.HandoverCanceled)},
				[]domain.Handover{ended(offeredHO("ann"), domain.HandoverCanceled, domain.EndClosed)}),
		},
		{
			name: "the agent closes: the engagement is released", s: func() domain.Situation { return engaged("bob") }, actor: bobActor,
			want: closed(domain.AgentOwner("bob"), 6, bobActor, "closed",
				[]ev{hoEvent(domain.EventHandoverReleased, bobActor, "bob", "ho-e", domain.HandoverReleased)},
				[]domain.Handover{ended(engagedHO("bob"), domain.HandoverReleased, domain.EndClosed)}),
		},
		{name: "already closed", s: closedConv, actor: adminActor, wantErr: isOwnership("state", domain.Nobody, 6)},
		{name: "stale epoch", s: botOwned, actor: botActor, expected: ptr[uint64](1), wantErr: isOwnership("epoch", domain.BotOwner(botID), 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s()
			got, err := domain.Close(s, tt.actor, tt.expected, tt.reason)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}

func TestSessionTimeout(t *testing.T) {
	sys := domain.System
	idle := func(s domain.Situation, d time.Duration) domain.Situation {
		s.Conversation.LastActivityTime = now.Add(-d)
		return s
	}
	closed := func(from domain.Owner, epoch uint64, pre []ev, updated []domain.Handover) want {
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.State, c.ActiveHandoverID, c.LastActivityTime = domain.Nobody, epoch, domain.ConversationClosed, "", now
			},
			updated: updated,
			events: append(pre,
				ownerChanged(sys, from, domain.Nobody, epoch, "session timeout", ""),
				ev{Type: domain.EventConversationClosed, Actor: sys}),
		}
	}
	toBot := func(from domain.Owner, epoch uint64, pre ev, updated domain.Handover) want {
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.BotOwner(botID), epoch, "", now
			},
			updated: []domain.Handover{updated},
			events:  []ev{pre, ownerChanged(sys, from, domain.BotOwner(botID), epoch, "session timeout", "")},
		}
	}
	releasedBob := hoEvent(domain.EventHandoverReleased, sys, "bob", "ho-e", domain.HandoverReleased)
	expiredW := hoEvent(domain.EventHandoverExpired, sys, "", "ho-w", domain.HandoverExpired)
	tests := []struct {
		name   string
		s      domain.Situation
		wantOK bool
		want   want
	}{
		{name: "default 24 h: not due a nanosecond before", s: idle(botOwned(), 24*time.Hour-time.Nanosecond)},
		{
			name: "default 24 h: due exactly then; the bot's conversation is closed", s: idle(botOwned(), 24*time.Hour), wantOK: true,
			want: closed(domain.BotOwner(botID), 4, nil, nil),
		},
		{name: "the channel's timeout: not due", s: func() domain.Situation {
			s := idle(botOwned(), 90*time.Minute)
			s.Channel.SessionTimeout = 2 * time.Hour
			return s
		}()},
		{
			name: "the channel's timeout: due", wantOK: true,
			s: func() domain.Situation {
				s := idle(botOwned(), 90*time.Minute)
				s.Channel.SessionTimeout = time.Hour
				return s
			}(),
			want: closed(domain.BotOwner(botID), 4, nil, nil),
		},
		{
			name: "agent-owned: back to the bot", s: idle(engaged("bob"), 25*time.Hour), wantOK: true,
			want: toBot(domain.AgentOwner("bob"), 6, releasedBob, ended(engagedHO("bob"), domain.HandoverReleased, domain.EndSessionTimeout)),
		},
		{
			name: "queue-owned: the handover expires, back to the bot", s: idle(queued(offeredHO("ann")), 25*time.Hour), wantOK: true,
			want: toBot(domain.QueueOwner(qDefault), 5, expiredW, ended(offeredHO("ann"), domain.HandoverExpired, domain.EndSessionTimeout)),
		},
		{
			name: "agent-owned with no bot: closed", s: botless(idle(engaged("bob"), 25*time.Hour)), wantOK: true,
			want: closed(domain.AgentOwner("bob"), 6, []ev{releasedBob},
				[]domain.Handover{ended(engagedHO("bob"), domain.HandoverReleased, domain.EndSessionTimeout)}),
		},
		{
			name: "queue-owned with no bot: closed", s: botless(idle(queued(waitingHO()), 25*time.Hour)), wantOK: true,
			want: closed(domain.QueueOwner(qDefault), 5, []ev{expiredW},
				[]domain.Handover{ended(waitingHO(), domain.HandoverExpired, domain.EndSessionTimeout)}),
		},
		{
			name: "agent-owned with the bot turned off: closed", wantOK: true,
			s: func() domain.Situation {
				s := idle(engaged("bob"), 25*time.Hour)
				s.Conversation.BotEnabled = false
				return s
			}(),
			want: closed(domain.AgentOwner("bob"), 6, []ev{releasedBob},
				[]domain.Handover{ended(engagedHO("bob"), domain.HandoverReleased, domain.EndSessionTimeout)}),
		},
		{name: "closed: never due", s: idle(closedConv(), 1000*time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.SessionTimeout(tt.s)
			if ok != tt.wantOK {
				t.Fatalf("SessionTimeout ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if len(got.Events) != 0 || got.Conversation.ID != "" {
					t.Errorf("SessionTimeout returned a change with ok false: %+v", got)
				}
				return
			}
			assertChange(t, tt.s, got, tt.want)
		})
	}
}
