package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
)

// newSituation is what the caller has before a contact's first message: no conversation.
func newSituation() domain.Situation {
	s := botOwned()
	s.Conversation = domain.Conversation{}
	return s
}

// beforeNew is the "before" of a new conversation for checkInvariants: nobody at epoch 0.
func beforeNew(s domain.Situation) domain.Situation {
	s.Conversation = domain.Conversation{Owner: domain.Nobody}
	return s
}

// TestNewConversationBotExact checks a new conversation of a bot channel event by event.
func TestNewConversationBotExact(t *testing.T) {
	s := newSituation()
	got := domain.NewConversation(s, convID, domain.Routing{})
	checkInvariants(t, beforeNew(s), got)

	conv := domain.Conversation{
		ID: convID, ChannelID: chID, ContactID: ctID, BotID: botID,
		Owner: domain.BotOwner(botID), Epoch: 1, State: domain.ConversationOpen, Status: domain.StatusOK,
		BotEnabled: true, LastActivityTime: now, CreateTime: now, UpdateTime: now,
	}
	base := domain.Event{
		Time: now, ConversationID: convID, ChannelID: chID, BotID: botID, ContactID: ctID,
		Actor: customerActor, Owner: domain.BotOwner(botID), Epoch: 1, Conversation: &conv,
		OwnerBefore: ownerPtr(domain.Nobody), Audience: &domain.Audience{ChannelQueueID: qDefault},
	}
	created, changed := base, base
	created.ID, created.Type = "ev-1", domain.EventConversationCreated
	changed.ID, changed.Type = "ev-2", domain.EventOwnerChanged
	changed.OwnerChange = &domain.OwnerChange{From: domain.Nobody, To: domain.BotOwner(botID), Epoch: 1, Reason: "new conversation"}
	want := domain.Change{Conversation: conv, Events: []domain.Event{created, changed}}
	if d := cmp.Diff(want, got, equateEmpty); d != "" {
		t.Errorf("NewConversation (-want +got):\n%s", d)
	}
}

func TestNewConversation(t *testing.T) {
	fresh := func(edit func(*domain.Conversation)) func(*domain.Conversation) {
		return func(c *domain.Conversation) {
			*c = domain.Conversation{
				ID: convID, ChannelID: chID, ContactID: ctID, BotID: botID, State: domain.ConversationOpen,
				Status: domain.StatusOK, BotEnabled: true, LastActivityTime: now, CreateTime: now, UpdateTime: now,
			}
			edit(c)
		}
	}
	queuedBy := func(offeredTo string) domain.Handover {
		h := domain.Handover{
			ID: "ho-2", ConversationID: convID, From: domain.Nobody, Target: domain.Target{QueueID: qDefault},
			QueueID: qDefault, Reason: "new conversation", State: domain.HandoverRequested,
			RequestedBy: customerActor, Epoch: 1, CreateTime: now,
		}
		if offeredTo != "" {
			h.State, h.OfferedAgentID, h.OfferExpireTime = domain.HandoverOffered, offeredTo, now.Add(domain.DefaultOfferTimeout)
		}
		return h
	}
	tests := []struct {
		name string
		edit func(*domain.Situation)
		r    domain.Routing
		want want
	}{
		{
			name: "bot channel: the bot owns at epoch 1",
			edit: func(*domain.Situation) {},
			want: want{
				conv: fresh(func(c *domain.Conversation) { c.Owner, c.Epoch = domain.BotOwner(botID), 1 }),
				events: []ev{
					{Type: domain.EventConversationCreated, Actor: customerActor},
					ownerChanged(customerActor, domain.Nobody, domain.BotOwner(botID), 1, "new conversation", ""),
				},
			},
		},
		{
			name: "botless channel: queued and offered to the least loaded agent",
			edit: func(s *domain.Situation) { *s = botless(*s) },
			r:    defaultRouting(),
			want: want{
				conv: fresh(func(c *domain.Conversation) {
					c.BotID, c.Owner, c.Epoch, c.ActiveHandoverID = "", domain.QueueOwner(qDefault), 1, "ho-2"
				}),
				created: []domain.Handover{queuedBy("bob")},
				events: []ev{
					{Type: domain.EventConversationCreated, Actor: customerActor},
					hoEvent(domain.EventHandoverRequested, customerActor, "", "ho-2", domain.HandoverRequested),
					ownerChanged(customerActor, domain.Nobody, domain.QueueOwner(qDefault), 1, "new conversation", "ho-2"),
					hoEvent(domain.EventHandoverOffered, customerActor, "bob", "ho-2", domain.HandoverOffered),
				},
			},
		},
		{
			name: "botless channel with nobody available: queued, requested",
			edit: func(s *domain.Situation) { *s = botless(*s) },
			r:    routing(defaultQueue(), dan(), sue(), with(bob(), func(a *domain.Agent) { a.Presence = domain.PresenceAway })),
			want: want{
				conv: fresh(func(c *domain.Conversation) {
					c.BotID, c.Owner, c.Epoch, c.ActiveHandoverID = "", domain.QueueOwner(qDefault), 1, "ho-2"
				}),
				created: []domain.Handover{queuedBy("")},
				events: []ev{
					{Type: domain.EventConversationCreated, Actor: customerActor},
					hoEvent(domain.EventHandoverRequested, customerActor, "", "ho-2", domain.HandoverRequested),
					ownerChanged(customerActor, domain.Nobody, domain.QueueOwner(qDefault), 1, "new conversation", "ho-2"),
				},
			},
		},
		{
			name: "deactivated bot: queued",
			edit: func(s *domain.Situation) { s.Bot.Active = false },
			r:    defaultRouting(),
			want: want{
				conv: fresh(func(c *domain.Conversation) {
					c.Owner, c.Epoch, c.ActiveHandoverID = domain.QueueOwner(qDefault), 1, "ho-2"
				}),
				created: []domain.Handover{queuedBy("bob")},
				events: []ev{
					{Type: domain.EventConversationCreated, Actor: customerActor},
					hoEvent(domain.EventHandoverRequested, customerActor, "", "ho-2", domain.HandoverRequested),
					ownerChanged(customerActor, domain.Nobody, domain.QueueOwner(qDefault), 1, "new conversation", "ho-2"),
					hoEvent(domain.EventHandoverOffered, customerActor, "bob", "ho-2", domain.HandoverOffered),
				},
			},
		},
		{
			name: "contact muted: queued",
			edit: func(s *domain.Situation) { s.Contact.BotMutedUntil = now.Add(time.Hour) },
			r:    routing(defaultQueue(), ann()),
			want: want{
				conv: fresh(func(c *domain.Conversation) {
					c.Owner, c.Epoch, c.ActiveHandoverID = domain.QueueOwner(qDefault), 1, "ho-2"
				}),
				created: []domain.Handover{queuedBy("ann")},
				events: []ev{
					{Type: domain.EventConversationCreated, Actor: customerActor},
					hoEvent(domain.EventHandoverRequested, customerActor, "", "ho-2", domain.HandoverRequested),
					ownerChanged(customerActor, domain.Nobody, domain.QueueOwner(qDefault), 1, "new conversation", "ho-2"),
					hoEvent(domain.EventHandoverOffered, customerActor, "ann", "ho-2", domain.HandoverOffered),
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSituation()
			tt.edit(&s)
			got := domain.NewConversation(s, convID, tt.r)
			assertChange(t, beforeNew(s), got, tt.want)
		})
	}
}

func inbound() domain.Message {
	return domain.Message{
		ID: "msg-1", ConversationID: convID, ChannelID: chID, Direction: domain.Inbound, Sender: customerActor,
		Content: json.RawMessage(`{"text":"hello"}`), ChannelMessageID: "mid.1", Status: domain.DeliveryDelivered, CreateTime: now,
	}
}

func inboundAt(epoch uint64) *domain.Message {
	m := inbound()
	m.Epoch = epoch
	return &m
}

func TestReceive(t *testing.T) {
	received := func(epoch uint64) ev {
		return ev{Type: domain.EventMessageReceived, Actor: customerActor, Msg: inboundAt(epoch)}
	}
	touched := func(edit func(*domain.Conversation)) func(*domain.Conversation) {
		return func(c *domain.Conversation) {
			c.LastInboundTime, c.LastActivityTime = now, now
			if edit != nil {
				edit(c)
			}
		}
	}
	// toQueue is the change of a bot-owned conversation at epoch 3 moved to the default queue
	// and offered to bob.
	toQueue := func(reason string) want {
		return want{
			conv: touched(func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.ActiveHandoverID = domain.QueueOwner(qDefault), 4, "ho-1"
			}),
			created: []domain.Handover{{
				ID: "ho-1", ConversationID: convID, From: domain.BotOwner(botID), Target: domain.Target{QueueID: qDefault},
				QueueID: qDefault, Reason: reason, State: domain.HandoverOffered, OfferedAgentID: "bob",
				OfferExpireTime: now.Add(60 * time.Second), RequestedBy: customerActor, Epoch: 4, CreateTime: now,
			}},
			events: []ev{
				hoEvent(domain.EventHandoverRequested, customerActor, "", "ho-1", domain.HandoverRequested),
				ownerChanged(customerActor, domain.BotOwner(botID), domain.QueueOwner(qDefault), 4, reason, "ho-1"),
				hoEvent(domain.EventHandoverOffered, customerActor, "bob", "ho-1", domain.HandoverOffered),
				received(4),
			},
		}
	}
	tests := []struct {
		name string
		s    func() domain.Situation
		want want
	}{
		{
			name: "bot-owned: recorded at the current epoch",
			s:    botOwned,
			want: want{conv: touched(nil), events: []ev{received(3)}},
		},
		{
			name: "bot-owned with a mute that expired exactly now: unchanged",
			s: func() domain.Situation {
				s := botOwned()
				s.Conversation.BotMutedUntil = now
				return s
			},
			want: want{conv: touched(nil), events: []ev{received(3)}},
		},
		{
			name: "closed: reopened for the bot",
			s:    closedConv,
			want: want{
				conv: touched(func(c *domain.Conversation) {
					c.State, c.Owner, c.Epoch = domain.ConversationOpen, domain.BotOwner(botID), 7
				}),
				events: []ev{
					ownerChanged(customerActor, domain.Nobody, domain.BotOwner(botID), 7, "customer wrote again", ""),
					received(7),
				},
			},
		},
		{
			name: "closed without bot: reopened in the default queue",
			s:    func() domain.Situation { return botless(closedConv()) },
			want: want{
				conv: touched(func(c *domain.Conversation) {
					c.State, c.Owner, c.Epoch, c.ActiveHandoverID = domain.ConversationOpen, domain.QueueOwner(qDefault), 7, "ho-1"
				}),
				created: []domain.Handover{{
					ID: "ho-1", ConversationID: convID, From: domain.Nobody, Target: domain.Target{QueueID: qDefault},
					QueueID: qDefault, Reason: "customer wrote again", State: domain.HandoverOffered, OfferedAgentID: "bob",
					OfferExpireTime: now.Add(60 * time.Second), RequestedBy: customerActor, Epoch: 7, CreateTime: now,
				}},
				events: []ev{
					hoEvent(domain.EventHandoverRequested, customerActor, "", "ho-1", domain.HandoverRequested),
					ownerChanged(customerActor, domain.Nobody, domain.QueueOwner(qDefault), 7, "customer wrote again", "ho-1"),
					hoEvent(domain.EventHandoverOffered, customerActor, "bob", "ho-1", domain.HandoverOffered),
					received(7),
				},
			},
		},
		{
			name: "bot deactivated while owning: moved to the queue",
			s: func() domain.Situation {
				s := botOwned()
				s.Bot.Active = false
				return s
			},
			want: toQueue("the bot is deactivated"),
		},
		{
			name: "conversation muted while the bot owns: moved to the queue",
			s: func() domain.Situation {
				s := botOwned()
				s.Conversation.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			want: toQueue("the bot is muted"),
		},
		{
			name: "contact muted while the bot owns: moved to the queue",
			s: func() domain.Situation {
				s := botOwned()
				s.Contact.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			want: toQueue("the bot is muted"),
		},
		{
			name: "bot turned off for the conversation: moved to the queue",
			s: func() domain.Situation {
				s := botOwned()
				s.Conversation.BotEnabled = false
				return s
			},
			want: toQueue("the bot is turned off for this conversation"),
		},
		{
			name: "owning bot unbound from the channel: moved to the queue",
			s:    func() domain.Situation { return botless(botOwned()) },
			want: toQueue("no bot is bound to the channel"),
		},
		{
			name: "owning bot replaced by another bot on the channel: the new bot owns",
			s: func() domain.Situation {
				s := botOwned()
				s.Channel.BotID = "bot-2"
				s.Bot = &domain.Bot{ID: "bot-2", Active: true, ChannelIDs: []string{chID}}
				return s
			},
			want: want{
				conv: touched(func(c *domain.Conversation) { c.Owner, c.Epoch, c.BotID = domain.BotOwner("bot-2"), 4, "bot-2" }),
				events: []ev{
					ownerChanged(customerActor, domain.BotOwner(botID), domain.BotOwner("bot-2"), 4, "the bot is no longer bound to the channel", ""),
					received(4),
				},
			},
		},
		{
			name: "agent-owned: unchanged, at the conversation's epoch",
			s:    func() domain.Situation { return engaged("bob") },
			want: want{conv: touched(nil), events: []ev{received(5)}},
		},
		{
			name: "agent-owned with the bot muted and deactivated: unchanged",
			s: func() domain.Situation {
				s := engaged("bob")
				s.Conversation.BotMutedUntil = now.Add(time.Hour)
				s.Bot.Active = false
				return s
			},
			want: want{conv: touched(nil), events: []ev{received(5)}},
		},
		{
			name: "queue-owned: unchanged",
			s:    func() domain.Situation { return queued(offeredHO("ann")) },
			want: want{conv: touched(nil), events: []ev{received(4)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s()
			got := domain.Receive(s, inbound(), defaultRouting())
			assertChange(t, s, got, tt.want)
		})
	}
}

func outbound() domain.Message {
	return domain.Message{
		ID: "msg-2", ConversationID: convID, ChannelID: chID, Direction: domain.Outbound,
		Content: json.RawMessage(`{"text":"hi"}`), RequestID: "req-1", Status: domain.DeliveryPending, CreateTime: now,
	}
}

func TestSend(t *testing.T) {
	sent := func(sender domain.Actor, epoch uint64) want {
		m := outbound()
		m.Sender, m.Epoch = sender, epoch
		return want{
			conv:   func(c *domain.Conversation) { c.LastOutboundTime, c.LastActivityTime = now, now },
			events: []ev{{Type: domain.EventMessageSent, Actor: sender, Msg: &m}},
		}
	}
	bot2 := domain.Actor{Kind: domain.ActorBot, ID: "bot-2"}
	tests := []struct {
		name     string
		s        func() domain.Situation
		sender   domain.Actor
		expected *uint64
		want     want
		wantErr  errCheck
	}{
		{name: "owning bot", s: botOwned, sender: botActor, want: sent(botActor, 3)},
		{name: "owning bot at its epoch", s: botOwned, sender: botActor, expected: ptr[uint64](3), want: sent(botActor, 3)},
		{name: "owning agent", s: func() domain.Situation { return engaged("bob") }, sender: agentActor("bob"), expected: ptr[uint64](5), want: sent(agentActor("bob"), 5)},
		{
			name: "owning agent while the bot is muted",
			s: func() domain.Situation {
				s := engaged("bob")
				s.Conversation.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			sender: agentActor("bob"), want: sent(agentActor("bob"), 5),
		},
		{
			name: "bot at a stale epoch", s: botOwned, sender: botActor, expected: ptr[uint64](2),
			wantErr: isOwnership("epoch", domain.BotOwner(botID), 3),
		},
		{
			name: "slow bot after an agent took over", s: func() domain.Situation { return engaged("bob") },
			sender: botActor, expected: ptr[uint64](3),
			wantErr: isOwnership("epoch", domain.AgentOwner("bob"), 5),
		},
		{
			name: "agent at a stale epoch", s: func() domain.Situation { return engaged("bob") },
			sender: agentActor("bob"), expected: ptr[uint64](4),
			wantErr: isOwnership("epoch", domain.AgentOwner("bob"), 5),
		},
		{name: "another bot", s: botOwned, sender: bot2, wantErr: isOwnership("owner", domain.BotOwner(botID), 3)},
		{name: "bot while an agent owns", s: func() domain.Situation { return engaged("bob") }, sender: botActor, wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5)},
		{name: "bot while queued", s: func() domain.Situation { return queued(waitingHO()) }, sender: botActor, wantErr: isOwnership("owner", domain.QueueOwner(qDefault), 4)},
		{name: "another agent", s: func() domain.Situation { return engaged("bob") }, sender: agentActor("ann"), wantErr: isOwnership("owner", domain.AgentOwner("bob"), 5)},
		{name: "agent while the bot owns", s: botOwned, sender: agentActor("bob"), wantErr: isOwnership("owner", domain.BotOwner(botID), 3)},
		{name: "offered agent while queued", s: func() domain.Situation { return queued(offeredHO("bob")) }, sender: agentActor("bob"), wantErr: isOwnership("owner", domain.QueueOwner(qDefault), 4)},
		{name: "bot on a closed conversation", s: closedConv, sender: botActor, wantErr: isOwnership("owner", domain.Nobody, 6)},
		{
			name: "owning bot muted for the conversation",
			s: func() domain.Situation {
				s := botOwned()
				s.Conversation.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			sender: botActor, wantErr: isOwnership("bot", domain.BotOwner(botID), 3),
		},
		{
			name: "owning bot muted for the contact",
			s: func() domain.Situation {
				s := botOwned()
				s.Contact.BotMutedUntil = now.Add(time.Hour)
				return s
			},
			sender: botActor, wantErr: isOwnership("bot", domain.BotOwner(botID), 3),
		},
		{
			name: "owning bot deactivated",
			s: func() domain.Situation {
				s := botOwned()
				s.Bot.Active = false
				return s
			},
			sender: botActor, wantErr: isOwnership("bot", domain.BotOwner(botID), 3),
		},
		{
			name: "owning bot turned off",
			s: func() domain.Situation {
				s := botOwned()
				s.Conversation.BotEnabled = false
				return s
			},
			sender: botActor, wantErr: isOwnership("bot", domain.BotOwner(botID), 3),
		},
		{
			name:   "owning bot no longer bound to the channel",
			s:      func() domain.Situation { return botless(botOwned()) },
			sender: botActor, wantErr: isOwnership("bot", domain.BotOwner(botID), 3),
		},
		{
			name: "owning bot replaced by another bot on the channel",
			s: func() domain.Situation {
				s := botOwned()
				s.Channel.BotID = "bot-2"
				s.Bot = &domain.Bot{ID: "bot-2", Active: true}
				return s
			},
			sender: botActor, wantErr: isOwnership("bot", domain.BotOwner(botID), 3),
		},
		{name: "admin", s: botOwned, sender: adminActor, wantErr: isPermission()},
		{name: "customer", s: botOwned, sender: customerActor, wantErr: isPermission()},
		{name: "system", s: botOwned, sender: domain.System, wantErr: isPermission()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s()
			got, err := domain.Send(s, tt.sender, tt.expected, outbound())
			if tt.wantErr != nil {
				assertRefused(t, got, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			assertChange(t, s, got, tt.want)
		})
	}
}
