package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// autoRule is one of the domain's automatic handoff rules.
type autoRule func(domain.Situation, domain.AutoHandoffPolicy, domain.Routing) (domain.Change, bool)

// autoHandoff applies an automatic handoff rule after change, in the same transaction: s is the
// situation change started from, and the result is change followed by the handoff, if the
// conversation's policy calls for one.
func (a *App) autoHandoff(ctx context.Context, tx store.Tx, s domain.Situation, change domain.Change, rule autoRule) (domain.Change, error) {
	policy := domain.EffectivePolicy(s)
	if policy.IsZero() || change.Conversation.Owner.Kind != domain.OwnerBot {
		return change, nil
	}
	r, err := a.routing(ctx, tx, domain.AutoHandoffQueue(s, policy))
	if err != nil {
		return change, err
	}
	s.Conversation = change.Conversation
	then, ok := rule(s, policy, r)
	if !ok {
		return change, nil
	}
	then.Events = slices.Concat(change.Events, then.Events)
	then.Created = slices.Concat(change.Created, then.Created)
	then.Updated = slices.Concat(change.Updated, then.Updated)
	return then, nil
}

// inboundText is the text a customer wrote in a message, as the API encodes its content: a
// text, or a postback's title; "" for anything else.
func inboundText(content json.RawMessage) string {
	var c struct {
		Text     struct{ Text string }
		Postback struct{ Title string }
	}
	if json.Unmarshal(content, &c) != nil {
		return ""
	}
	return strings.TrimSpace(c.Text.Text + " " + c.Postback.Title)
}

// handOffUnanswered hands off the conversations whose customers have waited too long for their
// bot (domain.AutoHandoffUnanswered).
func (a *App) handOffUnanswered(ctx context.Context) error {
	return each(ctx, a,
		func(tx store.Tx) ([]domain.Conversation, error) { return tx.DueUnanswered(ctx, a.Now(), timerBatch) },
		func(tx store.Tx, c domain.Conversation) error {
			s, err := a.situation(ctx, tx, c.ID)
			if err != nil {
				return err
			}
			policy := domain.EffectivePolicy(s)
			r, err := a.routing(ctx, tx, domain.AutoHandoffQueue(s, policy))
			if err != nil {
				return err
			}
			return a.timerTransition(ctx, tx, "auto_handoff", c.ID, func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffUnanswered(s, policy, r)
			})
		})
}

// breachSLAs acts on the handovers past a target of their queue's SLA (domain.BreachSLA).
func (a *App) breachSLAs(ctx context.Context) error {
	return each(ctx, a,
		func(tx store.Tx) ([]domain.Handover, error) { return tx.DueSLA(ctx, a.Now(), timerBatch) },
		func(tx store.Tx, h domain.Handover) error {
			r, err := a.routing(ctx, tx, h.QueueID)
			if err != nil {
				return err
			}
			return a.timerTransition(ctx, tx, "sla_breach", h.ConversationID, func(s domain.Situation) (domain.Change, bool) {
				if s.Active == nil || s.Active.ID != h.ID {
					return domain.Change{}, false
				}
				return domain.BreachSLA(s, r.Queue, r)
			})
		})
}
