package postgres

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

var (
	// selectAgent derives Active from the handovers the agent has accepted, and Offered from
	// the live offers made to it.
	selectAgent = "SELECT " + columns("a", agentColumns) + `,
		(SELECT count(*) FROM handovers h WHERE h.agent_id = a.id AND h.state = 'accepted'),
		(SELECT count(*) FROM handovers h WHERE h.offered_agent_id = a.id AND h.state = 'offered')
		FROM agents a`
	insertAgent = insertSQL("agents", agentColumns)
	updateAgent = updateSQL("agents", agentColumns)
)

// agentArgs leaves out Active, which is derived.
func agentArgs(a domain.Agent) []any {
	return []any{
		a.ID, a.DisplayName, a.Email, jsonList(a.Skills), a.Role, a.Team, a.Capacity, jsonList(a.QueueIDs), a.Presence,
		a.LastSeenTime, a.CreateTime, a.UpdateTime, a.Revision,
	}
}

func scanAgent(s scanner) (domain.Agent, error) {
	var a domain.Agent
	err := s.Scan(&a.ID, &a.DisplayName, &a.Email, jsonCol(&a.Skills), &a.Role, &a.Team, &a.Capacity, jsonCol(&a.QueueIDs), &a.Presence,
		&a.LastSeenTime, &a.CreateTime, &a.UpdateTime, &a.Revision, &a.Active, &a.Offered)
	return a, err
}

func (t *tx) CreateAgent(ctx context.Context, a domain.Agent) error {
	return t.insert(ctx, "agent", insertAgent, agentArgs(a)...)
}

func (t *tx) GetAgent(ctx context.Context, id string) (domain.Agent, error) {
	return getOne(ctx, t, scanAgent, "agent", id, selectAgent+" WHERE a.id = $1", id)
}

func (t *tx) ListAgents(ctx context.Context, aq store.AgentQuery, p store.Page) ([]domain.Agent, string, error) {
	q := query{head: selectAgent}
	if aq.QueueID != "" {
		q.where("a.queue_ids ? " + q.arg(aq.QueueID)) // jsonb: the array holds this string
	}
	if aq.Presence != "" {
		q.where("a.presence = " + q.arg(aq.Presence))
	}
	return getPage(ctx, t, q, order{id: "a.id"}, p, scanAgent, func(a domain.Agent) cursor { return cursor{ID: a.ID} })
}

func (t *tx) UpdateAgent(ctx context.Context, a domain.Agent) error {
	return t.update(ctx, "agent", updateAgent, a.ID, agentArgs(a))
}

func (t *tx) TouchAgent(ctx context.Context, id string, seen time.Time) error {
	return t.exec(ctx, "touch", "agent", id, "UPDATE agents SET last_seen_time = $2 WHERE id = $1", id, seen)
}

func (t *tx) DeleteAgent(ctx context.Context, id string) error {
	return t.delete(ctx, "agent", "agents", id)
}

// ListAgentsSeenBefore lists the agents that look present but were last seen before t, the
// longest silent first.
func (t *tx) ListAgentsSeenBefore(ctx context.Context, before time.Time, limit int) ([]domain.Agent, error) {
	return getAll(ctx, t, scanAgent, selectAgent+`
		WHERE a.presence != 'offline' AND a.last_seen_time < $1
		ORDER BY a.last_seen_time, a.id LIMIT $2`, before, limitOr(limit))
}
