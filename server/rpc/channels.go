package rpc

import (
	"context"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

var _ batonv1connect.ChannelServiceHandler = Handlers{}

// CreateChannel implements ChannelServiceHandler.
func (h Handlers) CreateChannel(ctx context.Context, req *batonv1.CreateChannelRequest) (*batonv1.CreateChannelResponse, error) {
	c, err := h.App.CreateChannel(ctx, principal(ctx), domain.Channel{
		Kind:           channelKindToDomain(req.GetKind()),
		ExternalID:     req.GetExternalId(),
		DisplayName:    req.GetDisplayName(),
		DefaultQueueID: req.GetDefaultQueueId(),
		SessionTimeout: req.GetSessionTimeout().AsDuration(),
		Credentials:    credentialsToDomain(req.GetCredentials()),
		Retention:      retentionToDomain(req.GetRetention()),
	}, req.GetRequestId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateChannelResponse{Channel: channelToProto(c)}, nil
}

// GetChannel implements ChannelServiceHandler.
func (h Handlers) GetChannel(ctx context.Context, req *batonv1.GetChannelRequest) (*batonv1.GetChannelResponse, error) {
	c, err := h.App.GetChannel(ctx, principal(ctx), req.GetChannelId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetChannelResponse{Channel: channelToProto(c)}, nil
}

// ListChannels implements ChannelServiceHandler.
func (h Handlers) ListChannels(ctx context.Context, req *batonv1.ListChannelsRequest) (*batonv1.ListChannelsResponse, error) {
	cs, next, err := h.App.ListChannels(ctx, principal(ctx), channelKindToDomain(req.GetKind()), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListChannelsResponse{Channels: mapSlice(cs, channelToProto), NextPageToken: next}, nil
}

// UpdateChannel implements ChannelServiceHandler.
func (h Handlers) UpdateChannel(ctx context.Context, req *batonv1.UpdateChannelRequest) (*batonv1.UpdateChannelResponse, error) {
	u := app.ChannelUpdate{
		ID:             req.GetChannelId(),
		Etag:           req.GetEtag(),
		DisplayName:    req.DisplayName,
		DefaultQueueID: req.DefaultQueueId,
		SessionTimeout: optionalDuration(req.GetSessionTimeout()),
	}
	if req.GetRetention() != nil {
		r := retentionToDomain(req.GetRetention())
		u.Retention = &r
	}
	if req.GetCredentials() != nil {
		creds := credentialsToDomain(req.GetCredentials())
		u.Credentials = &creds
	}
	c, err := h.App.UpdateChannel(ctx, principal(ctx), u)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateChannelResponse{Channel: channelToProto(c)}, nil
}

// DeleteChannel implements ChannelServiceHandler.
func (h Handlers) DeleteChannel(ctx context.Context, req *batonv1.DeleteChannelRequest) (*batonv1.DeleteChannelResponse, error) {
	if err := h.App.DeleteChannel(ctx, principal(ctx), req.GetChannelId(), req.GetEtag()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteChannelResponse{}, nil
}

// GetChannelCapabilities implements ChannelServiceHandler. Any authenticated caller may ask:
// the answer is the same for everyone and names no channel.
func (h Handlers) GetChannelCapabilities(ctx context.Context, req *batonv1.GetChannelCapabilitiesRequest) (*batonv1.GetChannelCapabilitiesResponse, error) {
	caps := channel.Capabilities(channelKindToDomain(req.GetKind()))
	if caps == nil { // validation refuses such a kind first
		return nil, toConnect(ctx, domain.Invalid("kind", "no channel kind %v", req.GetKind()))
	}
	return &batonv1.GetChannelCapabilitiesResponse{Capabilities: caps}, nil
}
