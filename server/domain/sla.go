package domain

import (
	"slices"
	"time"
)

// QueueSLA is a queue's unanswered SLA: how long a handed-off conversation may wait for an
// agent, and for the first agent reply, and what a breach does.
type QueueSLA struct {
	// WaitTarget is how long a handover may wait for an agent to accept it; 0 for none.
	WaitTarget time.Duration `json:"wait_target,omitempty"`
	// FirstReplyTarget is how long after the handoff the first agent reply may come; 0 for none.
	FirstReplyTarget time.Duration `json:"first_reply_target,omitempty"`
	// RaisePriority is added to the handover's priority at each breach.
	RaisePriority int `json:"raise_priority,omitempty"`
	// OfferSupervisors makes supervisors eligible too once the handover breached.
	OfferSupervisors bool `json:"offer_supervisors,omitempty"`
}

// Check refuses an SLA that could not work.
func (q QueueSLA) Check(field string) error {
	switch {
	case q.WaitTarget < 0:
		return Invalid(field+".wait_target", "must not be negative")
	case q.FirstReplyTarget < 0:
		return Invalid(field+".first_reply_target", "must not be negative")
	case q.RaisePriority < 0:
		return Invalid(field+".raise_priority", "must not be negative")
	}
	return nil
}

// SLATarget names one SLA target.
type SLATarget string

// SLA targets.
const (
	SLAWait       SLATarget = "wait"
	SLAFirstReply SLATarget = "first_reply"
)

// SLABreach is what a conversation.sla_breached event says.
type SLABreach struct {
	Target   SLATarget `json:"target"`
	QueueID  string    `json:"queue_id"`
	Deadline time.Time `json:"deadline"`
}

// startSLA sets a new handover's deadlines from its queue's targets.
func startSLA(h *Handover, q Queue, now time.Time) {
	if q.SLA.WaitTarget > 0 {
		h.SLAWaitDeadline = now.Add(q.SLA.WaitTarget)
	}
	if q.SLA.FirstReplyTarget > 0 {
		h.SLAReplyDeadline = now.Add(q.SLA.FirstReplyTarget)
	}
}

// dueTargets are the targets of h breached at now.
func dueTargets(h Handover, now time.Time) []SLATarget {
	var due []SLATarget
	if h.State.Waiting() && !h.SLAWaitDeadline.IsZero() && !now.Before(h.SLAWaitDeadline) {
		due = append(due, SLAWait)
	}
	if h.State.Live() && !h.SLAReplyDeadline.IsZero() && !now.Before(h.SLAReplyDeadline) {
		due = append(due, SLAFirstReply)
	}
	return due
}

// BreachSLA is where a conversation breaches its queue's SLA: for each target of the live
// handover whose deadline has passed, it records the breach once (the deadline is cleared),
// announces conversation.sla_breached, and does what the queue says: raise the handover's
// priority, make supervisors eligible too and offer it to one of them if it has no live
// offer. ok is false when nothing is due. (The customer's apology for a breach belongs here
// too, written in the same transaction.)
func BreachSLA(s Situation, q Queue, r Routing) (Change, bool) {
	if s.Active == nil || s.Conversation.ActiveHandoverID != s.Active.ID {
		return Change{}, false
	}
	h := *s.Active
	due := dueTargets(h, s.Now)
	if len(due) == 0 {
		return Change{}, false
	}
	t := begin(s, System)
	if t.conv.SLABreachTime.IsZero() {
		t.conv.SLABreachTime = s.Now
	}
	h.SLABreaches = slices.Clone(h.SLABreaches)
	for _, target := range due {
		breach := SLABreach{Target: target, QueueID: q.ID, Deadline: h.SLAWaitDeadline}
		if target == SLAWait {
			h.SLAWaitDeadline = time.Time{}
		} else {
			breach.Deadline = h.SLAReplyDeadline
			h.SLAReplyDeadline = time.Time{}
		}
		h.SLABreaches = append(h.SLABreaches, target)
		h.Priority += q.SLA.RaisePriority
		h.Supervisors = h.Supervisors || q.SLA.OfferSupervisors
		snapshot := h
		t.emit(EventSLABreached, func(e *Event) { e.Handover = &snapshot; e.SLABreach = &breach })
	}
	t.update(h)
	t.acknowledge(AckSLAApology, q, AckValues{})
	if h.State == HandoverRequested {
		t.offer(h, r)
	}
	return t.finish(), true
}

// replied ends the first-reply target of the live handover once its agent has answered.
func (t *transition) replied() {
	if t.s.Active == nil || t.s.Active.SLAReplyDeadline.IsZero() || t.s.Active.ID != t.conv.ActiveHandoverID {
		return
	}
	h := *t.s.Active
	h.SLAReplyDeadline = time.Time{}
	t.update(h)
}
