package domain_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
)

// toBilling is a rule sending matching conversations to the billing queue.
func toBilling(id string, position int, when domain.RuleConditions) domain.RoutingRule {
	return domain.RoutingRule{
		ID: id, Position: position, When: when,
		Then: domain.RuleAction{Target: domain.Target{QueueID: qBilling}, Priority: 5, AddTags: []string{"billing"}},
	}
}

func TestRouteConditions(t *testing.T) {
	handoff := func(msgs ...string) domain.RouteInput {
		return domain.RouteInput{Trigger: domain.TriggerHandoff, Messages: msgs}
	}
	tagged := func(tags ...string) domain.Situation {
		s := botOwned()
		s.Conversation.Tags = tags
		return s
	}
	speaking := func(convLang, locale string) domain.Situation {
		s := botOwned()
		s.Conversation.Language = convLang
		s.Contact.Locale = locale
		return s
	}
	withAttrs := func(attrs map[string]string) domain.Situation {
		s := botOwned()
		s.Contact.Attributes = attrs
		return s
	}
	tests := []struct {
		name string
		s    domain.Situation
		in   domain.RouteInput
		when domain.RuleConditions
		want bool
	}{
		{"no conditions", botOwned(), handoff(), domain.RuleConditions{}, true},
		{"word, whole and any case", botOwned(), handoff("hi", "My INVOICE is wrong!"), domain.RuleConditions{Words: []string{"invoice"}}, true},
		{"word inside another word", botOwned(), handoff("invoices please"), domain.RuleConditions{Words: []string{"invoice"}}, false},
		{"word absent", botOwned(), handoff("hello"), domain.RuleConditions{Words: []string{"invoice"}}, false},
		{"pattern matches", botOwned(), handoff("order 12345 missing"), domain.RuleConditions{Patterns: []string{`order \d{5}`}}, true},
		{"pattern does not match", botOwned(), handoff("order 12"), domain.RuleConditions{Patterns: []string{`order \d{5}`}}, false},
		{"word or pattern: either", botOwned(), handoff("refund"), domain.RuleConditions{Words: []string{"refund"}, Patterns: []string{`^never$`}}, true},
		{"all tags present", tagged("vip", "billing"), handoff(), domain.RuleConditions{Tags: []string{"vip", "billing"}}, true},
		{"one tag missing", tagged("vip"), handoff(), domain.RuleConditions{Tags: []string{"vip", "billing"}}, false},
		{"entry point", botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, EntryPoint: "pricing-page"}, domain.RuleConditions{EntryPoints: []string{"pricing-page"}}, true},
		{"other entry point", botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, EntryPoint: "home"}, domain.RuleConditions{EntryPoints: []string{"pricing-page"}}, false},
		{"conversation language", speaking("fr", "de-DE"), handoff(), domain.RuleConditions{Languages: []string{"fr"}}, true},
		{"contact locale when no language", speaking("", "fr_FR"), handoff(), domain.RuleConditions{Languages: []string{"fr"}}, true},
		{"other language", speaking("de", ""), handoff(), domain.RuleConditions{Languages: []string{"fr"}}, false},
		{"attributes all equal", withAttrs(map[string]string{"plan": "gold", "x": "y"}), handoff(), domain.RuleConditions{Attributes: map[string]string{"plan": "gold"}}, true},
		{"attribute differs", withAttrs(map[string]string{"plan": "free"}), handoff(), domain.RuleConditions{Attributes: map[string]string{"plan": "gold"}}, false},
		{"attribute missing", botOwned(), handoff(), domain.RuleConditions{Attributes: map[string]string{"plan": ""}}, false},
		{"bot target equal", botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, BotTarget: domain.Target{Skill: "french"}}, domain.RuleConditions{BotTarget: domain.Target{Skill: "french"}}, true},
		{"bot target differs", botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, BotTarget: domain.Target{Skill: "german"}}, domain.RuleConditions{BotTarget: domain.Target{Skill: "french"}}, false},
		{"default triggers include transfer", botOwned(), domain.RouteInput{Trigger: domain.TriggerTransfer}, domain.RuleConditions{}, true},
		{"default triggers exclude tag change", tagged("handoff"), domain.RouteInput{Trigger: domain.TriggerTagChange}, domain.RuleConditions{Tags: []string{"handoff"}}, false},
		{"tag change when asked", tagged("handoff"), domain.RouteInput{Trigger: domain.TriggerTagChange, AddedTags: []string{"handoff"}}, domain.RuleConditions{Triggers: []domain.RouteTrigger{domain.TriggerTagChange}, Tags: []string{"handoff"}}, true},
		{"tag change: the tag was there before", tagged("handoff", "vip"), domain.RouteInput{Trigger: domain.TriggerTagChange, AddedTags: []string{"vip"}}, domain.RuleConditions{Triggers: []domain.RouteTrigger{domain.TriggerTagChange}, Tags: []string{"handoff"}}, false},
		{"entry point prefix", botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, EntryPoint: "https://shop.example/pricing?utm=x"}, domain.RuleConditions{EntryPoints: []string{"https://shop.example/pricing*"}}, true},
		{"entry point prefix, other page", botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, EntryPoint: "https://shop.example/help"}, domain.RuleConditions{EntryPoints: []string{"https://shop.example/pricing*"}}, false},
		{"entry point unknown", botOwned(), handoff(), domain.RuleConditions{EntryPoints: []string{"*"}}, false},
		{"tag-change rule ignores handoff", botOwned(), handoff(), domain.RuleConditions{Triggers: []domain.RouteTrigger{domain.TriggerTagChange}}, false},
		{"every condition must hold", tagged("vip"), handoff("invoice"), domain.RuleConditions{Tags: []string{"vip"}, Words: []string{"invoice"}, Languages: []string{"fr"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Route(tt.s, tt.in, []domain.RoutingRule{toBilling("r1", 1, tt.when)})
			if matched := got.Rule != nil; matched != tt.want {
				t.Fatalf("matched = %v, want %v (why %q)", matched, tt.want, got.Why)
			}
			if len(got.Why) == 0 {
				t.Errorf("no reason given")
			}
			wantTarget := domain.Target{QueueID: qBilling}
			if tt.in.BotTarget != (domain.Target{}) {
				wantTarget = tt.in.BotTarget // the rule does not override the bot
			}
			if tt.want && (got.Target != wantTarget || got.Priority != 5) {
				t.Errorf("match %+v, want %+v at priority 5", got, wantTarget)
			}
		})
	}
}

func TestRouteOrderAndScope(t *testing.T) {
	vipFirst := domain.RoutingRule{ID: "vip", Position: 1, When: domain.RuleConditions{Tags: []string{"vip"}},
		Then: domain.RuleAction{Target: domain.Target{Role: domain.RoleSupervisor}, Priority: 9}}
	catchAll := domain.RoutingRule{ID: "all", Position: 9, Then: domain.RuleAction{Target: domain.Target{QueueID: qDefault}}}
	billing := toBilling("billing", 5, domain.RuleConditions{Words: []string{"invoice"}})
	otherChannel := toBilling("other", 0, domain.RuleConditions{})
	otherChannel.ChannelID = "ch-other"
	disabled := toBilling("off", 0, domain.RuleConditions{})
	disabled.Disabled = true
	vip := botOwned()
	vip.Conversation.Tags = []string{"vip"}
	in := domain.RouteInput{Trigger: domain.TriggerHandoff, Messages: []string{"invoice"}}
	tests := []struct {
		name  string
		s     domain.Situation
		rules []domain.RoutingRule
		want  string
	}{
		{"first by position, not by list order", vip, []domain.RoutingRule{catchAll, billing, vipFirst}, "vip"},
		{"a later rule when the first does not match", botOwned(), []domain.RoutingRule{catchAll, billing, vipFirst}, "billing"},
		{"another channel's rule is skipped", botOwned(), []domain.RoutingRule{otherChannel, catchAll}, "all"},
		{"a rule of this channel applies", botOwned(), []domain.RoutingRule{onChannel(otherChannel, chID), catchAll}, "other"},
		{"a disabled rule is skipped", botOwned(), []domain.RoutingRule{disabled, catchAll}, "all"},
		{"no rules", botOwned(), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Route(tt.s, in, tt.rules)
			id := ""
			if got.Rule != nil {
				id = got.Rule.ID
			}
			if id != tt.want {
				t.Errorf("rule = %q, want %q (why %q)", id, tt.want, got.Why)
			}
		})
	}
}

func onChannel(r domain.RoutingRule, channelID string) domain.RoutingRule {
	r.ChannelID = channelID
	return r
}

func TestRouteBotTarget(t *testing.T) {
	asked := domain.Target{Skill: "french"}
	honour := toBilling("honour", 1, domain.RuleConditions{})
	override := toBilling("override", 1, domain.RuleConditions{})
	override.Then.OverrideBot = true
	tests := []struct {
		name  string
		rule  domain.RoutingRule
		asked domain.Target
		want  domain.RouteMatch
	}{
		{"the bot's target stands", honour, asked, domain.RouteMatch{Target: asked, Priority: 5, AddTags: []string{"billing"}}},
		{"the rule overrides the bot", override, asked, domain.RouteMatch{Target: domain.Target{QueueID: qBilling}, Priority: 5, AddTags: []string{"billing"}}},
		{"no target asked: the rule's", honour, domain.Target{}, domain.RouteMatch{Target: domain.Target{QueueID: qBilling}, Priority: 5, AddTags: []string{"billing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Route(botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, BotTarget: tt.asked}, []domain.RoutingRule{tt.rule})
			got.Rule, got.Why = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("match (-want +got):\n%s", diff)
			}
		})
	}
	none := domain.Route(botOwned(), domain.RouteInput{Trigger: domain.TriggerHandoff, BotTarget: asked}, nil)
	if none.Rule != nil || none.Target != asked || none.Priority != 0 {
		t.Errorf("without rules: %+v, want the bot's target unchanged", none)
	}
}

func TestValidateRule(t *testing.T) {
	ok := toBilling("r", 1, domain.RuleConditions{Words: []string{"invoice"}})
	tests := []struct {
		name  string
		edit  func(*domain.RoutingRule)
		field string // "" when valid
	}{
		{"valid", func(*domain.RoutingRule) {}, ""},
		{"priority only", func(r *domain.RoutingRule) { r.Then = domain.RuleAction{Priority: 3} }, ""},
		{"two targets", func(r *domain.RoutingRule) { r.Then.Target.Skill = "x" }, "then.target"},
		{"does nothing", func(r *domain.RoutingRule) { r.Then = domain.RuleAction{} }, "then"},
		{"bad pattern", func(r *domain.RoutingRule) { r.When.Patterns = []string{"("} }, "when.patterns"},
		{"unknown trigger", func(r *domain.RoutingRule) { r.When.Triggers = []domain.RouteTrigger{"later"} }, "when.triggers"},
		{"tag change without target", func(r *domain.RoutingRule) {
			r.When.Triggers = []domain.RouteTrigger{domain.TriggerTagChange}
			r.Then = domain.RuleAction{Priority: 1}
		}, "then.target"},
		{"tag change without tags", func(r *domain.RoutingRule) {
			r.When.Triggers = []domain.RouteTrigger{domain.TriggerTagChange}
		}, "when.tags"},
		{"two bot targets", func(r *domain.RoutingRule) { r.When.BotTarget = domain.Target{QueueID: "a", AgentID: "b"} }, "when.bot_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			err := domain.ValidateRule(r)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ValidateRule = %v, want nil", err)
				}
				return
			}
			isInvalid(tt.field)(t, err)
		})
	}
}
