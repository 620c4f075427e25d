package domain_test

import (
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// acceptedBy is h accepted by agentID now.
func acceptedBy(h domain.Handover, agentID string) domain.Handover {
	h.State, h.AgentID, h.OfferedAgentID, h.AcceptTime = domain.HandoverAccepted, agentID, "", now
	return h
}

func TestAccept(t *testing.T) {
	won := func(h domain.Handover, agentID string) want {
		a := acceptedBy(h, agentID)
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.LastActivityTime = domain.AgentOwner(agentID), 5, now
			},
			updated: []domain.Handover{a},
			events: []ev{
				hoEvent(domain.EventHandoverAccepted, agentActor(agentID), agentID, "ho-w", domain.HandoverAccepted),
				ownerChanged(agentActor(agentID), domain.QueueOwner(h.QueueID), domain.AgentOwner(agentID), 5, "accepted", "ho-w"),
			},
		}
	}
	toAnn := func() domain.Handover {
		h := offeredHO("ann")
		h.Target = domain.Target{AgentID: "ann"}
		return h
	}
	billing := func() domain.Handover {
		h := offeredHO("cat")
		h.Target, h.QueueID = domain.Target{QueueID: qBilling}, qBilling
		return h
	}
	tests := []struct {
		name    string
		s       func() domain.Situation // defaults to queued(h)
		h       domain.Handover
		agent   domain.Agent
		q       domain.Queue
		want    want
		wantErr errCheck
	}{
		{name: "the offered agent", h: offeredHO("bob"), agent: bob(), q: defaultQueue(), want: won(offeredHO("bob"), "bob")},
		{name: "an eligible agent it was not offered to", h: offeredHO("bob"), agent: ann(), q: defaultQueue(), want: won(offeredHO("bob"), "ann")},
		{name: "a requested handover offered to nobody", h: waitingHO(), agent: cat(), q: defaultQueue(), want: won(waitingHO(), "cat")},
		{name: "an away agent", h: waitingHO(), agent: with(bob(), func(a *domain.Agent) { a.Presence = domain.PresenceAway }), q: defaultQueue(), want: won(waitingHO(), "bob")},
		{name: "the one agent it targets", h: toAnn(), agent: ann(), q: defaultQueue(), want: won(toAnn(), "ann")},
		{name: "a queue with skills, by a member with the skill", h: billing(), agent: ann(), q: billingQueue(), want: won(billing(), "ann")},
		{name: "a supervisor outside the queue", h: offeredHO("bob"), agent: sue(), q: defaultQueue(), want: won(offeredHO("bob"), "sue")},
		{
			name:  "a supervisor offline and at capacity, on a handover targeted to someone else",
			h:     toAnn(),
			agent: with(sue(), func(a *domain.Agent) { a.Presence, a.Active = domain.PresenceOffline, 3 }),
			q:     defaultQueue(),
			want:  won(toAnn(), "sue"),
		},
		{
			name:    "already accepted by another agent",
			s:       func() domain.Situation { return engaged("bob") },
			h:       engagedHO("bob"),
			agent:   ann(),
			q:       defaultQueue(),
			wantErr: isOwnership("handover", domain.AgentOwner("bob"), 5),
		},
		{
			name: "a handover that is not the conversation's active one",
			s: func() domain.Situation {
				s := queued(waitingHO())
				s.Conversation.ActiveHandoverID = "ho-other"
				return s
			},
			h: waitingHO(), agent: bob(), q: defaultQueue(),
			wantErr: isOwnership("handover", domain.QueueOwner(qDefault), 4),
		},
		{
			name: "a canceled handover",
			s:    botOwned,
			h: func() domain.Handover {
				h := waitingHO()
				h.State, h.EndTime = domain.HandoverCanceled, t0
				return h
			}(),
			agent: bob(), q: defaultQueue(),
			wantErr: isOwnership("handover", domain.BotOwner(botID), 3),
		},
		{name: "an agent outside the queue", h: billing(), agent: bob(), q: billingQueue(), wantErr: isPermission()},
		{
			name: "a queue member without the queue's skill", h: billing(), q: billingQueue(),
			agent:   with(bob(), func(a *domain.Agent) { a.QueueIDs = []string{qBilling} }),
			wantErr: isPermission(),
		},
		{name: "another agent than the one targeted", h: toAnn(), agent: bob(), q: defaultQueue(), wantErr: isPermission()},
		{name: "an offline eligible agent", h: waitingHO(), agent: dan(), q: defaultQueue(), wantErr: isPrecondition("presence")},
		{
			name: "an eligible agent at capacity", h: offeredHO("ann"), q: defaultQueue(),
			agent:   with(ann(), func(a *domain.Agent) { a.Active = 2 }),
			wantErr: isPrecondition("capacity"),
		},
		{
			name: "an agent with no capacity set already engaged once", h: waitingHO(), q: defaultQueue(),
			agent:   with(bob(), func(a *domain.Agent) { a.Capacity, a.Active = 0, 1 }),
			wantErr: isPrecondition("capacity"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s domain.Situation
			if tt.s != nil {
				s = tt.s()
			} else {
				s = queued(tt.h)
			}
			got, err := domain.Accept(s, tt.h, tt.agent, tt.q)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Accept: %v", err)
			}
			assertChange(t, s, got, tt.want)
			h, _ := got.Handover()
			if want := now.Sub(tt.h.CreateTime); h.TimeToAccept() != want || want != 30*time.Minute {
				t.Errorf("TimeToAccept = %v, want %v", h.TimeToAccept(), want)
			}
		})
	}
}

// TestAcceptRace: two agents accept the same offer; the store serialises them, so the second
// sees the state the first wrote and gets a clear error.
func TestAcceptRace(t *testing.T) {
	s := queued(offeredHO("bob"))
	first, err := domain.Accept(s, offeredHO("bob"), bob(), defaultQueue())
	if err != nil {
		t.Fatalf("first Accept: %v", err)
	}
	checkInvariants(t, s, first)
	stored, _ := first.Handover()

	s2 := queued(offeredHO("bob"))
	s2.Conversation = first.Conversation
	s2.Active = &stored
	second, err := domain.Accept(s2, stored, ann(), defaultQueue())
	assertRefused(t, second, err, isOwnership("handover", domain.AgentOwner("bob"), 5))
}

func TestDecline(t *testing.T) {
	toAnn := func(offered bool) domain.Handover {
		h := waitingHO()
		if offered {
			h = offeredHO("ann")
		}
		h.Target = domain.Target{AgentID: "ann"}
		return h
	}
	// reset is h after agentID declined its own offer: requested again, agentID excluded.
	reset := func(h domain.Handover, declined ...string) domain.Handover {
		h.State, h.OfferedAgentID, h.OfferExpireTime = domain.HandoverRequested, "", time.Time{}
		h.DeclinedAgentIDs = declined
		return h
	}
	reoffered := func(h domain.Handover, agentID string) domain.Handover {
		h.State, h.OfferedAgentID, h.OfferExpireTime = domain.HandoverOffered, agentID, now.Add(60*time.Second)
		return h
	}
	bobActor := agentActor("bob")
	annActor := agentActor("ann")
	tests := []struct {
		name    string
		s       func() domain.Situation // defaults to queued(h)
		h       domain.Handover
		agent   domain.Agent
		r       domain.Routing
		want    want
		wantErr errCheck
	}{
		{
			name: "the offered agent declines: offered to the next one",
			h:    offeredHO("bob"), agent: bob(), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{reoffered(reset(offeredHO("bob"), "bob"), "cat")},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, bobActor, "bob", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, bobActor, "cat", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "the offered agent, since removed from the queue, may still decline its offer",
			h:    offeredHO("bob"), agent: with(bob(), func(a *domain.Agent) { a.QueueIDs = nil }), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{reoffered(reset(offeredHO("bob"), "bob"), "cat")},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, bobActor, "bob", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, bobActor, "cat", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "earlier decliners stay excluded",
			h: func() domain.Handover {
				h := offeredHO("bob")
				h.DeclinedAgentIDs = []string{"cat"}
				return h
			}(),
			agent: bob(), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{reoffered(reset(offeredHO("bob"), "cat", "bob"), "ann")},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, bobActor, "bob", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, bobActor, "ann", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "no one left: stays requested",
			h:    offeredHO("bob"), agent: bob(), r: routing(defaultQueue(), bob(), dan(), sue()),
			want: want{
				updated: []domain.Handover{reset(offeredHO("bob"), "bob")},
				events:  []ev{hoEvent(domain.EventHandoverDeclined, bobActor, "bob", "ho-w", domain.HandoverRequested)},
			},
		},
		{
			name: "an eligible agent it was not offered to declines: the current offer stands",
			h:    offeredHO("bob"), agent: ann(), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{func() domain.Handover {
					h := offeredHO("bob")
					h.DeclinedAgentIDs = []string{"ann"}
					return h
				}()},
				events: []ev{hoEvent(domain.EventHandoverDeclined, annActor, "ann", "ho-w", domain.HandoverOffered)},
			},
		},
		{
			name: "an eligible agent declines a handover offered to nobody: offered to another",
			h:    waitingHO(), agent: bob(), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{reoffered(reset(waitingHO(), "bob"), "cat")},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, bobActor, "bob", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, bobActor, "cat", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "the targeted agent declines: the bot owns again",
			h:    toAnn(true), agent: ann(), r: defaultRouting(),
			want: want{
				conv: func(c *domain.Conversation) {
					c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.BotOwner(botID), 5, "", now
				},
				updated: []domain.Handover{func() domain.Handover {
					h := reset(toAnn(true), "ann")
					h.State, h.EndTime = domain.HandoverDeclined, now
					return h
				}()},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, annActor, "ann", "ho-w", domain.HandoverDeclined),
					ownerChanged(annActor, domain.QueueOwner(qDefault), domain.BotOwner(botID), 5, "busy", "ho-w"),
				},
			},
		},
		{
			name: "the targeted agent declines before any offer: the bot owns again",
			h:    toAnn(false), agent: ann(), r: defaultRouting(),
			want: want{
				conv: func(c *domain.Conversation) {
					c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.BotOwner(botID), 5, "", now
				},
				updated: []domain.Handover{func() domain.Handover {
					h := reset(toAnn(false), "ann")
					h.State, h.EndTime = domain.HandoverDeclined, now
					return h
				}()},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, annActor, "ann", "ho-w", domain.HandoverDeclined),
					ownerChanged(annActor, domain.QueueOwner(qDefault), domain.BotOwner(botID), 5, "busy", "ho-w"),
				},
			},
		},
		{
			name: "the targeted agent declines with no bot: the queue takes it, offered to the next",
			s:    func() domain.Situation { return botless(queued(toAnn(true))) },
			h:    toAnn(true), agent: ann(), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{func() domain.Handover {
					h := reoffered(reset(toAnn(true), "ann"), "bob")
					h.Target = domain.Target{QueueID: qDefault}
					return h
				}()},
				events: []ev{
					hoEvent(domain.EventHandoverDeclined, annActor, "ann", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, annActor, "bob", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "the targeted agent declines with the bot muted and nobody else: waits in the queue for anyone",
			s: func() domain.Situation {
				s := queued(toAnn(true))
				s.Conversation.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			h: toAnn(true), agent: ann(), r: routing(defaultQueue(), ann(), dan()),
			want: want{
				updated: []domain.Handover{func() domain.Handover {
					h := reset(toAnn(true), "ann")
					h.Target = domain.Target{QueueID: qDefault}
					return h
				}()},
				events: []ev{hoEvent(domain.EventHandoverDeclined, annActor, "ann", "ho-w", domain.HandoverRequested)},
			},
		},
		{
			name: "an agent it is neither offered to nor eligible for",
			h: func() domain.Handover {
				h := offeredHO("cat")
				h.Target, h.QueueID = domain.Target{QueueID: qBilling}, qBilling
				return h
			}(),
			agent: bob(), r: routing(billingQueue(), roster()...),
			wantErr: isPermission(),
		},
		{name: "another agent than the targeted one", h: toAnn(true), agent: bob(), r: defaultRouting(), wantErr: isPermission()},
		{
			name: "an accepted handover",
			s:    func() domain.Situation { return engaged("bob") },
			h:    engagedHO("bob"), agent: bob(), r: defaultRouting(),
			wantErr: isOwnership("handover", domain.AgentOwner("bob"), 5),
		},
		{
			name: "a handover that is not the conversation's active one",
			s: func() domain.Situation {
				s := queued(offeredHO("bob"))
				s.Conversation.ActiveHandoverID = "ho-other"
				return s
			},
			h: offeredHO("bob"), agent: bob(), r: defaultRouting(),
			wantErr: isOwnership("handover", domain.QueueOwner(qDefault), 4),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s domain.Situation
			if tt.s != nil {
				s = tt.s()
			} else {
				s = queued(tt.h)
			}
			before := tt.h.DeclinedAgentIDs
			got, err := domain.Decline(s, tt.h, tt.agent, "busy", tt.r)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Decline: %v", err)
			}
			assertChange(t, s, got, tt.want)
			if len(tt.h.DeclinedAgentIDs) != len(before) {
				t.Errorf("Decline changed the caller's handover")
			}
		})
	}
}

func TestExpireOffer(t *testing.T) {
	due := func(h domain.Handover) domain.Handover {
		h.OfferExpireTime = now
		return h
	}
	toAnn := func() domain.Handover {
		h := due(offeredHO("ann"))
		h.Target = domain.Target{AgentID: "ann"}
		return h
	}
	// A lapsed offer is not remembered as a decline: a later pass may offer it again.
	reset := func(h domain.Handover) domain.Handover {
		h.State, h.OfferedAgentID, h.OfferExpireTime = domain.HandoverRequested, "", time.Time{}
		return h
	}
	reoffered := func(h domain.Handover, agentID string) domain.Handover {
		h.State, h.OfferedAgentID, h.OfferExpireTime = domain.HandoverOffered, agentID, now.Add(60*time.Second)
		return h
	}
	sys := domain.System
	tests := []struct {
		name    string
		s       func() domain.Situation
		h       domain.Handover
		r       domain.Routing
		want    want
		wantErr errCheck
	}{
		{
			name: "offered to the next agent",
			h:    due(offeredHO("bob")), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{reoffered(reset(due(offeredHO("bob"))), "cat")},
				events: []ev{
					hoEvent(domain.EventHandoverOfferExpired, sys, "bob", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, sys, "cat", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "an offer long overdue",
			h: func() domain.Handover {
				h := offeredHO("bob")
				h.OfferExpireTime = now.Add(-time.Hour)
				return h
			}(),
			r: routing(defaultQueue(), bob(), ann()),
			want: want{
				updated: []domain.Handover{func() domain.Handover {
					h := offeredHO("bob")
					h.OfferExpireTime = now.Add(-time.Hour)
					return reoffered(reset(h), "ann")
				}()},
				events: []ev{
					hoEvent(domain.EventHandoverOfferExpired, sys, "bob", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, sys, "ann", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name: "no one left: stays requested",
			h:    due(offeredHO("bob")), r: routing(defaultQueue(), bob()),
			want: want{
				updated: []domain.Handover{reset(due(offeredHO("bob")))},
				events:  []ev{hoEvent(domain.EventHandoverOfferExpired, sys, "bob", "ho-w", domain.HandoverRequested)},
			},
		},
		{
			name: "targeted at one agent: the bot owns again",
			h:    toAnn(), r: defaultRouting(),
			want: want{
				conv: func(c *domain.Conversation) {
					c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.BotOwner(botID), 5, "", now
				},
				updated: []domain.Handover{func() domain.Handover {
					h := reset(toAnn())
					h.State, h.EndTime = domain.HandoverExpired, now
					return h
				}()},
				events: []ev{
					hoEvent(domain.EventHandoverOfferExpired, sys, "ann", "ho-w", domain.HandoverExpired),
					ownerChanged(sys, domain.QueueOwner(qDefault), domain.BotOwner(botID), 5, "offer expired", "ho-w"),
				},
			},
		},
		{
			name: "targeted at one agent with no bot: the queue takes it",
			s:    func() domain.Situation { return botless(queued(toAnn())) },
			h:    toAnn(), r: defaultRouting(),
			want: want{
				updated: []domain.Handover{func() domain.Handover {
					h := reoffered(reset(toAnn()), "bob")
					h.Target = domain.Target{QueueID: qDefault}
					return h
				}()},
				events: []ev{
					hoEvent(domain.EventHandoverOfferExpired, sys, "ann", "ho-w", domain.HandoverRequested),
					hoEvent(domain.EventHandoverOffered, sys, "bob", "ho-w", domain.HandoverOffered),
				},
			},
		},
		{
			name:    "not due yet",
			h:       offeredHO("bob"),
			r:       defaultRouting(),
			wantErr: isOwnership("handover", domain.QueueOwner(qDefault), 4),
		},
		{
			name:    "a requested handover has no offer to expire",
			h:       waitingHO(),
			r:       defaultRouting(),
			wantErr: isOwnership("handover", domain.QueueOwner(qDefault), 4),
		},
		{
			name:    "an accepted handover",
			s:       func() domain.Situation { return engaged("bob") },
			h:       engagedHO("bob"),
			r:       defaultRouting(),
			wantErr: isOwnership("handover", domain.AgentOwner("bob"), 5),
		},
		{
			name: "a handover that is not the active one",
			s: func() domain.Situation {
				s := queued(due(offeredHO("bob")))
				s.Conversation.ActiveHandoverID = "ho-other"
				return s
			},
			h: due(offeredHO("bob")), r: defaultRouting(),
			wantErr: isOwnership("handover", domain.QueueOwner(qDefault), 4),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := queued(tt.h)
			if tt.s != nil {
				s = tt.s()
			}
			got, err := domain.ExpireOffer(s, tt.h, tt.r)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ExpireOffer: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}

// TestWithdrawOffer: an agent who goes offline loses its offer at once, before it expires.
func TestWithdrawOffer(t *testing.T) {
	live := offeredHO("bob") // expires in the future
	s := queued(live)
	got, err := domain.WithdrawOffer(s, live, defaultRouting())
	if err != nil {
		t.Fatalf("WithdrawOffer: %v", err)
	}
	next := live // bob is not remembered as declining: he may be offered it when back
	next.State, next.OfferedAgentID, next.OfferExpireTime = domain.HandoverOffered, "cat", now.Add(60*time.Second)
	assertChange(t, s, got, want{
		updated: []domain.Handover{next},
		events: []ev{
			hoEvent(domain.EventHandoverOfferExpired, domain.System, "bob", "ho-w", domain.HandoverRequested),
			hoEvent(domain.EventHandoverOffered, domain.System, "cat", "ho-w", domain.HandoverOffered),
		},
	})

	_, err = domain.WithdrawOffer(queued(waitingHO()), waitingHO(), defaultRouting())
	assertRefused(t, domain.Change{}, err, isOwnership("handover", domain.QueueOwner(qDefault), 4))
}

func TestReoffer(t *testing.T) {
	tests := []struct {
		name   string
		s      func() domain.Situation
		h      domain.Handover
		r      domain.Routing
		wantOK bool
		want   want
	}{
		{
			name: "an agent became available", h: waitingHO(), r: defaultRouting(), wantOK: true,
			want: want{
				updated: []domain.Handover{offeredTo(waitingHO(), "bob", 60*time.Second)},
				events:  []ev{hoEvent(domain.EventHandoverOffered, domain.System, "bob", "ho-w", domain.HandoverOffered)},
			},
		},
		{
			name: "skips decliners and uses the queue's timeout",
			h: func() domain.Handover {
				h := waitingHO()
				h.Target, h.QueueID, h.DeclinedAgentIDs = domain.Target{QueueID: qBilling}, qBilling, []string{"cat"}
				return h
			}(),
			r: routing(billingQueue(), roster()...), wantOK: true,
			want: want{
				updated: []domain.Handover{func() domain.Handover {
					h := waitingHO()
					h.Target, h.QueueID, h.DeclinedAgentIDs = domain.Target{QueueID: qBilling}, qBilling, []string{"cat"}
					return offeredTo(h, "ann", 30*time.Second)
				}()},
				events: []ev{hoEvent(domain.EventHandoverOffered, domain.System, "ann", "ho-w", domain.HandoverOffered)},
			},
		},
		{name: "nobody available", h: waitingHO(), r: routing(defaultQueue(), dan())},
		{name: "already offered", h: offeredHO("ann"), r: defaultRouting()},
		{name: "accepted", s: func() domain.Situation { return engaged("bob") }, h: engagedHO("bob"), r: defaultRouting()},
		{
			name: "not the active handover",
			s: func() domain.Situation {
				s := queued(waitingHO())
				s.Conversation.ActiveHandoverID = "ho-other"
				return s
			},
			h: waitingHO(), r: defaultRouting(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := queued(tt.h)
			if tt.s != nil {
				s = tt.s()
			}
			got, ok := domain.Reoffer(s, tt.h, tt.r)
			if ok != tt.wantOK {
				t.Fatalf("Reoffer ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if len(got.Events) != 0 || got.Conversation.ID != "" {
					t.Errorf("Reoffer returned a change with ok false: %+v", got)
				}
				return
			}
			assertChange(t, s, got, tt.want)
		})
	}
}

func TestCancel(t *testing.T) {
	canceled := func(h domain.Handover, actor domain.Actor, reason string) want {
		h.State, h.OfferedAgentID, h.EndReason, h.EndTime = domain.HandoverCanceled, "", domain.EndCanceled, now
		return want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.BotOwner(botID), 5, "", now
			},
			updated: []domain.Handover{h},
			events: []ev{
				hoEvent(domain.EventHandoverCanceled, actor, "", "ho-w", domain.HandoverCanceled),
				ownerChanged(actor, domain.QueueOwner(qDefault), domain.BotOwner(botID), 5, reason, "ho-w"),
			},
		}
	}
	tests := []struct {
		name    string
		s       func() domain.Situation
		h       domain.Handover
		actor   domain.Actor
		reason  string
		want    want
		wantErr errCheck
	}{
		{name: "the bot cancels an offered handover", h: offeredHO("ann"), actor: botActor, want: canceled(offeredHO("ann"), botActor, "handover canceled")},
		{name: "a supervisor cancels a requested handover with a reason", h: waitingHO(), actor: agentActor("sue"), reason: "customer left", want: canceled(waitingHO(), agentActor("sue"), "customer left")},
		{name: "no bot to return to", s: func() domain.Situation { return botless(queued(waitingHO())) }, h: waitingHO(), actor: adminActor, wantErr: isOwnership("bot", domain.QueueOwner(qDefault), 4)},
		{
			name: "the bot is muted",
			s: func() domain.Situation {
				s := queued(waitingHO())
				s.Conversation.BotMutedUntil = now.Add(time.Minute)
				return s
			},
			h: waitingHO(), actor: botActor, wantErr: isOwnership("bot", domain.QueueOwner(qDefault), 4),
		},
		{
			name: "the bot is deactivated",
			s: func() domain.Situation {
				s := queued(waitingHO())
				s.Bot.Active = false
				return s
			},
			h: waitingHO(), actor: adminActor, wantErr: isOwnership("bot", domain.QueueOwner(qDefault), 4),
		},
		{name: "an accepted handover is not waiting", s: func() domain.Situation { return engaged("bob") }, h: engagedHO("bob"), actor: botActor, wantErr: isOwnership("handover", domain.AgentOwner("bob"), 5)},
		{
			name: "a failed handover is not waiting", s: botOwned,
			h: func() domain.Handover {
				h := waitingHO()
				h.State, h.FailureReason = domain.HandoverFailed, domain.NoAgentOnline
				return h
			}(),
			actor: botActor, wantErr: isOwnership("handover", domain.BotOwner(botID), 3),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := queued(tt.h)
			if tt.s != nil {
				s = tt.s()
			}
			got, err := domain.Cancel(s, tt.actor, tt.h, tt.reason)
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}
