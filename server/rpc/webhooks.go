package rpc

import (
	"context"

	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// CreateWebhook implements BotIntegrationServiceHandler.
func (h Handlers) CreateWebhook(ctx context.Context, req *batonv1.CreateWebhookRequest) (*batonv1.CreateWebhookResponse, error) {
	w, secret, err := h.App.CreateWebhook(ctx, principal(ctx), app.WebhookSpec{
		BotID:      req.GetBotId(),
		URL:        req.GetUrl(),
		EventTypes: eventTypesToDomain(req.GetFilters().GetEventTypes()),
		ChannelIDs: req.GetFilters().GetChannelIds(),
		Policy:     inactivePolicyToDomain(req.GetInactivePolicy()),
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateWebhookResponse{Webhook: webhookToProto(w), Secret: secret}, nil
}

// GetWebhook implements BotIntegrationServiceHandler.
func (h Handlers) GetWebhook(ctx context.Context, req *batonv1.GetWebhookRequest) (*batonv1.GetWebhookResponse, error) {
	w, err := h.App.GetWebhook(ctx, principal(ctx), req.GetWebhookId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetWebhookResponse{Webhook: webhookToProto(w)}, nil
}

// ListWebhooks implements BotIntegrationServiceHandler.
func (h Handlers) ListWebhooks(ctx context.Context, req *batonv1.ListWebhooksRequest) (*batonv1.ListWebhooksResponse, error) {
	list, next, err := h.App.ListWebhooks(ctx, principal(ctx), req.GetBotId(), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListWebhooksResponse{Webhooks: mapSlice(list, webhookToProto), NextPageToken: next}, nil
}

// UpdateWebhook implements BotIntegrationServiceHandler.
func (h Handlers) UpdateWebhook(ctx context.Context, req *batonv1.UpdateWebhookRequest) (*batonv1.UpdateWebhookResponse, error) {
	u := app.WebhookUpdate{ID: req.GetWebhookId(), Etag: req.GetEtag(), URL: req.Url}
	if f := req.GetFilters(); f != nil {
		types, channels := eventTypesToDomain(f.GetEventTypes()), f.GetChannelIds()
		u.EventTypes, u.ChannelIDs = &types, &channels
	}
	if p := inactivePolicyToDomain(req.GetInactivePolicy()); p != "" {
		u.Policy = &p
	}
	w, err := h.App.UpdateWebhook(ctx, principal(ctx), u)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateWebhookResponse{Webhook: webhookToProto(w)}, nil
}

// DeleteWebhook implements BotIntegrationServiceHandler.
func (h Handlers) DeleteWebhook(ctx context.Context, req *batonv1.DeleteWebhookRequest) (*batonv1.DeleteWebhookResponse, error) {
	if err := h.App.DeleteWebhook(ctx, principal(ctx), req.GetWebhookId(), req.GetEtag()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteWebhookResponse{}, nil
}

// VerifyWebhook implements BotIntegrationServiceHandler.
func (h Handlers) VerifyWebhook(ctx context.Context, req *batonv1.VerifyWebhookRequest) (*batonv1.VerifyWebhookResponse, error) {
	w, err := h.App.VerifyWebhook(ctx, principal(ctx), req.GetWebhookId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.VerifyWebhookResponse{Webhook: webhookToProto(w)}, nil
}

// RotateWebhookSecret implements BotIntegrationServiceHandler.
func (h Handlers) RotateWebhookSecret(ctx context.Context, req *batonv1.RotateWebhookSecretRequest) (*batonv1.RotateWebhookSecretResponse, error) {
	overlap := app.DefaultSecretOverlap
	if req.Overlap != nil {
		overlap = req.GetOverlap().AsDuration()
	}
	w, secret, err := h.App.RotateWebhookSecret(ctx, principal(ctx), req.GetWebhookId(), overlap)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.RotateWebhookSecretResponse{Webhook: webhookToProto(w), Secret: secret}, nil
}

// ListDeliveries implements BotIntegrationServiceHandler.
func (h Handlers) ListDeliveries(ctx context.Context, req *batonv1.ListDeliveriesRequest) (*batonv1.ListDeliveriesResponse, error) {
	q := store.DeliveryQuery{
		WebhookID:      req.GetWebhookId(),
		ConversationID: req.GetConversationId(),
		States:         mapSlice(req.GetStates(), deliveryStateToDomain),
	}
	if req.StartTime != nil {
		q.CreatedAfter = req.GetStartTime().AsTime()
	}
	if req.EndTime != nil {
		q.CreatedBefore = req.GetEndTime().AsTime()
	}
	list, next, err := h.App.ListDeliveries(ctx, principal(ctx), req.GetBotId(), q, page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListDeliveriesResponse{Deliveries: mapSlice(list, deliveryToProto), NextPageToken: next}, nil
}

// Redeliver implements BotIntegrationServiceHandler.
func (h Handlers) Redeliver(ctx context.Context, req *batonv1.RedeliverRequest) (*batonv1.RedeliverResponse, error) {
	d, err := h.App.Redeliver(ctx, principal(ctx), req.GetDeliveryId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.RedeliverResponse{Delivery: deliveryToProto(d)}, nil
}

// RedeliverRange implements BotIntegrationServiceHandler.
func (h Handlers) RedeliverRange(ctx context.Context, req *batonv1.RedeliverRangeRequest) (*batonv1.RedeliverRangeResponse, error) {
	n, err := h.App.RedeliverRange(ctx, principal(ctx), store.DeliveryQuery{
		WebhookID:     req.GetWebhookId(),
		States:        mapSlice(req.GetStates(), deliveryStateToDomain),
		CreatedAfter:  req.GetStartTime().AsTime(),
		CreatedBefore: req.GetEndTime().AsTime(),
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.RedeliverRangeResponse{Count: int32(n)}, nil
}

// WebhookData encodes an event as a webhook delivery's data: the SubscribedEvent a stream
// would carry, in the API's JSON.
func WebhookData(e domain.Event, responsible bool) ([]byte, error) {
	pe, err := eventToProto(e)
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(&batonv1.SubscribedEvent{Event: pe, Responsible: responsible})
}
