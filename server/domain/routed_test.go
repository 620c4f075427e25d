package domain_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/domain"
)

// billingWords routes conversations whose customer wrote "invoice" to the billing queue.
func billingWords() domain.RoutingRule {
	r := toBilling("rule-billing", 1, domain.RuleConditions{Words: []string{"invoice"}})
	r.DisplayName = "Billing words"
	return r
}

func routedBy(t *testing.T, s domain.Situation, in domain.RouteInput, rules ...domain.RoutingRule) domain.RouteMatch {
	t.Helper()
	m := domain.Route(s, in, rules)
	if m.Rule == nil {
		t.Fatalf("no rule matched: %q", m.Why)
	}
	return m
}

// checkRouted checks that a handover carries what the rule decided, and the conversation its tags.
func checkRouted(t *testing.T, ch domain.Change, wantState domain.HandoverState) domain.Handover {
	t.Helper()
	h, ok := ch.Handover()
	if !ok {
		t.Fatalf("no handover in the change")
	}
	if h.State != wantState || h.Target != (domain.Target{QueueID: qBilling}) || h.QueueID != qBilling || h.Priority != 5 || h.RuleID != "rule-billing" {
		t.Errorf("handover %+v: want %s in %s, priority 5, by rule-billing", h, wantState, qBilling)
	}
	if want := `rule "Billing words": the customer wrote "invoice"`; h.RouteReason != want {
		t.Errorf("route reason %q, want %q", h.RouteReason, want)
	}
	if !slices.Contains(ch.Conversation.Tags, "billing") {
		t.Errorf("tags %q, want the rule's billing tag", ch.Conversation.Tags)
	}
	for _, e := range ch.Events {
		if e.Handover != nil && e.Handover.ID == h.ID && e.Handover.RuleID != "rule-billing" {
			t.Errorf("event %s does not name the rule: %+v", e.Type, e.Handover)
		}
	}
	return h
}

func TestHandoffRoutedByRule(t *testing.T) {
	s := botOwned()
	in := domain.RouteInput{Trigger: domain.TriggerHandoff, Messages: []string{"where is my invoice?"}}
	req := handoffRequest(domain.Target{})
	req.Route = routedBy(t, s, in, billingWords())
	got, err := domain.Handoff(s, botActor, req, routing(billingQueue(), roster()...))
	if err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	checkInvariants(t, s, got)
	h := checkRouted(t, got, domain.HandoverOffered)
	if h.OfferedAgentID != "cat" { // cat: idle with the billing skill; ann is half loaded
		t.Errorf("offered to %q, want cat", h.OfferedAgentID)
	}
	if got.Conversation.Owner != domain.QueueOwner(qBilling) {
		t.Errorf("owner %s, want the billing queue", got.Conversation.Owner)
	}
}

// A routed handoff nobody can take fails as any handoff does, and still says which rule routed it.
func TestHandoffRoutedNobodyOnline(t *testing.T) {
	s := botOwned()
	req := handoffRequest(domain.Target{})
	req.Route = routedBy(t, s, domain.RouteInput{Trigger: domain.TriggerHandoff, Messages: []string{"invoice"}}, billingWords())
	got, err := domain.Handoff(s, botActor, req, routing(billingQueue(), bob()))
	if err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	checkInvariants(t, s, got)
	h := checkRouted(t, got, domain.HandoverFailed)
	if h.FailureReason != domain.NoAgentOnline || got.Conversation.Owner != domain.BotOwner(botID) {
		t.Errorf("failure %q, owner %s: want no_agent_online, the bot keeps it", h.FailureReason, got.Conversation.Owner)
	}
}

// Without a matching rule the handover is the bot's request alone.
func TestHandoffUnrouted(t *testing.T) {
	s := botOwned()
	req := handoffRequest(domain.Target{QueueID: qDefault})
	req.Route = domain.Route(s, domain.RouteInput{Trigger: domain.TriggerHandoff, BotTarget: req.Target, Messages: []string{"hello"}}, []domain.RoutingRule{billingWords()})
	got, err := domain.Handoff(s, botActor, req, defaultRouting())
	if err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	h, _ := got.Handover()
	if h.RuleID != "" || h.RouteReason != "" || h.Priority != 0 || h.QueueID != qDefault || len(got.Conversation.Tags) != 0 {
		t.Errorf("handover %+v, tags %q: want the bot's request, unrouted", h, got.Conversation.Tags)
	}
}

func TestTagHandoff(t *testing.T) {
	rule := domain.RoutingRule{
		ID: "rule-tag", DisplayName: "Hand-off tag", Position: 1,
		When: domain.RuleConditions{Triggers: []domain.RouteTrigger{domain.TriggerTagChange}, Tags: []string{"agent"}},
		Then: domain.RuleAction{Target: domain.Target{QueueID: qBilling}, Priority: 2},
	}
	tagged := func(s domain.Situation) domain.Situation {
		s.Conversation.Tags = []string{"agent"}
		return s
	}
	in := domain.RouteInput{Trigger: domain.TriggerTagChange, AddedTags: []string{"agent"}}
	t.Run("bot-owned: handed off", func(t *testing.T) {
		s := tagged(botOwned())
		got, ok := domain.TagHandoff(s, adminActor, domain.Route(s, in, []domain.RoutingRule{rule}), routing(billingQueue(), roster()...))
		if !ok {
			t.Fatalf("TagHandoff did nothing")
		}
		checkInvariants(t, s, got)
		h, _ := got.Handover()
		if h.State != domain.HandoverOffered || h.QueueID != qBilling || h.RuleID != "rule-tag" || h.Priority != 2 || h.Reason != "tagged: agent" {
			t.Errorf("handover %+v: want offered in billing by rule-tag, priority 2", h)
		}
		if !strings.Contains(h.RouteReason, `tagged agent`) {
			t.Errorf("route reason %q does not say the tag", h.RouteReason)
		}
	})
	t.Run("no rule matched", func(t *testing.T) {
		s := tagged(botOwned())
		other := domain.RouteInput{Trigger: domain.TriggerTagChange, AddedTags: []string{"vip"}}
		if _, ok := domain.TagHandoff(s, adminActor, domain.Route(s, other, []domain.RoutingRule{rule}), defaultRouting()); ok {
			t.Errorf("handed off on a tag no rule names")
		}
	})
	t.Run("already with humans", func(t *testing.T) {
		s := tagged(engaged("bob"))
		if _, ok := domain.TagHandoff(s, adminActor, domain.Route(s, in, []domain.RoutingRule{rule}), defaultRouting()); ok {
			t.Errorf("an engaged conversation was handed off again")
		}
	})
}

// At a transfer the agent's target is the one asked for: a rule that overrides it wins.
func TestTransferRoutedByRule(t *testing.T) {
	s := engaged("bob")
	rule := billingWords()
	rule.Then.OverrideBot = true
	asked := domain.Target{QueueID: qDefault}
	m := routedBy(t, s, domain.RouteInput{Trigger: domain.TriggerTransfer, BotTarget: asked, Messages: []string{"invoice"}}, rule)
	got, err := domain.Transfer(s, bob(), nil, asked, "", "", m, routing(billingQueue(), roster()...))
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	checkInvariants(t, s, got)
	checkRouted(t, got, domain.HandoverOffered)
}
