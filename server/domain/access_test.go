package domain_test

import (
	"testing"

	"github.com/batonhq/baton/server/domain"
)

var (
	adminP   = domain.Principal{KeyID: "k-admin", Role: domain.PrincipalAdmin}
	serviceP = domain.Principal{KeyID: "k-svc", Role: domain.PrincipalService}
	botP     = domain.Principal{KeyID: "k-bot", Role: domain.PrincipalBot, SubjectID: botID}
	otherBot = domain.Principal{KeyID: "k-bot2", Role: domain.PrincipalBot, SubjectID: "bot-2"}
	noIDBot  = domain.Principal{KeyID: "k-bot3", Role: domain.PrincipalBot}
)

func agentP(id string) domain.Principal {
	return domain.Principal{KeyID: "k-" + id, Role: domain.PrincipalAgent, SubjectID: id}
}

func TestCanSeeConversation(t *testing.T) {
	billingOnly := with(cat(), func(a *domain.Agent) { a.QueueIDs = []string{qBilling} })
	billingQueued := queued(func() domain.Handover {
		h := waitingHO()
		h.Target, h.QueueID = domain.Target{QueueID: qBilling}, qBilling
		return h
	}())
	tests := []struct {
		name  string
		p     domain.Principal
		s     domain.Situation
		agent *domain.Agent
		want  bool
	}{
		{"admin sees everything", adminP, engaged("bob"), nil, true},
		{"service sees everything", serviceP, botless(closedConv()), nil, true},
		{"the bound bot sees its channel's conversations", botP, engaged("bob"), nil, true},
		{"the bound bot sees a closed conversation", botP, closedConv(), nil, true},
		{"a bot not bound to the channel sees nothing", otherBot, botOwned(), nil, false},
		{"a bot not bound to the channel, even the conversation's former bot", botP, func() domain.Situation {
			s := botOwned()
			s.Channel.BotID = "bot-2"
			return s
		}(), nil, false},
		{"a bot sees nothing of a botless channel", botP, botless(botOwned()), nil, false},
		{"a bot key without a subject sees nothing of a botless channel", noIDBot, botless(botOwned()), nil, false},
		{"an agent without its record sees nothing", agentP("bob"), engaged("bob"), nil, false},
		{"a supervisor sees everything", agentP("sue"), engaged("bob"), ptr(sue()), true},
		{"the owning agent", agentP("cat"), engaged("cat"), ptr(billingOnly), true},
		{"the agent it is offered to", agentP("cat"), queued(offeredHO("cat")), ptr(billingOnly), true},
		{"an agent of the queue it waits in", agentP("cat"), billingQueued, ptr(billingOnly), true},
		{"an agent of the channel's default queue", agentP("bob"), botOwned(), ptr(bob()), true},
		{"an agent of the channel's default queue, closed", agentP("bob"), closedConv(), ptr(bob()), true},
		{"an agent of the queue it came through, held by another agent", agentP("bob"), engaged("cat"), ptr(bob()), true},
		{"an agent of the channel's default queue, held by another agent of another queue", agentP("bob"), func() domain.Situation {
			s := engaged("cat")
			h := *s.Active
			h.QueueID = qBilling
			s.Active = &h
			return s
		}(), ptr(bob()), false},
		{"an agent of another queue, bot-owned", agentP("cat"), botOwned(), ptr(billingOnly), false},
		{"an agent of another queue, owned by another agent", agentP("cat"), engaged("bob"), ptr(billingOnly), false},
		{"an agent of another queue, offered to someone else", agentP("cat"), queued(offeredHO("bob")), ptr(billingOnly), false},
		{"an agent in no queue", agentP("out"), botOwned(), &domain.Agent{ID: "out", Role: domain.RoleAgent}, false},
		{"an unknown role", domain.Principal{KeyID: "k", Role: "guest"}, botOwned(), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanSeeConversation(tt.p, tt.s.Conversation, tt.s.Channel, tt.s.Active, tt.agent); got != tt.want {
				t.Errorf("CanSeeConversation = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCanIngest(t *testing.T) {
	tests := []struct {
		name string
		p    domain.Principal
		ch   domain.Channel
		want bool
	}{
		{"admin", adminP, channel(), true},
		{"service", serviceP, channel(), true},
		{"the bound bot", botP, channel(), true},
		{"another bot", otherBot, channel(), false},
		{"a bot on a botless channel", botP, botless(botOwned()).Channel, false},
		{"a bot key without a subject on a botless channel", noIDBot, botless(botOwned()).Channel, false},
		{"an agent", agentP("sue"), channel(), false},
		{"an unknown role", domain.Principal{Role: "guest"}, channel(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanIngest(tt.p, tt.ch); got != tt.want {
				t.Errorf("CanIngest = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCanSupervise(t *testing.T) {
	tests := []struct {
		name  string
		p     domain.Principal
		c     domain.Conversation
		agent *domain.Agent
		want  bool
	}{
		{"admin", adminP, engaged("bob").Conversation, nil, true},
		{"a supervisor", agentP("sue"), engaged("bob").Conversation, ptr(sue()), true},
		{"the owning agent", agentP("bob"), engaged("bob").Conversation, ptr(bob()), true},
		{"another agent", agentP("ann"), engaged("bob").Conversation, ptr(ann()), false},
		{"an agent on a bot-owned conversation", agentP("bob"), botOwned().Conversation, ptr(bob()), false},
		{"an agent without its record", agentP("bob"), engaged("bob").Conversation, nil, false},
		{"the owning bot", botP, botOwned().Conversation, nil, true},
		{"another bot", otherBot, botOwned().Conversation, nil, false},
		{"the bot when an agent owns", botP, engaged("bob").Conversation, nil, false},
		{"the bot when queued", botP, queued(waitingHO()).Conversation, nil, false},
		{"a service", serviceP, botOwned().Conversation, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanSupervise(tt.p, tt.c, tt.agent); got != tt.want {
				t.Errorf("CanSupervise = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCanAdminister(t *testing.T) {
	for _, tt := range []struct {
		p    domain.Principal
		want bool
	}{
		{adminP, true},
		{serviceP, false},
		{botP, false},
		{agentP("sue"), false},
	} {
		if got := domain.CanAdminister(tt.p); got != tt.want {
			t.Errorf("CanAdminister(%s) = %v, want %v", tt.p.Role, got, tt.want)
		}
	}
}

func TestCanSeeChannel(t *testing.T) {
	ch := channel()
	billingOnly := with(cat(), func(a *domain.Agent) { a.QueueIDs = []string{qBilling} })
	tests := []struct {
		name  string
		p     domain.Principal
		agent *domain.Agent
		want  bool
	}{
		{"admin", adminP, nil, true},
		{"service", serviceP, nil, true},
		{"the bound bot", botP, nil, true},
		{"another bot", otherBot, nil, false},
		{"a supervisor", agentP("sue"), ptr(sue()), true},
		{"an agent of the channel's default queue", agentP("bob"), ptr(bob()), true},
		{"an agent of another queue", agentP("cat"), ptr(billingOnly), false},
		{"an agent without its record", agentP("bob"), nil, false},
		{"an unknown role", domain.Principal{KeyID: "k", Role: "guest"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanSeeChannel(tt.p, ch, tt.agent); got != tt.want {
				t.Errorf("CanSeeChannel = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFormerParty(t *testing.T) {
	inBilling := func(f func(*domain.Handover)) domain.Handover {
		h := waitingHO()
		h.QueueID, h.Target = qBilling, domain.Target{QueueID: qBilling}
		f(&h)
		return h
	}
	stranger := domain.Agent{ID: "eve", Role: domain.RoleAgent, QueueIDs: []string{"q-elsewhere"}, Skills: []string{"french"}}
	tests := []struct {
		name      string
		p         domain.Principal
		owners    []domain.Owner
		handovers []domain.Handover
		agent     *domain.Agent
		want      bool
	}{
		{"a bot that owned it", botP, []domain.Owner{domain.BotOwner(botID), domain.AgentOwner("cat")}, nil, nil, true},
		{"a bot that never owned it", otherBot, []domain.Owner{domain.BotOwner(botID)}, nil, nil, false},
		{"an agent that held it", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.AgentID = "eve" })}, &stranger, true},
		{"an agent it is offered to", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.OfferedAgentID = "eve" })}, &stranger, true},
		{"an agent that declined it", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.DeclinedAgentIDs = []string{"eve"} })}, &stranger, true},
		{"an agent it was addressed to", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.Target = domain.Target{AgentID: "eve"} })}, &stranger, true},
		{"an agent with the skill it asked for", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.Target = domain.Target{Skill: "french"} })}, &stranger, true},
		{"an agent of the role it asked for", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.Target = domain.Target{Role: domain.RoleAgent} })}, &stranger, true},
		{"an agent of a queue it waited in", agentP("cat"), nil, []domain.Handover{inBilling(func(*domain.Handover) {})}, ptr(cat()), true},
		{"an agent with no part in it", agentP("eve"), []domain.Owner{domain.AgentOwner("eve")}, []domain.Handover{inBilling(func(*domain.Handover) {})}, &stranger, false},
		{"an agent without its record", agentP("eve"), nil, []domain.Handover{inBilling(func(h *domain.Handover) { h.AgentID = "eve" })}, nil, false},
		{"an admin", adminP, []domain.Owner{domain.BotOwner(botID)}, nil, nil, false},
	}
	for _, tt := range tests {
		if got := domain.FormerParty(tt.p, tt.owners, tt.handovers, tt.agent); got != tt.want {
			t.Errorf("%s: FormerParty = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestChannelViewHidesCredentialsFromAgents(t *testing.T) {
	ch := channel()
	ch.Credentials = domain.Credentials{AccessToken: "tok", SendURL: "https://crm.example/baton?key=abc", AppID: "app-1"}
	if got := domain.ChannelView(agentP("bob"), ch); !got.Credentials.IsZero() {
		t.Errorf("an agent sees credentials %+v", got.Credentials)
	}
	for _, p := range []domain.Principal{adminP, serviceP, botP} {
		if got := domain.ChannelView(p, ch); got.Credentials != ch.Credentials {
			t.Errorf("%v sees credentials %+v, want them whole", p.Role, got.Credentials)
		}
	}
}

func TestCanSeeBot(t *testing.T) {
	b := domain.Bot{ID: botID, ChannelIDs: []string{chID}}
	visible := func(id string) bool { return id == chID }
	hidden := func(string) bool { return false }
	tests := []struct {
		name    string
		p       domain.Principal
		visible func(string) bool
		want    bool
	}{
		{"admin", adminP, hidden, true},
		{"service", serviceP, hidden, true},
		{"the bot itself", botP, hidden, true},
		{"another bot", otherBot, visible, false},
		{"an agent who sees one of its channels", agentP("bob"), visible, true},
		{"an agent who sees none of its channels", agentP("bob"), hidden, false},
	}
	for _, tt := range tests {
		if got := domain.CanSeeBot(tt.p, b, tt.visible); got != tt.want {
			t.Errorf("%s: CanSeeBot = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCanReadEvent(t *testing.T) {
	inQueue := func(owner domain.Owner, a *domain.Audience) domain.Event {
		return domain.Event{ConversationID: convID, ChannelID: chID, BotID: botID, Owner: owner, Audience: a}
	}
	billing := &domain.Audience{ChannelQueueID: qDefault, QueueID: qBilling}
	eve := domain.Agent{ID: "eve", Role: domain.RoleAgent, QueueIDs: []string{"q-elsewhere"}}
	lost := inQueue(domain.QueueOwner(qBilling), billing)
	lost.OwnerBefore = ptr(domain.AgentOwner("eve"))
	tests := []struct {
		name  string
		p     domain.Principal
		e     domain.Event
		agent *domain.Agent
		want  bool
	}{
		{"admin", adminP, domain.Event{Type: domain.EventWebhookDeactivated}, nil, true},
		{"the bound bot", botP, inQueue(domain.BotOwner(botID), nil), nil, true},
		{"another bot", otherBot, inQueue(domain.BotOwner(botID), nil), nil, false},
		{"a supervisor", agentP("sue"), inQueue(domain.AgentOwner("cat"), nil), ptr(sue()), true},
		{"an agent of the queue it waits in", agentP("cat"), inQueue(domain.QueueOwner(qBilling), billing), ptr(cat()), true},
		{"an agent of another queue", agentP("eve"), inQueue(domain.QueueOwner(qBilling), billing), &eve, false},
		{"the agent it is offered to", agentP("eve"), inQueue(domain.QueueOwner(qBilling), &domain.Audience{ChannelQueueID: qDefault, QueueID: qBilling, OfferedAgentID: "eve"}), &eve, true},
		{"the change in which it lost the conversation", agentP("eve"), lost, &eve, true},
		{"about the agent itself", agentP("eve"), domain.Event{Type: domain.EventAgentPresenceChanged, AgentID: "eve"}, &eve, true},
		{"about another agent", agentP("eve"), domain.Event{Type: domain.EventAgentPresenceChanged, AgentID: "bob"}, &eve, false},
		{"the bot's conversation, to its channel's queue", agentP("bob"), inQueue(domain.BotOwner(botID), &domain.Audience{ChannelQueueID: qDefault}), ptr(bob()), true},
		{"an event without an audience", agentP("bob"), inQueue(domain.BotOwner(botID), nil), ptr(bob()), false},
		{"a contact of its channel", agentP("bob"), domain.Event{ChannelID: chID, ContactID: ctID, Audience: &domain.Audience{ChannelQueueID: qDefault}}, ptr(bob()), true},
		{"a contact of another channel", agentP("eve"), domain.Event{ChannelID: chID, ContactID: ctID, Audience: &domain.Audience{ChannelQueueID: qDefault}}, &eve, false},
		{"a webhook's event", agentP("bob"), domain.Event{Type: domain.EventWebhookDeactivated, BotID: botID}, ptr(bob()), false},
		{"an agent without its record", agentP("bob"), domain.Event{AgentID: "bob"}, nil, false},
	}
	for _, tt := range tests {
		if got := domain.CanReadEvent(tt.p, tt.e, tt.agent); got != tt.want {
			t.Errorf("%s: CanReadEvent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckCredentials(t *testing.T) {
	sends := domain.Credentials{SendURL: "https://crm.example.com/baton"}
	if err := domain.CheckCredentials(domain.ChannelGeneric, sends); err == nil {
		t.Error("a generic channel that sends without a webhook secret was accepted")
	}
	sends.WebhookSecret = "whsec_c2VjcmV0"
	for _, c := range []struct {
		kind  domain.ChannelKind
		creds domain.Credentials
	}{
		{domain.ChannelGeneric, sends},
		{domain.ChannelGeneric, domain.Credentials{}}, // publishes its sends as events only
		{domain.ChannelTelegram, domain.Credentials{AccessToken: "t"}},
	} {
		if err := domain.CheckCredentials(c.kind, c.creds); err != nil {
			t.Errorf("%s %+v: %v", c.kind, c.creds, err)
		}
	}
}
