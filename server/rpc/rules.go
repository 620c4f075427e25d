package rpc

import (
	"context"
	"maps"
	"slices"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/domain"
)

// CreateRoutingRule implements RoutingServiceHandler.
func (h Handlers) CreateRoutingRule(ctx context.Context, req *batonv1.CreateRoutingRuleRequest) (*batonv1.CreateRoutingRuleResponse, error) {
	r, err := h.App.CreateRoutingRule(ctx, principal(ctx), domain.RoutingRule{
		DisplayName: req.GetDisplayName(),
		ChannelID:   req.GetChannelId(),
		Position:    int(req.GetPosition()),
		Disabled:    req.GetDisabled(),
		When:        ruleConditionsToDomain(req.GetWhen()),
		Then:        ruleActionToDomain(req.GetThen()),
	}, req.GetRequestId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateRoutingRuleResponse{RoutingRule: ruleToProto(r)}, nil
}

// GetRoutingRule implements RoutingServiceHandler.
func (h Handlers) GetRoutingRule(ctx context.Context, req *batonv1.GetRoutingRuleRequest) (*batonv1.GetRoutingRuleResponse, error) {
	r, err := h.App.GetRoutingRule(ctx, principal(ctx), req.GetRoutingRuleId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetRoutingRuleResponse{RoutingRule: ruleToProto(r)}, nil
}

// ListRoutingRules implements RoutingServiceHandler.
func (h Handlers) ListRoutingRules(ctx context.Context, req *batonv1.ListRoutingRulesRequest) (*batonv1.ListRoutingRulesResponse, error) {
	q := app.RuleQuery{ChannelID: req.GetChannelId(), GlobalOnly: req.GetGlobalOnly()}
	rules, next, err := h.App.ListRoutingRules(ctx, principal(ctx), q, page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListRoutingRulesResponse{RoutingRules: mapSlice(rules, ruleToProto), NextPageToken: next}, nil
}

// UpdateRoutingRule implements RoutingServiceHandler.
func (h Handlers) UpdateRoutingRule(ctx context.Context, req *batonv1.UpdateRoutingRuleRequest) (*batonv1.UpdateRoutingRuleResponse, error) {
	u := app.RuleUpdate{
		ID:          req.GetRoutingRuleId(),
		Etag:        req.GetEtag(),
		DisplayName: req.DisplayName,
		ChannelID:   req.ChannelId,
		Position:    mapOptional(req.Position, func(n int32) int { return int(n) }),
		Disabled:    req.Disabled,
	}
	if req.GetWhen() != nil {
		w := ruleConditionsToDomain(req.GetWhen())
		u.When = &w
	}
	if req.GetThen() != nil {
		t := ruleActionToDomain(req.GetThen())
		u.Then = &t
	}
	r, err := h.App.UpdateRoutingRule(ctx, principal(ctx), u)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateRoutingRuleResponse{RoutingRule: ruleToProto(r)}, nil
}

// DeleteRoutingRule implements RoutingServiceHandler.
func (h Handlers) DeleteRoutingRule(ctx context.Context, req *batonv1.DeleteRoutingRuleRequest) (*batonv1.DeleteRoutingRuleResponse, error) {
	if err := h.App.DeleteRoutingRule(ctx, principal(ctx), req.GetRoutingRuleId(), req.GetEtag()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteRoutingRuleResponse{}, nil
}

// ReorderRoutingRules implements RoutingServiceHandler.
func (h Handlers) ReorderRoutingRules(ctx context.Context, req *batonv1.ReorderRoutingRulesRequest) (*batonv1.ReorderRoutingRulesResponse, error) {
	rules, err := h.App.ReorderRoutingRules(ctx, principal(ctx), req.GetRoutingRuleIds())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ReorderRoutingRulesResponse{RoutingRules: mapSlice(rules, ruleToProto)}, nil
}

// ExplainRoute implements RoutingServiceHandler.
func (h Handlers) ExplainRoute(ctx context.Context, req *batonv1.ExplainRouteRequest) (*batonv1.ExplainRouteResponse, error) {
	c := app.RouteCase{
		ConversationID: req.GetConversationId(),
		ChannelID:      req.GetChannelId(),
		Trigger:        routeTriggers.toDomain[req.GetTrigger()],
		BotTarget:      targetToDomain(req.GetRequestedTarget()),
		Messages:       req.GetMessages(),
		EntryPoint:     req.EntryPoint,
		Language:       req.Language,
		AddedTags:      req.GetAddedTags(),
		Attributes:     req.GetContactAttributes(),
	}
	if t := req.GetTags(); t != nil {
		tags := t.GetValues()
		c.Tags = &tags
	}
	m, err := h.App.ExplainRoute(ctx, principal(ctx), c)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.ExplainRouteResponse{
		Target:   targetToProto(m.Target),
		Priority: int32(m.Priority),
		AddTags:  slices.Clone(m.AddTags),
		Reasons:  slices.Clone(m.Why),
	}
	if m.Rule != nil {
		out.RoutingRule = ruleToProto(*m.Rule)
	}
	return out, nil
}

var routeTriggers = newEnumTable(map[batonv1.RouteTrigger]domain.RouteTrigger{
	batonv1.RouteTrigger_ROUTE_TRIGGER_HANDOFF:    domain.TriggerHandoff,
	batonv1.RouteTrigger_ROUTE_TRIGGER_TAG_CHANGE: domain.TriggerTagChange,
	batonv1.RouteTrigger_ROUTE_TRIGGER_TRANSFER:   domain.TriggerTransfer,
})

func ruleToProto(r domain.RoutingRule) *batonv1.RoutingRule {
	return &batonv1.RoutingRule{
		Id:          r.ID,
		DisplayName: r.DisplayName,
		ChannelId:   r.ChannelID,
		Position:    int32(r.Position),
		Disabled:    r.Disabled,
		When: &batonv1.RuleConditions{
			Triggers:    mapSlice(r.When.Triggers, func(t domain.RouteTrigger) batonv1.RouteTrigger { return routeTriggers.toProto[t] }),
			Tags:        slices.Clone(r.When.Tags),
			Words:       slices.Clone(r.When.Words),
			Patterns:    slices.Clone(r.When.Patterns),
			EntryPoints: slices.Clone(r.When.EntryPoints),
			Languages:   slices.Clone(r.When.Languages),
			Attributes:  maps.Clone(r.When.Attributes),
			BotTarget:   targetToProto(r.When.BotTarget),
		},
		Then: &batonv1.RuleAction{
			Target:                  targetToProto(r.Then.Target),
			Priority:                int32(r.Then.Priority),
			AddTags:                 slices.Clone(r.Then.AddTags),
			OverrideRequestedTarget: r.Then.OverrideBot,
		},
		CreateTime: timestamp(r.CreateTime),
		UpdateTime: timestamp(r.UpdateTime),
		Etag:       etag(r.Revision),
	}
}

func ruleConditionsToDomain(w *batonv1.RuleConditions) domain.RuleConditions {
	return domain.RuleConditions{
		Triggers:    mapSlice(w.GetTriggers(), func(t batonv1.RouteTrigger) domain.RouteTrigger { return routeTriggers.toDomain[t] }),
		Tags:        w.GetTags(),
		Words:       w.GetWords(),
		Patterns:    w.GetPatterns(),
		EntryPoints: w.GetEntryPoints(),
		Languages:   w.GetLanguages(),
		Attributes:  w.GetAttributes(),
		BotTarget:   targetToDomain(w.GetBotTarget()),
	}
}

func ruleActionToDomain(t *batonv1.RuleAction) domain.RuleAction {
	return domain.RuleAction{
		Target:      targetToDomain(t.GetTarget()),
		Priority:    int(t.GetPriority()),
		AddTags:     t.GetAddTags(),
		OverrideBot: t.GetOverrideRequestedTarget(),
	}
}
