package app

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// recentMessages is how many of the customer's newest messages routing rules read.
const recentMessages = 10

// canReadRules lets admins, services and supervisors read routing rules and dry-run them, as
// they may watch every queue; bots and other agents may not.
func (a *App) canReadRules(ctx context.Context, tx store.Tx, p domain.Principal) error {
	switch p.Role {
	case domain.PrincipalAdmin, domain.PrincipalService:
		return nil
	case domain.PrincipalAgent:
		agent, err := a.callingAgent(ctx, tx, p)
		if err != nil {
			return err
		}
		if agent.Role == domain.RoleSupervisor {
			return nil
		}
	}
	return domain.Forbidden("only admins, services and supervisors may read routing rules")
}

// CreateRoutingRule adds a rule. A rule without a position goes after every other.
func (a *App) CreateRoutingRule(ctx context.Context, p domain.Principal, r domain.RoutingRule, requestID string) (domain.RoutingRule, error) {
	if err := requireAdmin(p); err != nil {
		return r, err
	}
	if err := domain.ValidateRule(r); err != nil {
		return r, err
	}
	var out domain.RoutingRule
	err := a.write(ctx, func(tx store.Tx) error {
		id, err := a.idempotent(ctx, tx, p, "routing_rule", requestID, func() (string, error) {
			if err := ruleRefersToExisting(ctx, tx, r); err != nil {
				return "", err
			}
			if r.Position == 0 {
				rules, err := tx.ListRoutingRules(ctx)
				if err != nil {
					return "", err
				}
				r.Position = 1
				if n := len(rules); n > 0 {
					r.Position = rules[n-1].Position + 1
				}
			}
			r.ID = ids.New("rule")
			r.CreateTime, r.UpdateTime = a.Now(), a.Now()
			return r.ID, tx.CreateRoutingRule(ctx, r)
		})
		if err != nil {
			return err
		}
		out, err = tx.GetRoutingRule(ctx, id)
		return err
	})
	return out, err
}

// ruleRefersToExisting refuses a rule naming a channel, queue or agent that does not exist: it
// would never apply, or send conversations nowhere. The queue and agent are locked, so that a
// concurrent delete of one (which refuses while a rule sends to it) waits for this write.
func ruleRefersToExisting(ctx context.Context, tx store.Tx, r domain.RoutingRule) error {
	refs := []struct {
		field, id string
		kind      store.Kind
		get       func(context.Context, string) error
	}{
		{"channel_id", r.ChannelID, "", func(ctx context.Context, id string) error { _, err := tx.GetChannel(ctx, id); return err }},
		{"then.target.queue_id", r.Then.Target.QueueID, store.KindQueue, func(ctx context.Context, id string) error { _, err := tx.GetQueue(ctx, id); return err }},
		{"then.target.agent_id", r.Then.Target.AgentID, store.KindAgent, func(ctx context.Context, id string) error { _, err := tx.GetAgent(ctx, id); return err }},
	}
	for _, ref := range refs {
		if ref.id == "" {
			continue
		}
		if ref.kind != "" {
			if err := tx.Lock(ctx, ref.kind, ref.id); err != nil {
				return err
			}
		}
		if err := ref.get(ctx, ref.id); isNotFound(err) {
			return domain.Invalid(ref.field, "%q does not exist", ref.id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// GetRoutingRule returns one rule.
func (a *App) GetRoutingRule(ctx context.Context, p domain.Principal, id string) (domain.RoutingRule, error) {
	var out domain.RoutingRule
	err := a.read(ctx, func(tx store.Tx) error {
		if err := a.canReadRules(ctx, tx, p); err != nil {
			return err
		}
		var err error
		out, err = tx.GetRoutingRule(ctx, id)
		return err
	})
	return out, err
}

// RuleQuery selects rules: with ChannelID, the rules that apply to that channel (its own and
// the global ones); with GlobalOnly, the global ones; otherwise all.
type RuleQuery struct {
	ChannelID  string
	GlobalOnly bool
}

// ListRoutingRules lists rules in the order they are evaluated: by position, then id.
func (a *App) ListRoutingRules(ctx context.Context, p domain.Principal, q RuleQuery, page store.Page) ([]domain.RoutingRule, string, error) {
	var out []domain.RoutingRule
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		if err := a.canReadRules(ctx, tx, p); err != nil {
			return err
		}
		rules, err := tx.ListRoutingRules(ctx)
		if err != nil {
			return err
		}
		rules = slices.DeleteFunc(rules, func(r domain.RoutingRule) bool {
			return (q.GlobalOnly && r.ChannelID != "") || (q.ChannelID != "" && r.ChannelID != "" && r.ChannelID != q.ChannelID)
		})
		out, next, err = rulePage(rules, page)
		return err
	})
	return out, next, err
}

// rulePage cuts a page from rules in evaluation order; the token is the last rule's position
// and id, so that a page boundary holds while rules are added or removed.
func rulePage(rules []domain.RoutingRule, page store.Page) ([]domain.RoutingRule, string, error) {
	start := 0
	if page.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(page.Cursor)
		pos, id, ok := strings.Cut(string(b), ":")
		n, nerr := strconv.Atoi(pos)
		if err != nil || !ok || nerr != nil {
			return nil, "", store.ErrBadCursor
		}
		start = len(rules)
		for i, r := range rules {
			if cmp.Or(cmp.Compare(r.Position, n), strings.Compare(r.ID, id)) > 0 {
				start = i
				break
			}
		}
	}
	size := cmp.Or(page.Size, 50)
	end := min(start+size, len(rules))
	next := ""
	if end < len(rules) {
		last := rules[end-1]
		next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%s", last.Position, last.ID))
	}
	return rules[start:end], next, nil
}

// RuleUpdate changes a rule. Nil fields are kept.
type RuleUpdate struct {
	ID          string
	Etag        string
	DisplayName *string
	ChannelID   *string
	Position    *int
	Disabled    *bool
	When        *domain.RuleConditions
	Then        *domain.RuleAction
}

// UpdateRoutingRule applies u.
func (a *App) UpdateRoutingRule(ctx context.Context, p domain.Principal, u RuleUpdate) (domain.RoutingRule, error) {
	if err := requireAdmin(p); err != nil {
		return domain.RoutingRule{}, err
	}
	var out domain.RoutingRule
	err := a.write(ctx, func(tx store.Tx) error {
		r, err := forUpdate(ctx, tx, store.KindRule, u.ID, tx.GetRoutingRule)
		if err != nil {
			return err
		}
		if err := etagMatches(u.Etag, r.Revision); err != nil {
			return err
		}
		setIf(&r.DisplayName, u.DisplayName)
		setIf(&r.ChannelID, u.ChannelID)
		setIf(&r.Position, u.Position)
		setIf(&r.Disabled, u.Disabled)
		setIf(&r.When, u.When)
		setIf(&r.Then, u.Then)
		if err := domain.ValidateRule(r); err != nil {
			return err
		}
		if err := ruleRefersToExisting(ctx, tx, r); err != nil {
			return err
		}
		r.UpdateTime = a.Now()
		if err := tx.UpdateRoutingRule(ctx, r); err != nil {
			return err
		}
		out, err = tx.GetRoutingRule(ctx, r.ID)
		return err
	})
	return out, err
}

// DeleteRoutingRule deletes a rule.
func (a *App) DeleteRoutingRule(ctx context.Context, p domain.Principal, id, etag string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return a.write(ctx, func(tx store.Tx) error {
		r, err := forUpdate(ctx, tx, store.KindRule, id, tx.GetRoutingRule)
		if err != nil {
			return err
		}
		if err := etagMatches(etag, r.Revision); err != nil {
			return err
		}
		return tx.DeleteRoutingRule(ctx, id)
	})
}

// ReorderRoutingRules puts the named rules first, in the order given, and the others after
// them in their current order: every rule is renumbered 1, 2, 3... and a rule whose position
// changes gets a new etag. It returns every rule in the new order.
func (a *App) ReorderRoutingRules(ctx context.Context, p domain.Principal, ruleIDs []string) ([]domain.RoutingRule, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	var out []domain.RoutingRule
	err := a.write(ctx, func(tx store.Tx) error {
		rules, err := tx.ListRoutingRules(ctx)
		if err != nil {
			return err
		}
		lockOrder := slices.Sorted(slices.Values(ruleIDsOf(rules)))
		for _, id := range lockOrder {
			if err := tx.Lock(ctx, store.KindRule, id); err != nil {
				return err
			}
		}
		if rules, err = tx.ListRoutingRules(ctx); err != nil { // as they are under the locks
			return err
		}
		byID := map[string]domain.RoutingRule{}
		for _, r := range rules {
			byID[r.ID] = r
		}
		ordered := make([]domain.RoutingRule, 0, len(rules))
		for _, id := range ruleIDs {
			r, ok := byID[id]
			if !ok {
				return domain.NotFound("routing rule", id)
			}
			ordered = append(ordered, r)
			delete(byID, id)
		}
		for _, r := range rules {
			if _, rest := byID[r.ID]; rest {
				ordered = append(ordered, r)
			}
		}
		out = ordered[:0:0]
		for i, r := range ordered {
			if r.Position != i+1 {
				r.Position, r.UpdateTime = i+1, a.Now()
				if err := tx.UpdateRoutingRule(ctx, r); err != nil {
					return err
				}
				r.Revision++
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func ruleIDsOf(rules []domain.RoutingRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.ID
	}
	return out
}

// route evaluates the routing rules for the conversation of s, filling in what the rules read
// from the conversation: the entry point and, when a rule looks for words, the customer's
// recent messages.
func (a *App) route(ctx context.Context, tx store.Tx, s domain.Situation, in domain.RouteInput) (domain.RouteMatch, error) {
	rules, err := tx.ListRoutingRules(ctx)
	if err != nil || len(rules) == 0 {
		return domain.Route(s, in, nil), err
	}
	in.EntryPoint = cmp.Or(in.EntryPoint, s.Conversation.EntryPoint)
	if in.Messages == nil && slices.ContainsFunc(rules, readsWords) {
		if in.Messages, err = customerWords(ctx, tx, s.Conversation.ID); err != nil {
			return domain.RouteMatch{}, err
		}
	}
	return domain.Route(s, in, rules), nil
}

func readsWords(r domain.RoutingRule) bool {
	return !r.Disabled && (len(r.When.Words) > 0 || len(r.When.Patterns) > 0)
}

// customerWords is what the customer's recent messages say, oldest first.
func customerWords(ctx context.Context, tx store.Tx, conversationID string) ([]string, error) {
	msgs, err := tx.RecentInbound(ctx, conversationID, recentMessages)
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if w := channel.Words(m.Content); w != "" {
			out = append(out, w)
		}
	}
	return out, err
}

// RouteCase is what a dry run routes: a stored conversation, a hypothetical one, or a stored
// one with some of its inputs replaced. Nil fields are taken from the conversation.
type RouteCase struct {
	ConversationID string
	ChannelID      string
	Trigger        domain.RouteTrigger
	BotTarget      domain.Target
	Messages       []string
	EntryPoint     *string
	Language       *string
	Tags           *[]string
	AddedTags      []string
	Attributes     map[string]string
}

// ExplainRoute says which rule would route the case, and why, without changing anything.
func (a *App) ExplainRoute(ctx context.Context, p domain.Principal, c RouteCase) (domain.RouteMatch, error) {
	var out domain.RouteMatch
	err := a.read(ctx, func(tx store.Tx) error {
		if err := a.canReadRules(ctx, tx, p); err != nil {
			return err
		}
		s := domain.Situation{Now: a.Now(), Channel: domain.Channel{ID: c.ChannelID}}
		in := domain.RouteInput{Trigger: cmp.Or(c.Trigger, domain.TriggerHandoff), BotTarget: c.BotTarget, AddedTags: c.AddedTags, Messages: c.Messages}
		if c.ConversationID != "" {
			var err error
			if s, _, err = a.authorized(ctx, tx, p, c.ConversationID); err != nil {
				return err
			}
		} else if in.Messages == nil {
			in.Messages = []string{}
		}
		setIf(&s.Conversation.EntryPoint, c.EntryPoint)
		setIf(&s.Conversation.Language, c.Language)
		setIf(&s.Conversation.Tags, c.Tags)
		if c.Attributes != nil {
			s.Contact.Attributes = c.Attributes
		}
		var err error
		out, err = a.route(ctx, tx, s, in)
		return err
	})
	return out, err
}
