package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var (
	_ batonv1connect.RoutingServiceHandler = Handlers{}
	_ batonv1connect.ApiKeyServiceHandler  = Handlers{}
)

// CreateAgent implements RoutingServiceHandler.
func (h Handlers) CreateAgent(ctx context.Context, req *batonv1.CreateAgentRequest) (*batonv1.CreateAgentResponse, error) {
	ag, err := h.App.CreateAgent(ctx, principal(ctx), domain.Agent{
		DisplayName: req.GetDisplayName(),
		Email:       req.GetEmail(),
		Skills:      req.GetSkills(),
		Role:        agentRoleToDomain(req.GetRole()),
		Team:        req.GetTeam(),
		Capacity:    int(req.GetCapacity()),
		QueueIDs:    req.GetQueueIds(),
	}, req.GetRequestId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateAgentResponse{Agent: agentToProto(ag)}, nil
}

// GetAgent implements RoutingServiceHandler.
func (h Handlers) GetAgent(ctx context.Context, req *batonv1.GetAgentRequest) (*batonv1.GetAgentResponse, error) {
	ag, err := h.App.GetAgent(ctx, principal(ctx), req.GetAgentId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetAgentResponse{Agent: agentToProto(ag)}, nil
}

// ListAgents implements RoutingServiceHandler.
func (h Handlers) ListAgents(ctx context.Context, req *batonv1.ListAgentsRequest) (*batonv1.ListAgentsResponse, error) {
	q := store.AgentQuery{QueueID: req.GetQueueId(), Presence: presenceToDomain(req.GetPresence())}
	ags, next, err := h.App.ListAgents(ctx, principal(ctx), q, page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListAgentsResponse{Agents: mapSlice(ags, agentToProto), NextPageToken: next}, nil
}

// UpdateAgent implements RoutingServiceHandler.
func (h Handlers) UpdateAgent(ctx context.Context, req *batonv1.UpdateAgentRequest) (*batonv1.UpdateAgentResponse, error) {
	ag, err := h.App.UpdateAgent(ctx, principal(ctx), app.AgentUpdate{
		ID:          req.GetAgentId(),
		Etag:        req.GetEtag(),
		DisplayName: req.DisplayName,
		Role:        mapOptional(req.Role, agentRoleToDomain),
		Team:        req.Team,
		Capacity:    mapOptional(req.Capacity, func(n int32) int { return int(n) }),
		Skills:      stringList(req.GetSkills()),
		QueueIDs:    stringList(req.GetQueueIds()),
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateAgentResponse{Agent: agentToProto(ag)}, nil
}

// DeleteAgent implements RoutingServiceHandler.
func (h Handlers) DeleteAgent(ctx context.Context, req *batonv1.DeleteAgentRequest) (*batonv1.DeleteAgentResponse, error) {
	if err := h.App.DeleteAgent(ctx, principal(ctx), req.GetAgentId(), req.GetEtag()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteAgentResponse{}, nil
}

// SetPresence implements RoutingServiceHandler.
func (h Handlers) SetPresence(ctx context.Context, req *batonv1.SetPresenceRequest) (*batonv1.SetPresenceResponse, error) {
	ag, err := h.App.SetPresence(ctx, principal(ctx), req.GetAgentId(), presenceToDomain(req.GetPresence()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.SetPresenceResponse{Agent: agentToProto(ag)}, nil
}

// Heartbeat implements RoutingServiceHandler.
func (h Handlers) Heartbeat(ctx context.Context, req *batonv1.HeartbeatRequest) (*batonv1.HeartbeatResponse, error) {
	ag, within, err := h.App.Heartbeat(ctx, principal(ctx), req.GetAgentId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.HeartbeatResponse{Agent: agentToProto(ag), NextHeartbeatWithin: durationpb.New(within)}, nil
}

// CreateQueue implements RoutingServiceHandler.
func (h Handlers) CreateQueue(ctx context.Context, req *batonv1.CreateQueueRequest) (*batonv1.CreateQueueResponse, error) {
	q, err := h.App.CreateQueue(ctx, principal(ctx), domain.Queue{
		DisplayName:  req.GetDisplayName(),
		Skills:       req.GetSkills(),
		OfferTimeout: req.GetOfferTimeout().AsDuration(),
		Policy: domain.QueuePolicy{
			Hours:            hoursToDomain(req.GetBusinessHours()),
			Acknowledgements: acksToDomain(req.GetAcknowledgements()),
		},
	}, req.GetRequestId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateQueueResponse{Queue: queueToProto(q)}, nil
}

// GetQueue implements RoutingServiceHandler.
func (h Handlers) GetQueue(ctx context.Context, req *batonv1.GetQueueRequest) (*batonv1.GetQueueResponse, error) {
	q, err := h.App.GetQueue(ctx, principal(ctx), req.GetQueueId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetQueueResponse{Queue: queueToProto(q)}, nil
}

// ListQueues implements RoutingServiceHandler.
func (h Handlers) ListQueues(ctx context.Context, req *batonv1.ListQueuesRequest) (*batonv1.ListQueuesResponse, error) {
	qs, next, err := h.App.ListQueues(ctx, principal(ctx), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListQueuesResponse{Queues: mapSlice(qs, queueToProto), NextPageToken: next}, nil
}

// UpdateQueue implements RoutingServiceHandler.
func (h Handlers) UpdateQueue(ctx context.Context, req *batonv1.UpdateQueueRequest) (*batonv1.UpdateQueueResponse, error) {
	q, err := h.App.UpdateQueue(ctx, principal(ctx), app.QueueUpdate{
		ID:               req.GetQueueId(),
		Etag:             req.GetEtag(),
		DisplayName:      req.DisplayName,
		Skills:           stringList(req.GetSkills()),
		OfferTimeout:     optionalDuration(req.GetOfferTimeout()),
		Hours:            optionalHours(req),
		Acknowledgements: optionalAcks(req),
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateQueueResponse{Queue: queueToProto(q)}, nil
}

// DeleteQueue implements RoutingServiceHandler.
func (h Handlers) DeleteQueue(ctx context.Context, req *batonv1.DeleteQueueRequest) (*batonv1.DeleteQueueResponse, error) {
	if err := h.App.DeleteQueue(ctx, principal(ctx), req.GetQueueId(), req.GetEtag()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteQueueResponse{}, nil
}

// CreateApiKey implements ApiKeyServiceHandler. The secret is returned here and never again.
func (h Handlers) CreateApiKey(ctx context.Context, req *batonv1.CreateApiKeyRequest) (*batonv1.CreateApiKeyResponse, error) {
	k, secret, err := h.App.CreateAPIKey(ctx, principal(ctx), req.GetDisplayName(), roleToDomain(req.GetRole()), req.GetSubjectId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateApiKeyResponse{ApiKey: apiKeyToProto(k), Secret: secret}, nil
}

// ListApiKeys implements ApiKeyServiceHandler.
func (h Handlers) ListApiKeys(ctx context.Context, req *batonv1.ListApiKeysRequest) (*batonv1.ListApiKeysResponse, error) {
	ks, next, err := h.App.ListAPIKeys(ctx, principal(ctx), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListApiKeysResponse{ApiKeys: mapSlice(ks, apiKeyToProto), NextPageToken: next}, nil
}

// DeleteApiKey implements ApiKeyServiceHandler.
func (h Handlers) DeleteApiKey(ctx context.Context, req *batonv1.DeleteApiKeyRequest) (*batonv1.DeleteApiKeyResponse, error) {
	if err := h.App.DeleteAPIKey(ctx, principal(ctx), req.GetApiKeyId()); err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.DeleteApiKeyResponse{}, nil
}

// stringList turns a replace-the-list wrapper into an update field: nil when the message is
// unset, the (possibly empty) list when it is set.
func stringList(l *batonv1.StringList) *[]string {
	if l == nil {
		return nil
	}
	v := l.GetValues()
	return &v
}

// mapOptional converts a proto3 optional field: nil stays nil.
func mapOptional[S, T any](p *S, f func(S) T) *T {
	if p == nil {
		return nil
	}
	v := f(*p)
	return &v
}

// ListQueueStatuses implements RoutingServiceHandler.
func (h Handlers) ListQueueStatuses(ctx context.Context, req *batonv1.ListQueueStatusesRequest) (*batonv1.ListQueueStatusesResponse, error) {
	list, next, err := h.App.ListQueueStatuses(ctx, principal(ctx), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.ListQueueStatusesResponse{QueueStatuses: mapSlice(list, queueStatusToProto), NextPageToken: next}, nil
}

func queueStatusToProto(s app.QueueStatus) *batonv1.QueueStatus {
	out := &batonv1.QueueStatus{
		QueueId:     s.Queue.ID,
		DisplayName: s.Queue.DisplayName,
		Waiting:     int32(s.Queue.Waiting),
		OldestWait:  durationpb.New(s.OldestWait),
		Agents:      mapSlice(s.Agents, agentLoadToProto),
	}
	for _, ag := range s.Agents {
		if ag.Presence == domain.PresenceOnline {
			out.AgentsOnline++
		}
	}
	return out
}

func agentLoadToProto(ag domain.Agent) *batonv1.AgentLoad {
	return &batonv1.AgentLoad{
		AgentId:             ag.ID,
		DisplayName:         ag.DisplayName,
		Presence:            presenceToProto(ag.Presence),
		ActiveConversations: int32(ag.Active),
		Capacity:            int32(ag.Capacity),
	}
}

// optionalHours is the hours an update sets: nil to keep them, a nil pointer to clear them.
func optionalHours(req *batonv1.UpdateQueueRequest) **domain.BusinessHours {
	switch {
	case req.GetClearBusinessHours():
		return new(*domain.BusinessHours)
	case req.GetBusinessHours() != nil:
		h := hoursToDomain(req.GetBusinessHours())
		return &h
	}
	return nil
}

func optionalAcks(req *batonv1.UpdateQueueRequest) *domain.Acknowledgements {
	if req.GetAcknowledgements() == nil {
		return nil
	}
	a := acksToDomain(req.GetAcknowledgements())
	return &a
}
