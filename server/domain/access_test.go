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
