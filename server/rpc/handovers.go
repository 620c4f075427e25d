package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var _ batonv1connect.HandoverServiceHandler = Handlers{}

// Handoff implements HandoverServiceHandler.
func (h Handlers) Handoff(ctx context.Context, req *batonv1.HandoffRequest) (*batonv1.HandoffResponse, error) {
	out, err := h.App.Handoff(ctx, principal(ctx), req.GetConversationId(), domain.HandoffRequest{
		Target:      targetToDomain(req.GetTarget()),
		Reason:      req.GetReason(),
		Metadata:    req.GetMetadata(),
		Summary:     req.GetSummary(),
		Intake:      intakeToDomain(req.GetIntake()),
		QueueAnyway: req.GetQueueAnyway(),
		RequestID:   req.GetRequestId(),
		Expected:    req.ExpectedEpoch,
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.HandoffResponse{Handover: handoverToProto(out.Handover), Conversation: conversationToProto(out.Conversation)}, nil
}

// AcceptHandover implements HandoverServiceHandler.
func (h Handlers) AcceptHandover(ctx context.Context, req *batonv1.AcceptHandoverRequest) (*batonv1.AcceptHandoverResponse, error) {
	out, err := h.App.Accept(ctx, principal(ctx), req.GetHandoverId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.AcceptHandoverResponse{Handover: handoverToProto(out.Handover), Conversation: conversationToProto(out.Conversation)}, nil
}

// DeclineHandover implements HandoverServiceHandler.
func (h Handlers) DeclineHandover(ctx context.Context, req *batonv1.DeclineHandoverRequest) (*batonv1.DeclineHandoverResponse, error) {
	out, err := h.App.Decline(ctx, principal(ctx), req.GetHandoverId(), req.GetReason())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeclineHandoverResponse{Handover: handoverToProto(out)}, nil
}

// CancelHandover implements HandoverServiceHandler.
func (h Handlers) CancelHandover(ctx context.Context, req *batonv1.CancelHandoverRequest) (*batonv1.CancelHandoverResponse, error) {
	out, err := h.App.Cancel(ctx, principal(ctx), req.GetHandoverId(), req.GetReason())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CancelHandoverResponse{Handover: handoverToProto(out.Handover), Conversation: conversationToProto(out.Conversation)}, nil
}

// Handback implements HandoverServiceHandler.
func (h Handlers) Handback(ctx context.Context, req *batonv1.HandbackRequest) (*batonv1.HandbackResponse, error) {
	out, err := h.App.Handback(ctx, principal(ctx), req.GetConversationId(), req.ExpectedEpoch, handbackOutcomeToDomain(req.GetOutcome()), req.GetSummary())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.HandbackResponse{Handover: handoverToProto(out.Handover), Conversation: conversationToProto(out.Conversation)}, nil
}

// Takeover implements HandoverServiceHandler.
func (h Handlers) Takeover(ctx context.Context, req *batonv1.TakeoverRequest) (*batonv1.TakeoverResponse, error) {
	out, err := h.App.Takeover(ctx, principal(ctx), req.GetConversationId(), req.ExpectedEpoch, req.GetReason())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.TakeoverResponse{Handover: handoverToProto(out.Handover), Conversation: conversationToProto(out.Conversation)}, nil
}

// Transfer implements HandoverServiceHandler.
func (h Handlers) Transfer(ctx context.Context, req *batonv1.TransferRequest) (*batonv1.TransferResponse, error) {
	out, err := h.App.Transfer(ctx, principal(ctx), req.GetConversationId(), req.ExpectedEpoch,
		targetToDomain(req.GetTarget()), req.GetReason(), req.GetSummary())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.TransferResponse{Handover: handoverToProto(out.Handover), Conversation: conversationToProto(out.Conversation)}, nil
}

// GetHandover implements HandoverServiceHandler.
func (h Handlers) GetHandover(ctx context.Context, req *batonv1.GetHandoverRequest) (*batonv1.GetHandoverResponse, error) {
	out, err := h.App.GetHandover(ctx, principal(ctx), req.GetHandoverId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetHandoverResponse{Handover: handoverToProto(out)}, nil
}

// ListHandovers implements HandoverServiceHandler.
func (h Handlers) ListHandovers(ctx context.Context, req *batonv1.ListHandoversRequest) (*batonv1.ListHandoversResponse, error) {
	q := store.HandoverQuery{
		ConversationID: req.GetConversationId(),
		QueueID:        req.GetQueueId(),
		AgentID:        req.GetAgentId(),
		States:         handoverStatesToDomain(req.GetStates()),
	}
	list, next, err := h.App.ListHandovers(ctx, principal(ctx), q, page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.ListHandoversResponse{NextPageToken: next}
	for _, ho := range list {
		out.Handovers = append(out.Handovers, handoverToProto(ho))
	}
	return out, nil
}

// GetOwnershipTimeline implements HandoverServiceHandler.
func (h Handlers) GetOwnershipTimeline(ctx context.Context, req *batonv1.GetOwnershipTimelineRequest) (*batonv1.GetOwnershipTimelineResponse, error) {
	periods, err := h.App.Timeline(ctx, principal(ctx), req.GetConversationId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.GetOwnershipTimelineResponse{}
	for _, p := range periods {
		out.Periods = append(out.Periods, periodToProto(p))
	}
	return out, nil
}

func periodToProto(p app.Period) *batonv1.OwnershipPeriod {
	out := &batonv1.OwnershipPeriod{
		Owner:      ownerToProto(p.Owner),
		Epoch:      p.Epoch,
		StartTime:  timestamppb.New(p.Start),
		Reason:     p.Reason,
		HandoverId: p.HandoverID,
		ChangedBy:  actorToProto(p.ChangedBy),
	}
	if !p.End.IsZero() {
		out.EndTime = timestamppb.New(p.End)
	}
	return out
}

// GetInbox implements HandoverServiceHandler.
func (h Handlers) GetInbox(ctx context.Context, req *batonv1.GetInboxRequest) (*batonv1.GetInboxResponse, error) {
	in, err := h.App.GetInbox(ctx, principal(ctx), req.GetAgentId(), pageSize(req.GetPageSize(), defaultPageSize))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetInboxResponse{
		Offers:  mapSlice(in.Offers, inboxItemToProto),
		Owned:   mapSlice(in.Owned, inboxItemToProto),
		Waiting: mapSlice(in.Waiting, inboxItemToProto),
		Counts: &batonv1.InboxCounts{
			Offers: int32(in.Counts.Offers), Owned: int32(in.Counts.Owned), Waiting: int32(in.Counts.Waiting),
		},
		Cursor: in.Cursor,
	}, nil
}

func inboxItemToProto(it app.InboxItem) *batonv1.InboxItem {
	out := &batonv1.InboxItem{
		Conversation:       conversationToProto(it.Conversation),
		Handover:           handoverToProto(it.Handover),
		ContactDisplayName: it.Contact.DisplayName,
		ChannelId:          it.Channel.ID,
		ChannelKind:        channelKindToProto(it.Channel.Kind),
		ChannelDisplayName: it.Channel.DisplayName,
		WaitTime:           durationpb.New(it.WaitTime),
	}
	if m := it.LastMessage; m != nil {
		out.LastMessagePreview = channel.Preview(m.Content)
		out.LastMessageDirection = directionToProto(m.Direction)
		out.LastMessageTime = timestamppb.New(m.CreateTime)
	}
	return out
}
