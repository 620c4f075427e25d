package sqlite

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var handoverColumns = []string{
	"id", "conversation_id", "from_kind", "from_id", "target", "queue_id", "reason", "metadata", "summary",
	"intake", "state", "failure_reason", "offered_agent_id", "offer_expire_time", "declined_agent_ids",
	"agent_id", "outcome", "handback_summary", "end_reason", "requested_by_kind", "requested_by_id",
	"request_id", "epoch", "create_time", "accept_time", "end_time", "out_of_hours", "trace_parent",
	"priority", "sla_wait_deadline", "sla_reply_deadline", "sla_breaches", "supervisors", "rule_id", "route_reason",
}

var selectHandover = "SELECT " + columns("h", handoverColumns) + " FROM handovers h"

func handoverArgs(h domain.Handover) []any {
	return []any{
		h.ID, h.ConversationID, h.From.Kind, h.From.ID, jsonObject(h.Target), h.QueueID, h.Reason, jsonMap(h.Metadata), h.Summary,
		jsonList(h.Intake), h.State, h.FailureReason, h.OfferedAgentID, nanos(h.OfferExpireTime), jsonList(h.DeclinedAgentIDs),
		h.AgentID, h.Outcome, h.HandbackSummary, h.EndReason, h.RequestedBy.Kind, h.RequestedBy.ID,
		h.RequestID, int64(h.Epoch), nanos(h.CreateTime), nanos(h.AcceptTime), nanos(h.EndTime), h.OutOfHours, h.TraceParent,
		h.Priority, nanos(h.SLAWaitDeadline), nanos(h.SLAReplyDeadline), jsonList(h.SLABreaches), h.Supervisors, h.RuleID, h.RouteReason,
	}
}

// handoverFields lists where handoverColumns scan to.
func handoverFields(h *domain.Handover) []any {
	return []any{
		&h.ID, &h.ConversationID, &h.From.Kind, &h.From.ID, jsonCol(&h.Target), &h.QueueID, &h.Reason, jsonCol(&h.Metadata), &h.Summary,
		jsonCol(&h.Intake), &h.State, &h.FailureReason, &h.OfferedAgentID, timeCol{&h.OfferExpireTime}, jsonCol(&h.DeclinedAgentIDs),
		&h.AgentID, &h.Outcome, &h.HandbackSummary, &h.EndReason, &h.RequestedBy.Kind, &h.RequestedBy.ID,
		&h.RequestID, &h.Epoch, timeCol{&h.CreateTime}, timeCol{&h.AcceptTime}, timeCol{&h.EndTime}, &h.OutOfHours, &h.TraceParent,
		&h.Priority, timeCol{&h.SLAWaitDeadline}, timeCol{&h.SLAReplyDeadline}, jsonCol(&h.SLABreaches), &h.Supervisors, &h.RuleID, &h.RouteReason,
	}
}

func scanHandover(s scanner) (h domain.Handover, err error) {
	err = s.Scan(handoverFields(&h)...)
	return h, err
}

func (t *tx) CreateHandover(ctx context.Context, h domain.Handover) error {
	return t.insert(ctx, "handover", insertSQL("handovers", handoverColumns), handoverArgs(h)...)
}

// UpdateHandover overwrites every column but the id.
func (t *tx) UpdateHandover(ctx context.Context, h domain.Handover) error {
	args := append(handoverArgs(h)[1:], h.ID)
	res, err := t.exec(ctx, "UPDATE handovers SET "+setSQL(handoverColumns[1:])+" WHERE id = ?", args...)
	if err := writeErr("update", "handover", err); err != nil {
		return err
	}
	return affected(res, "handover", h.ID)
}

func (t *tx) GetHandover(ctx context.Context, id string) (domain.Handover, error) {
	return getOne(ctx, t, scanHandover, "handover", id, selectHandover+" WHERE h.id = ?", id)
}

// GetHandoverByRequestID never finds a handover by the empty id, which is not a key.
func (t *tx) GetHandoverByRequestID(ctx context.Context, conversationID, requestID string) (domain.Handover, error) {
	if requestID == "" {
		return domain.Handover{}, domain.NotFound("handover", requestID)
	}
	return getOne(ctx, t, scanHandover, "handover", requestID,
		selectHandover+" WHERE h.conversation_id = ? AND h.request_id = ? AND h.request_id != ''", conversationID, requestID)
}

func (t *tx) ListHandovers(ctx context.Context, hq store.HandoverQuery, p store.Page) ([]domain.Handover, string, error) {
	q := handoverQuery(selectHandover, hq)
	o := handoverOrder
	o.desc = !hq.OldestFirst
	if hq.ByPriority {
		o = waitingOrder
	}
	return getPage(ctx, t, q, o, p, scanHandover, handoverCursor)
}

func (t *tx) CountHandovers(ctx context.Context, hq store.HandoverQuery) (int, error) {
	q := handoverQuery("SELECT count(*) FROM handovers h", hq)
	return t.count(ctx, q.sql(), q.args...)
}

// handoverQuery is head filtered as hq says.
func handoverQuery(head string, hq store.HandoverQuery) query {
	q := query{head: head}
	if hq.ConversationID != "" {
		q.where("h.conversation_id = ?", hq.ConversationID)
	}
	if hq.QueueID != "" {
		q.where("h.queue_id = ?", hq.QueueID)
	}
	if hq.QueueIDs != nil {
		whereIn(&q, "h.queue_id", hq.QueueIDs)
	}
	if hq.AgentID != "" {
		q.where("(h.agent_id = ? OR h.offered_agent_id = ?)", hq.AgentID, hq.AgentID)
	}
	if hq.NotOfferedTo != "" {
		q.where("h.offered_agent_id != ?", hq.NotOfferedTo)
	}
	if len(hq.States) > 0 {
		whereIn(&q, "h.state", hq.States)
	}
	return q
}

// handoverOrder is the documented order of handover lists: newest first.
var handoverOrder = order{time: "h.create_time", id: "h.id", desc: true}

// waitingOrder is the order waiting handovers are offered in: the highest priority first, then
// the longest waiting (the index handovers_waiting).
var waitingOrder = order{rank: "-h.priority", time: "h.create_time", id: "h.id"}

func handoverCursor(h domain.Handover) cursor {
	return cursor{R: -int64(h.Priority), T: nanos(h.CreateTime), ID: h.ID}
}
