package sqlite

import (
	"context"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var agentColumns = []string{
	"id", "display_name", "email", "skills", "role", "team", "capacity", "queue_ids", "presence",
	"last_seen_time", "create_time", "update_time", "revision",
}

// selectAgent derives Active from the handovers the agent has accepted, and Offered from
// the live offers made to it.
var selectAgent = "SELECT " + columns("a", agentColumns) + `,
	(SELECT count(*) FROM handovers h WHERE h.agent_id = a.id AND h.state = 'accepted'),
	(SELECT count(*) FROM handovers h WHERE h.offered_agent_id = a.id AND h.state = 'offered')
	FROM agents a`

// agentArgs leaves out Active, which is derived.
func agentArgs(a domain.Agent) []any {
	return []any{
		a.ID, a.DisplayName, a.Email, jsonList(a.Skills), a.Role, a.Team, a.Capacity, jsonList(a.QueueIDs), a.Presence,
		nanos(a.LastSeenTime), nanos(a.CreateTime), nanos(a.UpdateTime), a.Revision,
	}
}

func scanAgent(s scanner) (domain.Agent, error) {
	var a domain.Agent
	err := s.Scan(&a.ID, &a.DisplayName, &a.Email, jsonCol(&a.Skills), &a.Role, &a.Team, &a.Capacity, jsonCol(&a.QueueIDs), &a.Presence,
		timeCol{&a.LastSeenTime}, timeCol{&a.CreateTime}, timeCol{&a.UpdateTime}, &a.Revision, &a.Active, &a.Offered)
	return a, err
}

func (t *tx) CreateAgent(ctx context.Context, a domain.Agent) error {
	return t.insert(ctx, "agent", insertSQL("agents", agentColumns), agentArgs(a)...)
}

func (t *tx) GetAgent(ctx context.Context, id string) (domain.Agent, error) {
	return getOne(ctx, t, scanAgent, "agent", id, selectAgent+" WHERE a.id = ?", id)
}

func (t *tx) ListAgents(ctx context.Context, aq store.AgentQuery, p store.Page) ([]domain.Agent, string, error) {
	q := query{head: selectAgent}
	if aq.QueueID != "" {
		q.where("EXISTS (SELECT 1 FROM json_each(a.queue_ids) WHERE value = ?)", aq.QueueID)
	}
	if aq.Presence != "" {
		q.where("a.presence = ?", aq.Presence)
	}
	return getPage(ctx, t, q, order{id: "a.id"}, p, scanAgent, func(a domain.Agent) cursor { return cursor{ID: a.ID} })
}

func (t *tx) UpdateAgent(ctx context.Context, a domain.Agent) error {
	return t.update(ctx, "agent", "agents", a.ID, a.Revision, agentColumns, agentArgs(a))
}

func (t *tx) TouchAgent(ctx context.Context, id string, seen time.Time) error {
	res, err := t.exec(ctx, "UPDATE agents SET last_seen_time = ? WHERE id = ?", nanos(seen), id)
	if err := writeErr("touch", "agent", err); err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return domain.NotFound("agent", id)
}

func (t *tx) DeleteAgent(ctx context.Context, id string) error {
	return t.delete(ctx, "agent", "agents", id)
}

// ListAgentsSeenBefore lists the agents that look present but were last seen before t, the
// longest silent first.
func (t *tx) ListAgentsSeenBefore(ctx context.Context, before time.Time, limit int) ([]domain.Agent, error) {
	return getAll(ctx, t, scanAgent, selectAgent+`
		WHERE a.presence != 'offline' AND a.last_seen_time < ?
		ORDER BY a.last_seen_time, a.id LIMIT ? + 0`, nanos(before), limitOr(limit))
}
