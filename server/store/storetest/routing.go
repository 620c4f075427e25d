package storetest

import (
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// ruleValue is a rule with every condition and action field set.
func ruleValue(h *harness) domain.RoutingRule {
	return domain.RoutingRule{
		ID: h.id("rule"), DisplayName: "Billing words", ChannelID: "ch-x", Position: 3,
		When: domain.RuleConditions{
			Triggers:    []domain.RouteTrigger{domain.TriggerHandoff, domain.TriggerTagChange},
			Tags:        []string{"vip"},
			Words:       []string{"invoice", "refund"},
			Patterns:    []string{`order \d+`},
			EntryPoints: []string{"pricing"},
			Languages:   []string{"fr"},
			Attributes:  map[string]string{"plan": "gold"},
			BotTarget:   domain.Target{Skill: "billing"},
		},
		Then: domain.RuleAction{
			Target: domain.Target{QueueID: "q-billing"}, Priority: 7, AddTags: []string{"billing"}, OverrideBot: true,
		},
		CreateTime: at(0), UpdateTime: at(time.Minute), Revision: 1,
	}
}

var ruleResource = resource[domain.RoutingRule]{
	value:   ruleValue,
	minimal: func(h *harness) domain.RoutingRule { return domain.RoutingRule{ID: h.id("rule")} },
	change: func(h *harness, r domain.RoutingRule) domain.RoutingRule {
		r.DisplayName += " changed"
		r.ChannelID = ""
		r.Position = 1
		r.Disabled = true
		r.When = domain.RuleConditions{Words: []string{"cancel"}}
		r.Then = domain.RuleAction{Target: domain.Target{Role: domain.RoleSupervisor}}
		r.CreateTime = at(-time.Hour)
		r.UpdateTime = at(time.Hour)
		return r
	},
	create: func(h *harness, tx store.Tx, r domain.RoutingRule) error { return tx.CreateRoutingRule(h.ctx, r) },
	get: func(h *harness, tx store.Tx, id string) (domain.RoutingRule, error) {
		return tx.GetRoutingRule(h.ctx, id)
	},
	update: func(h *harness, tx store.Tx, r domain.RoutingRule) error { return tx.UpdateRoutingRule(h.ctx, r) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteRoutingRule(h.ctx, id) },
	id:     func(r *domain.RoutingRule) *string { return &r.ID },
	rev:    func(r *domain.RoutingRule) *int64 { return &r.Revision },
	lock:   store.KindRule,
}

// testRuleList: rules come back by position, ties by id, whatever order they were written in.
func testRuleList(h *harness) {
	rule := func(id string, position int) domain.RoutingRule {
		r := ruleValue(h)
		r.ID, r.Position = id, position
		return r
	}
	want := []domain.RoutingRule{rule("r-b", 1), rule("r-c", 1), rule("r-a", 2), rule("r-d", 10)}
	for _, i := range []int{3, 2, 0, 1} {
		ruleResource.put(h, want[i])
	}
	got, err := readValue(h, func(tx store.Tx) ([]domain.RoutingRule, error) { return tx.ListRoutingRules(h.ctx) })
	if err != nil {
		h.t.Fatalf("list rules: %v", err)
	}
	diff(h.t, "listed rules", want, got)
}
