package domain_test

import (
	"slices"
	"testing"

	"github.com/batonhq/baton/server/domain"
)

func TestEligible(t *testing.T) {
	inQueue := func(target domain.Target) domain.Handover { return domain.Handover{Target: target} }
	noSkill := with(bob(), func(a *domain.Agent) { a.ID = "bea"; a.QueueIDs = []string{qBilling} })
	outsider := domain.Agent{ID: "out", Role: domain.RoleAgent, Skills: []string{"billing", "french"}}
	tests := []struct {
		name  string
		agent domain.Agent
		h     domain.Handover
		q     domain.Queue
		want  bool
	}{
		{"queue member, queue without skills", bob(), inQueue(domain.Target{QueueID: qDefault}), defaultQueue(), true},
		{"no target: the queue decides", bob(), inQueue(domain.Target{}), defaultQueue(), true},
		{"not a member of the queue", bob(), inQueue(domain.Target{QueueID: qBilling}), billingQueue(), false},
		{"supervisor outside the queue", sue(), inQueue(domain.Target{QueueID: qDefault}), defaultQueue(), false},
		{"member with the queue's skills", ann(), inQueue(domain.Target{QueueID: qBilling}), billingQueue(), true},
		{"member without the queue's skills", noSkill, inQueue(domain.Target{QueueID: qBilling}), billingQueue(), false},
		{"skill target: has it", ann(), inQueue(domain.Target{Skill: "french"}), defaultQueue(), true},
		{"skill target: lacks it", cat(), inQueue(domain.Target{Skill: "french"}), defaultQueue(), false},
		{"skill target: outside any queue", outsider, inQueue(domain.Target{Skill: "french"}), defaultQueue(), true},
		{"role target: has it", sue(), inQueue(domain.Target{Role: domain.RoleSupervisor}), defaultQueue(), true},
		{"role target: lacks it", ann(), inQueue(domain.Target{Role: domain.RoleSupervisor}), defaultQueue(), false},
		{"agent target: that agent, outside the queue", outsider, inQueue(domain.Target{AgentID: "out"}), billingQueue(), true},
		{"agent target: another agent in the queue", ann(), inQueue(domain.Target{AgentID: "out"}), billingQueue(), false},
		{"agent target: a supervisor is not that agent", sue(), inQueue(domain.Target{AgentID: "ann"}), defaultQueue(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.Eligible(tt.agent, tt.h, tt.q); got != tt.want {
				t.Errorf("Eligible = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHasCapacity(t *testing.T) {
	tests := []struct {
		capacity, active int
		want             bool
	}{
		{2, 0, true},
		{2, 1, true},
		{2, 2, false},
		{2, 3, false},
		{0, 0, true}, // no capacity set: the default of one
		{0, 1, false},
		{-1, 0, true},
		{1, 0, true},
		{1, 1, false},
	}
	for _, tt := range tests {
		a := domain.Agent{ID: "x", Capacity: tt.capacity, Active: tt.active}
		if got := domain.HasCapacity(a); got != tt.want {
			t.Errorf("HasCapacity(capacity %d, active %d) = %v, want %v", tt.capacity, tt.active, got, tt.want)
		}
	}
}

func TestPresenceCheck(t *testing.T) {
	full := func(a domain.Agent) domain.Agent { return with(a, func(a *domain.Agent) { a.Active = a.Capacity }) }
	away := func(a domain.Agent) domain.Agent {
		return with(a, func(a *domain.Agent) { a.Presence = domain.PresenceAway })
	}
	queueHO := domain.Handover{Target: domain.Target{QueueID: qDefault}}
	declinedBob := domain.Handover{Target: domain.Target{QueueID: qDefault}, DeclinedAgentIDs: []string{"bob"}}
	tests := []struct {
		name   string
		h      domain.Handover
		agents []domain.Agent
		want   domain.FailureReason
	}{
		{"an eligible agent online with capacity", queueHO, []domain.Agent{dan(), bob()}, ""},
		{"nobody", queueHO, nil, domain.NoAgentOnline},
		{"eligible agents offline or away", queueHO, []domain.Agent{dan(), away(bob())}, domain.NoAgentOnline},
		{"only ineligible agents online", queueHO, []domain.Agent{sue()}, domain.NoAgentOnline},
		{"eligible agents online at capacity", queueHO, []domain.Agent{full(ann()), full(bob()), dan()}, domain.NoCapacity},
		{"away agents with capacity do not count, the full online one does", queueHO, []domain.Agent{away(cat()), full(bob())}, domain.NoCapacity},
		{"the only available agent declined", declinedBob, []domain.Agent{bob()}, domain.NoAgentOnline},
		{"the available agent declined, another is full", declinedBob, []domain.Agent{bob(), full(ann())}, domain.NoCapacity},
		{"the targeted agent is online", domain.Handover{Target: domain.Target{AgentID: "ann"}}, roster(), ""},
		{"the targeted agent is offline", domain.Handover{Target: domain.Target{AgentID: "dan"}}, roster(), domain.NoAgentOnline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.PresenceCheck(tt.h, defaultQueue(), tt.agents); got != tt.want {
				t.Errorf("PresenceCheck = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPickAgent(t *testing.T) {
	load := func(id string, capacity, active int) domain.Agent {
		return domain.Agent{ID: id, Role: domain.RoleAgent, Capacity: capacity, Active: active, QueueIDs: []string{qDefault}, Presence: domain.PresenceOnline}
	}
	queueHO := domain.Handover{Target: domain.Target{QueueID: qDefault}}
	tests := []struct {
		name   string
		h      domain.Handover
		q      domain.Queue
		agents []domain.Agent
		want   string // "" for none
	}{
		{"least loaded, ties by id", queueHO, defaultQueue(), roster(), "bob"},
		{"load is a ratio of capacity", queueHO, defaultQueue(), []domain.Agent{load("a", 2, 1), load("b", 4, 1), load("c", 1, 0)}, "c"},
		{"a quarter beats a half", queueHO, defaultQueue(), []domain.Agent{load("a", 2, 1), load("b", 4, 1)}, "b"},
		{"no capacity set counts as one", queueHO, defaultQueue(), []domain.Agent{load("a", 0, 0), load("b", 4, 1)}, "a"},
		{"full agents are skipped", queueHO, defaultQueue(), []domain.Agent{load("a", 1, 1), load("b", 4, 3)}, "b"},
		{"decliners are skipped", domain.Handover{Target: domain.Target{QueueID: qDefault}, DeclinedAgentIDs: []string{"bob", "cat"}}, defaultQueue(), roster(), "ann"},
		{"offline and away agents are skipped", queueHO, defaultQueue(), []domain.Agent{dan(), with(bob(), func(a *domain.Agent) { a.Presence = domain.PresenceAway }), ann()}, "ann"},
		{"ineligible agents are skipped", domain.Handover{Target: domain.Target{QueueID: qBilling}}, billingQueue(), roster(), "cat"},
		{"a targeted agent only", domain.Handover{Target: domain.Target{AgentID: "ann"}}, defaultQueue(), roster(), "ann"},
		{"nobody qualifies", queueHO, defaultQueue(), []domain.Agent{dan(), sue()}, ""},
		{"nobody at all", queueHO, defaultQueue(), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, agents := range [][]domain.Agent{tt.agents, reversed(tt.agents)} {
				got, ok := domain.PickAgent(tt.h, tt.q, agents)
				if ok != (tt.want != "") || got.ID != tt.want {
					t.Errorf("PickAgent = %q, %v; want %q", got.ID, ok, tt.want)
				}
			}
		})
	}
}

func reversed(a []domain.Agent) []domain.Agent {
	r := slices.Clone(a)
	slices.Reverse(r)
	return r
}
