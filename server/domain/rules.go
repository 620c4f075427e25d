package domain

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// RouteTrigger is the moment a routing rule is evaluated.
type RouteTrigger string

// Route triggers.
const (
	TriggerHandoff   RouteTrigger = "handoff"    // a bot asked to hand off
	TriggerTagChange RouteTrigger = "tag_change" // the conversation's tags changed
	TriggerTransfer  RouteTrigger = "transfer"   // an agent transfers the conversation
)

// RoutingRule is one ordered rule: when every condition holds, its action says where the
// conversation goes. Rules are evaluated in Position order; the first that matches wins.
type RoutingRule struct {
	ID          string
	DisplayName string
	ChannelID   string // "" for a global rule
	Position    int
	Disabled    bool
	When        RuleConditions
	Then        RuleAction
	CreateTime  time.Time
	UpdateTime  time.Time
	Revision    int64
}

// RuleConditions must all hold for a rule to match; an empty condition holds always.
type RuleConditions struct {
	// Triggers the rule answers. Empty means handoff and transfer: a rule hands off on a tag
	// change only when it says so, so that tagging a conversation never moves it by surprise.
	Triggers []RouteTrigger `json:"triggers,omitempty"`
	// Tags the conversation must all carry.
	Tags []string `json:"tags,omitempty"`
	// Words any of which appears, as a whole word and ignoring case, in the customer's messages.
	Words []string `json:"words,omitempty"`
	// Patterns (RE2) any of which matches one of the customer's messages.
	Patterns []string `json:"patterns,omitempty"`
	// EntryPoints any of which equals the entry point the channel reported (Messenger ref,
	// WhatsApp referral, the web chat's page); one ending in "*" matches every entry point that
	// starts with what comes before it (a page and its query strings).
	EntryPoints []string `json:"entry_points,omitempty"`
	// Languages any of which is the conversation's language (or the contact's locale).
	Languages []string `json:"languages,omitempty"`
	// Attributes the contact must all carry with these values.
	Attributes map[string]string `json:"attributes,omitempty"`
	// BotTarget, when set, must equal the target the bot asked for.
	BotTarget Target `json:"bot_target,omitzero"`
}

// RuleAction is where a matching rule sends the conversation and what it adds on the way.
type RuleAction struct {
	Target   Target   `json:"target,omitzero"`
	Priority int      `json:"priority,omitempty"`
	AddTags  []string `json:"add_tags,omitempty"`
	// OverrideBot sends the conversation to Target even when the bot asked for a target;
	// otherwise the bot's explicit target stays and the rule adds only its priority and tags.
	OverrideBot bool `json:"override_bot,omitempty"`
}

// RouteInput is what a rule looks at beyond the situation: why it runs and what the customer
// said and came from.
type RouteInput struct {
	Trigger    RouteTrigger
	Messages   []string // the customer's recent messages, oldest first
	EntryPoint string
	BotTarget  Target // the target the bot (or the transferring agent) asked for; zero when none
	// AddedTags are the tags just added, at a tag change: a rule hands off on a tag change
	// only when one of its tags is among them, so that a tag left on the conversation does
	// not hand it off again at every later edit.
	AddedTags []string
}

// RouteMatch is the outcome of routing: the rule that matched (nil when none), where the
// conversation goes, and why, in words a dry run shows.
type RouteMatch struct {
	Rule     *RoutingRule
	Target   Target
	Priority int
	AddTags  []string
	Why      []string
}

// Reason is why the match routed as it did, in one line: what a handover records.
func (m RouteMatch) Reason() string {
	if m.Rule == nil {
		return ""
	}
	name := m.Rule.DisplayName
	if name == "" {
		name = m.Rule.ID
	}
	return fmt.Sprintf("rule %q: %s", name, strings.Join(m.Why, "; "))
}

// Route evaluates the rules that apply to the situation's channel in order and returns the
// first match. Without a match the requested target stands, with no rule and the reason why.
func Route(s Situation, in RouteInput, rules []RoutingRule) RouteMatch {
	ordered := slices.Clone(rules)
	slices.SortStableFunc(ordered, func(a, b RoutingRule) int { return a.Position - b.Position })
	for i := range ordered {
		r := &ordered[i]
		if r.Disabled || (r.ChannelID != "" && r.ChannelID != s.Channel.ID) {
			continue
		}
		why, ok := matches(s, in, r.When)
		if !ok {
			continue
		}
		m := RouteMatch{Rule: r, Target: in.BotTarget, Priority: r.Then.Priority, AddTags: r.Then.AddTags, Why: why}
		if in.BotTarget == (Target{}) || r.Then.OverrideBot {
			m.Target = r.Then.Target
		} else {
			m.Why = append(m.Why, "the bot's target stands: the rule does not override it")
		}
		return m
	}
	return RouteMatch{Target: in.BotTarget, Why: []string{"no rule matched"}}
}

// matches checks every condition and returns, when all hold, what each one matched.
func matches(s Situation, in RouteInput, w RuleConditions) ([]string, bool) {
	var why []string
	triggers := w.Triggers
	if len(triggers) == 0 {
		triggers = []RouteTrigger{TriggerHandoff, TriggerTransfer}
	}
	if !slices.Contains(triggers, in.Trigger) {
		return nil, false
	}
	if in.Trigger == TriggerTagChange && !slices.ContainsFunc(w.Tags, func(t string) bool { return slices.Contains(in.AddedTags, t) }) {
		return nil, false
	}
	for _, tag := range w.Tags {
		if !slices.Contains(s.Conversation.Tags, tag) {
			return nil, false
		}
	}
	if len(w.Tags) > 0 {
		why = append(why, fmt.Sprintf("tagged %s", strings.Join(w.Tags, ", ")))
	}
	if len(w.Words) > 0 || len(w.Patterns) > 0 {
		hit, ok := textMatch(in.Messages, w.Words, w.Patterns)
		if !ok {
			return nil, false
		}
		why = append(why, hit)
	}
	if len(w.EntryPoints) > 0 {
		if !slices.ContainsFunc(w.EntryPoints, func(e string) bool { return entryMatches(e, in.EntryPoint) }) {
			return nil, false
		}
		why = append(why, fmt.Sprintf("entered from %q", in.EntryPoint))
	}
	if len(w.Languages) > 0 {
		lang := language(s)
		if !slices.Contains(w.Languages, lang) {
			return nil, false
		}
		why = append(why, fmt.Sprintf("language %q", lang))
	}
	for _, k := range slices.Sorted(maps.Keys(w.Attributes)) {
		if v, ok := s.Contact.Attributes[k]; !ok || v != w.Attributes[k] {
			return nil, false
		}
		why = append(why, fmt.Sprintf("attribute %s=%q", k, w.Attributes[k]))
	}
	if w.BotTarget != (Target{}) {
		if in.BotTarget != w.BotTarget {
			return nil, false
		}
		why = append(why, "the bot asked for the rule's target")
	}
	if len(why) == 0 {
		why = append(why, "the rule has no conditions")
	}
	return why, true
}

// entryMatches reports whether the entry point got is the one a condition names: equal, or,
// for a condition ending in "*", starting with what comes before it.
func entryMatches(want, got string) bool {
	if got == "" {
		return false
	}
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(got, prefix)
	}
	return want == got
}

// language is the conversation's language, else the primary subtag of the contact's locale.
func language(s Situation) string {
	if s.Conversation.Language != "" {
		return s.Conversation.Language
	}
	lang, _, _ := strings.Cut(s.Contact.Locale, "-")
	lang, _, _ = strings.Cut(lang, "_")
	return strings.ToLower(lang)
}

// textMatch reports the first word or pattern found in the messages, and what it was.
func textMatch(messages, words, patterns []string) (string, bool) {
	for _, m := range messages {
		fields := strings.FieldsFunc(strings.ToLower(m), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsNumber(r)
		})
		for _, w := range words {
			if slices.Contains(fields, strings.ToLower(w)) {
				return fmt.Sprintf("the customer wrote %q", w), true
			}
		}
		for _, p := range patterns {
			// Patterns are checked by ValidateRule before they are stored.
			if re, err := regexp.Compile(p); err == nil && re.MatchString(m) {
				return fmt.Sprintf("a message matches /%s/", p), true
			}
		}
	}
	return "", false
}

// ValidateRule refuses a rule that could never be applied as written.
func ValidateRule(r RoutingRule) error {
	if err := validTarget("then.target", r.Then.Target); err != nil {
		return err
	}
	if r.Then.Target == (Target{}) && r.Then.Priority == 0 && len(r.Then.AddTags) == 0 {
		return Invalid("then", "the rule does nothing: give it a target, a priority or tags to add")
	}
	if err := validTarget("when.bot_target", r.When.BotTarget); err != nil {
		return err
	}
	for _, p := range r.When.Patterns {
		if _, err := regexp.Compile(p); err != nil {
			return Invalid("when.patterns", "%q is not a valid pattern: %v", p, err)
		}
	}
	for _, tr := range r.When.Triggers {
		if tr != TriggerHandoff && tr != TriggerTagChange && tr != TriggerTransfer {
			return Invalid("when.triggers", "unknown trigger %q", tr)
		}
	}
	if slices.Contains(r.When.Triggers, TriggerTagChange) {
		if r.Then.Target == (Target{}) {
			return Invalid("then.target", "a rule that hands off on a tag change needs a target")
		}
		if len(r.When.Tags) == 0 {
			return Invalid("when.tags", "a rule that hands off on a tag change names the tags it hands off on")
		}
	}
	return nil
}

// validTarget checks that at most one of the target's fields is set.
func validTarget(field string, t Target) error {
	n := 0
	for _, set := range []bool{t.QueueID != "", t.Skill != "", t.Role != "", t.AgentID != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return Invalid(field, "set one of queue, skill, role or agent, not %d", n)
	}
	return nil
}
