package postgres

import (
	"context"

	"github.com/batonhq/baton/server/domain"
)

var ruleColumns = []string{"id", "display_name", "channel_id", "position", "disabled", "conditions", "action", "create_time", "update_time", "revision"}

var (
	selectRule = "SELECT " + columns("r", ruleColumns) + " FROM routing_rules r"
	insertRule = insertSQL("routing_rules", ruleColumns)
	updateRule = updateSQL("routing_rules", ruleColumns)
)

func ruleArgs(r domain.RoutingRule) []any {
	return []any{r.ID, r.DisplayName, r.ChannelID, r.Position, r.Disabled, jsonObject(r.When), jsonObject(r.Then),
		r.CreateTime, r.UpdateTime, r.Revision}
}

func scanRule(s scanner) (domain.RoutingRule, error) {
	var r domain.RoutingRule
	err := s.Scan(&r.ID, &r.DisplayName, &r.ChannelID, &r.Position, &r.Disabled, jsonCol(&r.When), jsonCol(&r.Then),
		&r.CreateTime, &r.UpdateTime, &r.Revision)
	return r, err
}

func (t *tx) CreateRoutingRule(ctx context.Context, r domain.RoutingRule) error {
	return t.insert(ctx, "routing rule", insertRule, ruleArgs(r)...)
}

func (t *tx) GetRoutingRule(ctx context.Context, id string) (domain.RoutingRule, error) {
	return getOne(ctx, t, scanRule, "routing rule", id, selectRule+" WHERE r.id = $1", id)
}

func (t *tx) ListRoutingRules(ctx context.Context) ([]domain.RoutingRule, error) {
	return getAll(ctx, t, scanRule, selectRule+" ORDER BY r.position, r.id")
}

func (t *tx) UpdateRoutingRule(ctx context.Context, r domain.RoutingRule) error {
	return t.update(ctx, "routing rule", updateRule, r.ID, ruleArgs(r))
}

func (t *tx) DeleteRoutingRule(ctx context.Context, id string) error {
	return t.delete(ctx, "routing rule", "routing_rules", id)
}
