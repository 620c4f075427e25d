package rpc

import (
	"context"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/domain"
)

var _ batonv1connect.BotIntegrationServiceHandler = Handlers{}

// CreateBot implements BotIntegrationServiceHandler.
func (h Handlers) CreateBot(ctx context.Context, req *batonv1.CreateBotRequest) (*batonv1.CreateBotResponse, error) {
	b, err := h.App.CreateBot(ctx, principal(ctx), domain.Bot{
		DisplayName: req.GetDisplayName(),
		Standby:     req.GetStandby(),
		AutoHandoff: autoHandoffToDomain(req.GetAutoHandoff()),
	}, req.GetRequestId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateBotResponse{Bot: botToProto(b)}, nil
}

// GetBot implements BotIntegrationServiceHandler.
func (h Handlers) GetBot(ctx context.Context, req *batonv1.GetBotRequest) (*batonv1.GetBotResponse, error) {
	b, err := h.App.GetBot(ctx, principal(ctx), req.GetBotId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetBotResponse{Bot: botToProto(b)}, nil
}

// ListBots implements BotIntegrationServiceHandler.
func (h Handlers) ListBots(ctx context.Context, req *batonv1.ListBotsRequest) (*batonv1.ListBotsResponse, error) {
	bs, next, err := h.App.ListBots(ctx, principal(ctx), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListBotsResponse{Bots: mapSlice(bs, botToProto), NextPageToken: next}, nil
}

// UpdateBot implements BotIntegrationServiceHandler.
func (h Handlers) UpdateBot(ctx context.Context, req *batonv1.UpdateBotRequest) (*batonv1.UpdateBotResponse, error) {
	b, err := h.App.UpdateBot(ctx, principal(ctx), app.BotUpdate{
		ID:          req.GetBotId(),
		Etag:        req.GetEtag(),
		DisplayName: req.DisplayName,
		Standby:     req.Standby,
		AutoHandoff: optionalPolicy(req.GetAutoHandoff()),
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateBotResponse{Bot: botToProto(b)}, nil
}

// DeleteBot implements BotIntegrationServiceHandler.
func (h Handlers) DeleteBot(ctx context.Context, req *batonv1.DeleteBotRequest) (*batonv1.DeleteBotResponse, error) {
	if err := h.App.DeleteBot(ctx, principal(ctx), req.GetBotId(), req.GetEtag()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteBotResponse{}, nil
}

// BindChannel implements BotIntegrationServiceHandler.
func (h Handlers) BindChannel(ctx context.Context, req *batonv1.BindChannelRequest) (*batonv1.BindChannelResponse, error) {
	b, err := h.App.BindChannel(ctx, principal(ctx), req.GetBotId(), req.GetChannelId(), true)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.BindChannelResponse{Bot: botToProto(b)}, nil
}

// UnbindChannel implements BotIntegrationServiceHandler.
func (h Handlers) UnbindChannel(ctx context.Context, req *batonv1.UnbindChannelRequest) (*batonv1.UnbindChannelResponse, error) {
	b, err := h.App.BindChannel(ctx, principal(ctx), req.GetBotId(), req.GetChannelId(), false)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UnbindChannelResponse{Bot: botToProto(b)}, nil
}

// ActivateBot implements BotIntegrationServiceHandler.
func (h Handlers) ActivateBot(ctx context.Context, req *batonv1.ActivateBotRequest) (*batonv1.ActivateBotResponse, error) {
	b, err := h.setBotActive(ctx, req.GetBotId(), true)
	if err != nil {
		return nil, err
	}
	return &batonv1.ActivateBotResponse{Bot: botToProto(b)}, nil
}

// DeactivateBot implements BotIntegrationServiceHandler.
func (h Handlers) DeactivateBot(ctx context.Context, req *batonv1.DeactivateBotRequest) (*batonv1.DeactivateBotResponse, error) {
	b, err := h.setBotActive(ctx, req.GetBotId(), false)
	if err != nil {
		return nil, err
	}
	return &batonv1.DeactivateBotResponse{Bot: botToProto(b)}, nil
}

// setBotActive updates only the bot's Active flag; the error is already a Connect error.
func (h Handlers) setBotActive(ctx context.Context, id string, active bool) (domain.Bot, error) {
	b, err := h.App.UpdateBot(ctx, principal(ctx), app.BotUpdate{ID: id, Active: &active})
	return b, toConnect(ctx, err)
}
