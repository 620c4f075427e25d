package app

import (
	"context"
	"errors"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Transitioned is the result of an ownership transition.
type Transitioned struct {
	Handover     domain.Handover
	Conversation domain.Conversation
}

// transition runs one traced ownership transition on one conversation: it authorises the
// principal for r (the conversation, or the handover the call names), applies the rule, and
// stores the change with its events in one transaction.
func (a *App) transition(ctx context.Context, p domain.Principal, name, conversationID string, r ref,
	rule func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error)) (Transitioned, error) {
	return a.transitionLocking(ctx, p, name, conversationID, r, nil, rule)
}

// transitionLocking is transition for a rule that also judges the calling agent's load: it
// locks the agent's row first (before the conversation, in the store's lock order), so that
// the agent's concurrent transitions on other conversations, on any replica, queue behind it
// and each counts the conversations the one before it took.
func (a *App) transitionLocking(ctx context.Context, p domain.Principal, name, conversationID string, r ref, lockAgent *string,
	rule func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error)) (Transitioned, error) {
	var out Transitioned
	err := a.traced(ctx, name, func(ctx context.Context) (domain.Change, error) {
		var change domain.Change
		err := a.write(ctx, func(tx store.Tx) error {
			if lockAgent != nil {
				if err := tx.Lock(ctx, store.KindAgent, *lockAgent); err != nil {
					return err
				}
			}
			s, agent, err := a.authorizedAs(ctx, tx, p, conversationID, r)
			if err != nil {
				return err
			}
			if err := refuseErased(s); err != nil {
				return err
			}
			if err := speaking(ctx, tx, &s); err != nil {
				return err
			}
			change, err = rule(tx, s, agent)
			var done replay
			if errors.As(err, &done) {
				out = Transitioned{Handover: done.handover, Conversation: s.Conversation}
				return nil
			}
			if err != nil {
				return err
			}
			out.Handover, _ = change.Handover()
			out.Conversation, err = a.store1(ctx, tx, change)
			return err
		})
		return change, err
	})
	return out, err
}

// Handoff passes a bot-owned conversation to humans. A retry with the same request id returns
// the handover created the first time, also when it overlaps the first call: the request id
// is looked up under the conversation's lock.
func (a *App) Handoff(ctx context.Context, p domain.Principal, conversationID string, req domain.HandoffRequest) (Transitioned, error) {
	return a.transition(ctx, p, "handoff", conversationID, conversationRef(conversationID), func(tx store.Tx, s domain.Situation, _ *domain.Agent) (domain.Change, error) {
		if p.Role != domain.PrincipalBot && p.Role != domain.PrincipalAdmin {
			return domain.Change{}, domain.Forbidden("only the owning bot or an admin may hand off")
		}
		if req.RequestID != "" {
			h, err := tx.GetHandoverByRequestID(ctx, conversationID, req.RequestID)
			if err == nil {
				return domain.Change{}, replay{h}
			}
			if !isNotFound(err) {
				return domain.Change{}, err
			}
		}
		route, err := a.route(ctx, tx, s, domain.RouteInput{Trigger: domain.TriggerHandoff, BotTarget: req.Target})
		if err != nil {
			return domain.Change{}, err
		}
		req.Route = route
		r, err := a.targetRouting(ctx, tx, s, route.Target)
		if err != nil {
			return domain.Change{}, err
		}
		if r.Redirect, err = a.outOfHoursRouting(ctx, tx, r.Queue, s.Now); err != nil {
			return domain.Change{}, err
		}
		return domain.Handoff(s, p.Actor(), req, r)
	})
}

// replay is returned by a transition rule that finds its request already done: the stored
// result is returned and nothing is written.
type replay struct{ handover domain.Handover }

func (replay) Error() string { return "request already done" }

// targetRouting resolves a handoff target to its queue (a named queue, or the channel's
// default queue for skill, role and agent targets) and loads that queue's routing.
func (a *App) targetRouting(ctx context.Context, tx store.Tx, s domain.Situation, t domain.Target) (domain.Routing, error) {
	queueID := s.Channel.DefaultQueueID
	if t.QueueID != "" {
		queueID = t.QueueID
	}
	if t.AgentID != "" {
		if _, err := tx.GetAgent(ctx, t.AgentID); err != nil {
			return domain.Routing{}, err
		}
	}
	return a.routing(ctx, tx, queueID)
}

// outOfHoursRouting loads the routing of the queue q sends handoffs to while closed, when it
// is closed now and says so; nil otherwise, also when that queue is gone (the bot then keeps
// the conversation).
func (a *App) outOfHoursRouting(ctx context.Context, tx store.Tx, q domain.Queue, now time.Time) (*domain.Routing, error) {
	ooh, closed := q.ClosedNow(now)
	if !closed || ooh.Action != domain.OutOfHoursOtherQueue {
		return nil, nil
	}
	r, err := a.routing(ctx, tx, ooh.QueueID)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Accept makes the calling agent the owner of the handover's conversation.
func (a *App) Accept(ctx context.Context, p domain.Principal, handoverID string) (Transitioned, error) {
	h, err := a.handover(ctx, handoverID)
	if err != nil {
		return Transitioned{}, err
	}
	var lock *string
	if p.Role == domain.PrincipalAgent {
		lock = &p.SubjectID // capacity is a hard limit: see transitionLocking
	}
	return a.transitionLocking(ctx, p, "accept", h.ConversationID, handoverRef(handoverID), lock, func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error) {
		if agent == nil {
			return domain.Change{}, domain.Forbidden("only an agent may accept a handover")
		}
		h, q, err := a.handoverInQueue(ctx, tx, handoverID)
		if err != nil {
			return domain.Change{}, err
		}
		return domain.Accept(s, h, *agent, q)
	})
}

// Decline records that the calling agent does not take the handover.
func (a *App) Decline(ctx context.Context, p domain.Principal, handoverID, reason string) (domain.Handover, error) {
	h, err := a.handover(ctx, handoverID)
	if err != nil {
		return domain.Handover{}, err
	}
	_, err = a.transition(ctx, p, "decline", h.ConversationID, handoverRef(handoverID), func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error) {
		if agent == nil {
			return domain.Change{}, domain.Forbidden("only an agent may decline a handover")
		}
		h, err := tx.GetHandover(ctx, handoverID)
		if err != nil {
			return domain.Change{}, err
		}
		r, err := a.routing(ctx, tx, h.QueueID)
		if err != nil {
			return domain.Change{}, err
		}
		return domain.Decline(s, h, *agent, reason, r)
	})
	if err != nil {
		return domain.Handover{}, err
	}
	return a.handover(ctx, handoverID)
}

// Cancel withdraws a waiting handover.
func (a *App) Cancel(ctx context.Context, p domain.Principal, handoverID, reason string) (Transitioned, error) {
	h, err := a.handover(ctx, handoverID)
	if err != nil {
		return Transitioned{}, err
	}
	return a.transition(ctx, p, "cancel", h.ConversationID, handoverRef(handoverID), func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error) {
		h, err := tx.GetHandover(ctx, handoverID)
		if err != nil {
			return domain.Change{}, err
		}
		requester := p.Role == domain.PrincipalBot && h.From == domain.BotOwner(p.SubjectID)
		supervisor := agent != nil && agent.Role == domain.RoleSupervisor
		if !requester && !supervisor && p.Role != domain.PrincipalAdmin {
			return domain.Change{}, domain.Forbidden("only the bot that asked, a supervisor or an admin may cancel a handover")
		}
		return domain.Cancel(s, p.Actor(), h, reason)
	})
}

// Handback ends the calling agent's engagement.
func (a *App) Handback(ctx context.Context, p domain.Principal, conversationID string, expected *uint64, outcome domain.Outcome, summary string) (Transitioned, error) {
	return a.transition(ctx, p, "handback", conversationID, conversationRef(conversationID), func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error) {
		if agent == nil {
			return domain.Change{}, domain.Forbidden("only an agent may hand back")
		}
		return domain.Handback(s, *agent, expected, outcome, summary)
	})
}

// Takeover makes the calling agent the owner at once.
func (a *App) Takeover(ctx context.Context, p domain.Principal, conversationID string, expected *uint64, reason string) (Transitioned, error) {
	return a.transition(ctx, p, "takeover", conversationID, conversationRef(conversationID), func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error) {
		if agent == nil {
			return domain.Change{}, domain.Forbidden("only an agent may take over")
		}
		return domain.Takeover(s, *agent, expected, reason)
	})
}

// Transfer passes the calling agent's conversation to another target.
func (a *App) Transfer(ctx context.Context, p domain.Principal, conversationID string, expected *uint64, target domain.Target, reason, summary string) (Transitioned, error) {
	return a.transition(ctx, p, "transfer", conversationID, conversationRef(conversationID), func(tx store.Tx, s domain.Situation, agent *domain.Agent) (domain.Change, error) {
		if agent == nil {
			return domain.Change{}, domain.Forbidden("only an agent may transfer")
		}
		route, err := a.route(ctx, tx, s, domain.RouteInput{Trigger: domain.TriggerTransfer, BotTarget: target})
		if err != nil {
			return domain.Change{}, err
		}
		r, err := a.targetRouting(ctx, tx, s, route.Target)
		if err != nil {
			return domain.Change{}, err
		}
		return domain.Transfer(s, *agent, expected, target, reason, summary, route, r)
	})
}

func (a *App) handover(ctx context.Context, id string) (domain.Handover, error) {
	var h domain.Handover
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		h, err = tx.GetHandover(ctx, id)
		return err
	})
	return h, err
}

func (a *App) handoverInQueue(ctx context.Context, tx store.Tx, id string) (domain.Handover, domain.Queue, error) {
	h, err := tx.GetHandover(ctx, id)
	if err != nil {
		return h, domain.Queue{}, err
	}
	q, err := tx.GetQueue(ctx, h.QueueID)
	return h, q, err
}

// GetHandover returns a handover of a conversation the principal may see.
func (a *App) GetHandover(ctx context.Context, p domain.Principal, id string) (domain.Handover, error) {
	var h domain.Handover
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		if h, err = tx.GetHandover(ctx, id); err != nil {
			return err
		}
		_, _, err = a.authorizedAs(ctx, tx, p, h.ConversationID, handoverRef(id))
		return err
	})
	return h, err
}

func handoverRef(id string) ref { return ref{"handover", id} }

// ListHandovers lists handovers. Bots and agents must name a conversation they may see, or
// (agents) list their own.
func (a *App) ListHandovers(ctx context.Context, p domain.Principal, q store.HandoverQuery, page store.Page) ([]domain.Handover, string, error) {
	var out []domain.Handover
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		if err := a.canListHandovers(ctx, tx, p, q); err != nil {
			return err
		}
		var err error
		out, next, err = tx.ListHandovers(ctx, q, page)
		return err
	})
	return out, next, err
}

func (a *App) canListHandovers(ctx context.Context, tx store.Tx, p domain.Principal, q store.HandoverQuery) error {
	if q.ConversationID != "" {
		_, _, err := a.authorized(ctx, tx, p, q.ConversationID)
		return err
	}
	switch p.Role {
	case domain.PrincipalAdmin, domain.PrincipalService:
		return nil
	case domain.PrincipalAgent:
		agent, err := a.callingAgent(ctx, tx, p)
		if err != nil {
			return err
		}
		if agent.Role == domain.RoleSupervisor || q.AgentID == agent.ID {
			return nil
		}
	}
	return domain.Forbidden("name a conversation_id (or, for agents, their own agent_id) to list handovers")
}

// Period is one stretch of a conversation's ownership.
type Period struct {
	Owner      domain.Owner
	Epoch      uint64
	Start, End time.Time
	Reason     string
	HandoverID string
	ChangedBy  domain.Actor
}

// Timeline returns who owned a conversation, since when and why, from its owner-change
// events.
func (a *App) Timeline(ctx context.Context, p domain.Principal, conversationID string) ([]Period, error) {
	var periods []Period
	err := a.read(ctx, func(tx store.Tx) error {
		periods = nil // a read may run more than once
		if _, _, err := a.authorized(ctx, tx, p, conversationID); err != nil {
			return err
		}
		changes, err := tx.ListOwnerChanges(ctx, conversationID)
		for _, e := range changes {
			if n := len(periods); n > 0 {
				periods[n-1].End = e.Time
			}
			oc := e.OwnerChange
			periods = append(periods, Period{Owner: oc.To, Epoch: oc.Epoch, Start: e.Time, Reason: oc.Reason, HandoverID: oc.HandoverID, ChangedBy: e.Actor})
		}
		return err
	})
	return periods, err
}
