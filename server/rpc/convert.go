package rpc

// Translation between the wire types of baton.v1 and the domain types.
//
// Output conventions: a zero time.Time becomes an unset timestamp, a zero duration an unset
// duration, a zero Owner or Actor an unset message, and Revision the etag. Secrets never
// leave: a channel only says whether it has credentials. Slices and maps are copied so that a
// response never shares memory with stored state.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// Resources: domain → proto.

func channelToProto(c domain.Channel) *batonv1.Channel {
	return &batonv1.Channel{
		Id:             c.ID,
		Kind:           channelKindToProto(c.Kind),
		ExternalId:     c.ExternalID,
		DisplayName:    c.DisplayName,
		BotId:          c.BotID,
		DefaultQueueId: c.DefaultQueueID,
		SessionTimeout: duration(c.SessionTimeout),
		HasCredentials: !c.Credentials.IsZero(),
		CreateTime:     timestamp(c.CreateTime),
		UpdateTime:     timestamp(c.UpdateTime),
		Etag:           etag(c.Revision),
		SendUrl:        c.Credentials.SendURL,
		AppId:          c.Credentials.AppID,
		Retention:      retentionToProto(c.Retention),
		AutoHandoff:    autoHandoffToProto(c.AutoHandoff),
	}
}

// retentionToDomain reads a policy: an unset duration follows the server's default (0), a zero
// one keeps forever.
func retentionToDomain(r *batonv1.RetentionPolicy) domain.Retention {
	keep := func(d *durationpb.Duration) time.Duration {
		switch {
		case d == nil:
			return 0
		case d.AsDuration() == 0:
			return domain.Forever
		}
		return d.AsDuration()
	}
	return domain.Retention{Messages: keep(r.GetMessages()), Events: keep(r.GetEvents()), Deliveries: keep(r.GetDeliveries())}
}

func retentionToProto(r domain.Retention) *batonv1.RetentionPolicy {
	if r == (domain.Retention{}) {
		return nil
	}
	keep := func(d time.Duration) *durationpb.Duration {
		switch d {
		case 0:
			return nil
		case domain.Forever:
			return durationpb.New(0)
		}
		return durationpb.New(d)
	}
	return &batonv1.RetentionPolicy{Messages: keep(r.Messages), Events: keep(r.Events), Deliveries: keep(r.Deliveries)}
}

func contactToProto(c domain.Contact) *batonv1.Contact {
	return &batonv1.Contact{
		Id:            c.ID,
		ChannelId:     c.ChannelID,
		ExternalId:    c.ExternalID,
		DisplayName:   c.DisplayName,
		Locale:        c.Locale,
		Attributes:    maps.Clone(c.Attributes),
		BotMutedUntil: timestamp(c.BotMutedUntil),
		CreateTime:    timestamp(c.CreateTime),
		UpdateTime:    timestamp(c.UpdateTime),
	}
}

func botToProto(b domain.Bot) *batonv1.Bot {
	return &batonv1.Bot{
		Id:          b.ID,
		DisplayName: b.DisplayName,
		Active:      b.Active,
		ChannelIds:  slices.Clone(b.ChannelIDs),
		Standby:     b.Standby,
		Unreachable: b.Unreachable,
		CreateTime:  timestamp(b.CreateTime),
		UpdateTime:  timestamp(b.UpdateTime),
		Etag:        etag(b.Revision),
		AutoHandoff: autoHandoffToProto(b.AutoHandoff),
	}
}

func agentToProto(a domain.Agent) *batonv1.Agent {
	return &batonv1.Agent{
		Id:                  a.ID,
		DisplayName:         a.DisplayName,
		Email:               a.Email,
		Skills:              slices.Clone(a.Skills),
		Role:                agentRoleToProto(a.Role),
		Team:                a.Team,
		Capacity:            int32(a.Capacity),
		QueueIds:            slices.Clone(a.QueueIDs),
		Presence:            presenceToProto(a.Presence),
		ActiveConversations: int32(a.Active),
		LastSeenTime:        timestamp(a.LastSeenTime),
		CreateTime:          timestamp(a.CreateTime),
		UpdateTime:          timestamp(a.UpdateTime),
		Etag:                etag(a.Revision),
	}
}

func queueToProto(q domain.Queue) *batonv1.Queue {
	return &batonv1.Queue{
		Id:               q.ID,
		DisplayName:      q.DisplayName,
		Skills:           slices.Clone(q.Skills),
		OfferTimeout:     duration(q.OfferTimeout),
		Waiting:          int32(q.Waiting),
		CreateTime:       timestamp(q.CreateTime),
		UpdateTime:       timestamp(q.UpdateTime),
		Etag:             etag(q.Revision),
		BusinessHours:    hoursToProto(q.Policy.Hours),
		Acknowledgements: acksToProto(q.Policy.Acknowledgements),
		Sla:              queueSLAToProto(q.SLA),
	}
}

func conversationToProto(c domain.Conversation) *batonv1.Conversation {
	return &batonv1.Conversation{
		Id:                 c.ID,
		ChannelId:          c.ChannelID,
		ContactId:          c.ContactID,
		BotId:              c.BotID,
		Owner:              ownerToProto(c.Owner),
		Epoch:              c.Epoch,
		State:              conversationStateToProto(c.State),
		Status:             conversationStatusToProto(c.Status),
		Tags:               slices.Clone(c.Tags),
		Language:           c.Language,
		ActiveHandoverId:   c.ActiveHandoverID,
		BotEnabled:         c.BotEnabled,
		BotMutedUntil:      timestamp(c.BotMutedUntil),
		LastActivityTime:   timestamp(c.LastActivityTime),
		LastInboundTime:    timestamp(c.LastInboundTime),
		LastOutboundTime:   timestamp(c.LastOutboundTime),
		CreateTime:         timestamp(c.CreateTime),
		UpdateTime:         timestamp(c.UpdateTime),
		Etag:               etag(c.Revision),
		NotUnderstoodCount: int32(c.NotUnderstoodCount),
		SlaBreachTime:      timestamp(c.SLABreachTime),
		EntryPoint:         c.EntryPoint,
	}
}

func handoverToProto(h domain.Handover) *batonv1.Handover {
	p := &batonv1.Handover{
		Id:                   h.ID,
		ConversationId:       h.ConversationID,
		From:                 ownerToProto(h.From),
		Target:               targetToProto(h.Target),
		QueueId:              h.QueueID,
		Reason:               h.Reason,
		Metadata:             maps.Clone(h.Metadata),
		Summary:              h.Summary,
		Intake:               intakeToProto(h.Intake),
		State:                handoverStateToProto(h.State),
		FailureReason:        failureReasonToProto(h.FailureReason),
		OfferedAgentId:       h.OfferedAgentID,
		OfferExpireTime:      timestamp(h.OfferExpireTime),
		DeclinedAgentIds:     slices.Clone(h.DeclinedAgentIDs),
		AgentId:              h.AgentID,
		Outcome:              handbackOutcomeToProto(h.Outcome),
		HandbackSummary:      h.HandbackSummary,
		EndReason:            endReasonToProto(h.EndReason),
		RequestedBy:          actorToProto(h.RequestedBy),
		Epoch:                h.Epoch,
		CreateTime:           timestamp(h.CreateTime),
		AcceptTime:           timestamp(h.AcceptTime),
		EndTime:              timestamp(h.EndTime),
		OutOfHours:           outOfHoursOutcomes.toProto[h.OutOfHours],
		Priority:             int32(h.Priority),
		SlaBreaches:          mapSlice(h.SLABreaches, slaTargetToProto),
		OfferedToSupervisors: h.Supervisors,
		RoutingRuleId:        h.RuleID,
		RoutingReason:        h.RouteReason,
	}
	// Set even when zero: an instant accept is still an accept.
	if !h.AcceptTime.IsZero() {
		p.TimeToAccept = durationpb.New(h.TimeToAccept())
	}
	return p
}

func messageToProto(m domain.Message) (*batonv1.Message, error) {
	content, err := channel.DecodeContent(m.Content)
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	return &batonv1.Message{
		Id:               m.ID,
		ConversationId:   m.ConversationID,
		ChannelId:        m.ChannelID,
		Direction:        directionToProto(m.Direction),
		Sender:           actorToProto(m.Sender),
		Content:          content,
		ChannelMessageId: m.ChannelMessageID,
		RequestId:        m.RequestID,
		Status:           deliveryStatusToProto(m.Status),
		Epoch:            m.Epoch,
		CreateTime:       timestamp(m.CreateTime),
		Error:            m.Error,
		Erased:           m.Erased,
	}, nil
}

func eventToProto(e domain.Event) (*batonv1.Event, error) {
	p := &batonv1.Event{
		Sequence:       e.Sequence,
		Id:             e.ID,
		Type:           eventTypeToProto(e.Type),
		CreateTime:     timestamp(e.Time),
		ConversationId: e.ConversationID,
		ChannelId:      e.ChannelID,
		BotId:          e.BotID,
		AgentId:        e.AgentID,
		ContactId:      e.ContactID,
		Actor:          actorToProto(e.Actor),
		Owner:          ownerToProto(e.Owner),
		Epoch:          e.Epoch,
	}
	if e.Conversation != nil {
		p.Conversation = conversationToProto(*e.Conversation)
	}
	if e.Message != nil {
		m, err := messageToProto(*e.Message)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", e.Sequence, err)
		}
		p.Message = m
	}
	if e.Handover != nil {
		p.Handover = handoverToProto(*e.Handover)
	}
	if e.OwnerChange != nil {
		p.OwnerChange = ownerChangeToProto(*e.OwnerChange)
	}
	if e.Agent != nil {
		p.Agent = agentToProto(*e.Agent)
	}
	if e.Contact != nil {
		p.Contact = contactToProto(*e.Contact)
	}
	if e.Webhook != nil {
		p.Webhook = webhookToProto(*e.Webhook)
	}
	if e.SLABreach != nil {
		p.SlaBreach = slaBreachToProto(*e.SLABreach)
	}
	return p, nil
}

func webhookToProto(w domain.Webhook) *batonv1.Webhook {
	return &batonv1.Webhook{
		Id:    w.ID,
		BotId: w.BotID,
		Url:   w.URL,
		Filters: &batonv1.WebhookFilters{
			EventTypes: mapSlice(w.EventTypes, eventTypeToProto),
			ChannelIds: slices.Clone(w.ChannelIDs),
		},
		State:                    webhookStateToProto(w.State),
		InactiveReason:           w.InactiveReason,
		InactivePolicy:           inactivePolicyToProto(w.InactivePolicy),
		ConsecutiveFailures:      int32(w.ConsecutiveFailures),
		PreviousSecretExpireTime: timestamp(w.PreviousSecretExpireTime),
		VerifyTime:               timestamp(w.VerifyTime),
		CreateTime:               timestamp(w.CreateTime),
		UpdateTime:               timestamp(w.UpdateTime),
		Etag:                     etag(w.Revision),
	}
}

func deliveryToProto(d app.DeliveryLog) *batonv1.Delivery {
	p := &batonv1.Delivery{
		Id:             d.ID,
		WebhookId:      d.WebhookID,
		EventId:        d.EventID,
		EventType:      eventTypeToProto(d.EventType),
		ConversationId: d.ConversationID,
		State:          deliveryStateToProto(d.State),
		CreateTime:     timestamp(d.CreateTime),
	}
	if d.State == domain.DeliveryStatePending {
		p.NextAttemptTime = timestamp(d.NextAttemptTime)
	}
	for _, a := range d.Attempts {
		p.Attempts = append(p.Attempts, &batonv1.DeliveryAttempt{
			Number:     int32(a.Number),
			Time:       timestamp(a.Time),
			StatusCode: int32(a.StatusCode),
			Error:      a.Error,
			Latency:    durationpb.New(a.Latency),
		})
	}
	return p
}

// ownerChangeToProto drops HandoverID, which the API does not expose.
func ownerChangeToProto(c domain.OwnerChange) *batonv1.OwnerChange {
	return &batonv1.OwnerChange{
		From:   ownerToProto(c.From),
		To:     ownerToProto(c.To),
		Epoch:  c.Epoch,
		Reason: c.Reason,
	}
}

// apiKeyToProto never exposes the secret hash.
func apiKeyToProto(k domain.APIKey) *batonv1.ApiKey {
	return &batonv1.ApiKey{
		Id:          k.ID,
		DisplayName: k.DisplayName,
		Role:        roleToProto(k.Role),
		SubjectId:   k.SubjectID,
		CreateTime:  timestamp(k.CreateTime),
	}
}

// ownerToProto returns nil for the zero Owner.
func ownerToProto(o domain.Owner) *batonv1.Owner {
	if o == (domain.Owner{}) {
		return nil
	}
	return &batonv1.Owner{Kind: ownerKindToProto(o.Kind), Id: o.ID}
}

// actorToProto returns nil for the zero Actor.
func actorToProto(a domain.Actor) *batonv1.Actor {
	if a == (domain.Actor{}) {
		return nil
	}
	return &batonv1.Actor{Kind: actorKindToProto(a.Kind), Id: a.ID}
}

// targetToProto returns nil for the zero Target.
func targetToProto(t domain.Target) *batonv1.HandoverTarget {
	switch {
	case t.QueueID != "":
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: t.QueueID}}
	case t.Skill != "":
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Skill{Skill: t.Skill}}
	case t.Role != "":
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Role{Role: agentRoleToProto(t.Role)}}
	case t.AgentID != "":
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_AgentId{AgentId: t.AgentID}}
	}
	return nil
}

func intakeToProto(answers []domain.IntakeAnswer) []*batonv1.IntakeAnswer {
	if answers == nil {
		return nil
	}
	out := make([]*batonv1.IntakeAnswer, len(answers))
	for i, a := range answers {
		out[i] = &batonv1.IntakeAnswer{Question: a.Question, Answer: a.Answer}
	}
	return out
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func etag(revision int64) string { return strconv.FormatInt(revision, 10) }

// Requests: proto → domain. All accept nil.

func targetToDomain(t *batonv1.HandoverTarget) domain.Target {
	switch v := t.GetTarget().(type) {
	case *batonv1.HandoverTarget_QueueId:
		return domain.Target{QueueID: v.QueueId}
	case *batonv1.HandoverTarget_Skill:
		return domain.Target{Skill: v.Skill}
	case *batonv1.HandoverTarget_Role:
		return domain.Target{Role: agentRoleToDomain(v.Role)}
	case *batonv1.HandoverTarget_AgentId:
		return domain.Target{AgentID: v.AgentId}
	}
	return domain.Target{}
}

func intakeToDomain(answers []*batonv1.IntakeAnswer) []domain.IntakeAnswer {
	if answers == nil {
		return nil
	}
	out := make([]domain.IntakeAnswer, len(answers))
	for i, a := range answers {
		out[i] = domain.IntakeAnswer{Question: a.GetQuestion(), Answer: a.GetAnswer()}
	}
	return out
}

func credentialsToDomain(c *batonv1.ChannelCredentials) domain.Credentials {
	return domain.Credentials{
		AppSecret:     c.GetAppSecret(),
		VerifyToken:   c.GetVerifyToken(),
		AccessToken:   c.GetAccessToken(),
		WebhookSecret: c.GetWebhookSecret(),
		SendURL:       c.GetSendUrl(),
		AppID:         c.GetAppId(),
	}
}

func eventTypesToDomain(types []batonv1.EventType) []domain.EventType {
	return mapSlice(types, eventTypeToDomain)
}

func handoverStatesToDomain(states []batonv1.HandoverState) []domain.HandoverState {
	return mapSlice(states, handoverStateToDomain)
}

func mapSlice[S, T any](in []S, f func(S) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// pageSize returns the requested page size, or def when none was requested.
func pageSize(n int32, def int) int {
	if n <= 0 {
		return def
	}
	return int(n)
}

// Enums. Each table lists every defined proto value once; anything else, *_UNSPECIFIED
// included, maps to the zero value on the other side.

type enumTable[P ~int32, D ~string] struct {
	toDomain map[P]D
	toProto  map[D]P
}

func newEnumTable[P ~int32, D ~string](toDomain map[P]D) enumTable[P, D] {
	toProto := make(map[D]P, len(toDomain))
	for p, d := range toDomain {
		if _, dup := toProto[d]; dup {
			panic(fmt.Sprintf("rpc: domain value %q mapped twice", d))
		}
		toProto[d] = p
	}
	return enumTable[P, D]{toDomain: toDomain, toProto: toProto}
}

var channelKinds = newEnumTable(map[batonv1.ChannelKind]domain.ChannelKind{
	batonv1.ChannelKind_CHANNEL_KIND_MESSENGER: domain.ChannelMessenger,
	batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP:  domain.ChannelWhatsApp,
	batonv1.ChannelKind_CHANNEL_KIND_INSTAGRAM: domain.ChannelInstagram,
	batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM:  domain.ChannelTelegram,
	batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT:   domain.ChannelWebchat,
	batonv1.ChannelKind_CHANNEL_KIND_GENERIC:   domain.ChannelGeneric,
})

func channelKindToDomain(k batonv1.ChannelKind) domain.ChannelKind { return channelKinds.toDomain[k] }
func channelKindToProto(k domain.ChannelKind) batonv1.ChannelKind  { return channelKinds.toProto[k] }

var ownerKinds = newEnumTable(map[batonv1.OwnerKind]domain.OwnerKind{
	batonv1.OwnerKind_OWNER_KIND_NOBODY:         domain.OwnerNobody,
	batonv1.OwnerKind_OWNER_KIND_BOT:            domain.OwnerBot,
	batonv1.OwnerKind_OWNER_KIND_QUEUE:          domain.OwnerQueue,
	batonv1.OwnerKind_OWNER_KIND_AGENT:          domain.OwnerAgent,
	batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN: domain.OwnerExternalHuman,
})

func ownerKindToDomain(k batonv1.OwnerKind) domain.OwnerKind { return ownerKinds.toDomain[k] }
func ownerKindToProto(k domain.OwnerKind) batonv1.OwnerKind  { return ownerKinds.toProto[k] }

var actorKinds = newEnumTable(map[batonv1.ActorKind]domain.ActorKind{
	batonv1.ActorKind_ACTOR_KIND_CUSTOMER:       domain.ActorCustomer,
	batonv1.ActorKind_ACTOR_KIND_BOT:            domain.ActorBot,
	batonv1.ActorKind_ACTOR_KIND_AGENT:          domain.ActorAgent,
	batonv1.ActorKind_ACTOR_KIND_SYSTEM:         domain.ActorSystem,
	batonv1.ActorKind_ACTOR_KIND_ADMIN:          domain.ActorAdmin,
	batonv1.ActorKind_ACTOR_KIND_EXTERNAL_HUMAN: domain.ActorExternalHuman,
})

func actorKindToDomain(k batonv1.ActorKind) domain.ActorKind { return actorKinds.toDomain[k] }
func actorKindToProto(k domain.ActorKind) batonv1.ActorKind  { return actorKinds.toProto[k] }

var agentRoles = newEnumTable(map[batonv1.AgentRole]domain.AgentRole{
	batonv1.AgentRole_AGENT_ROLE_AGENT:      domain.RoleAgent,
	batonv1.AgentRole_AGENT_ROLE_SUPERVISOR: domain.RoleSupervisor,
})

func agentRoleToDomain(r batonv1.AgentRole) domain.AgentRole { return agentRoles.toDomain[r] }
func agentRoleToProto(r domain.AgentRole) batonv1.AgentRole  { return agentRoles.toProto[r] }

var presences = newEnumTable(map[batonv1.Presence]domain.Presence{
	batonv1.Presence_PRESENCE_ONLINE:  domain.PresenceOnline,
	batonv1.Presence_PRESENCE_AWAY:    domain.PresenceAway,
	batonv1.Presence_PRESENCE_OFFLINE: domain.PresenceOffline,
})

func presenceToDomain(p batonv1.Presence) domain.Presence { return presences.toDomain[p] }
func presenceToProto(p domain.Presence) batonv1.Presence  { return presences.toProto[p] }

var conversationStates = newEnumTable(map[batonv1.ConversationState]domain.ConversationState{
	batonv1.ConversationState_CONVERSATION_STATE_OPEN:   domain.ConversationOpen,
	batonv1.ConversationState_CONVERSATION_STATE_CLOSED: domain.ConversationClosed,
})

func conversationStateToDomain(s batonv1.ConversationState) domain.ConversationState {
	return conversationStates.toDomain[s]
}

func conversationStateToProto(s domain.ConversationState) batonv1.ConversationState {
	return conversationStates.toProto[s]
}

var conversationStatuses = newEnumTable(map[batonv1.ConversationStatus]domain.ConversationStatus{
	batonv1.ConversationStatus_CONVERSATION_STATUS_OK:             domain.StatusOK,
	batonv1.ConversationStatus_CONVERSATION_STATUS_NOT_UNDERSTOOD: domain.StatusNotUnderstood,
	batonv1.ConversationStatus_CONVERSATION_STATUS_NEED_HELP:      domain.StatusNeedHelp,
})

func conversationStatusToDomain(s batonv1.ConversationStatus) domain.ConversationStatus {
	return conversationStatuses.toDomain[s]
}

func conversationStatusToProto(s domain.ConversationStatus) batonv1.ConversationStatus {
	return conversationStatuses.toProto[s]
}

var directions = newEnumTable(map[batonv1.MessageDirection]domain.Direction{
	batonv1.MessageDirection_MESSAGE_DIRECTION_INBOUND:  domain.Inbound,
	batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND: domain.Outbound,
	batonv1.MessageDirection_MESSAGE_DIRECTION_INTERNAL: domain.Internal,
})

func directionToDomain(d batonv1.MessageDirection) domain.Direction { return directions.toDomain[d] }
func directionToProto(d domain.Direction) batonv1.MessageDirection  { return directions.toProto[d] }

var deliveryStatuses = newEnumTable(map[batonv1.DeliveryStatus]domain.DeliveryStatus{
	batonv1.DeliveryStatus_DELIVERY_STATUS_PENDING:   domain.DeliveryPending,
	batonv1.DeliveryStatus_DELIVERY_STATUS_SENT:      domain.DeliverySent,
	batonv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED: domain.DeliveryDelivered,
	batonv1.DeliveryStatus_DELIVERY_STATUS_READ:      domain.DeliveryRead,
	batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED:    domain.DeliveryFailed,
})

func deliveryStatusToDomain(s batonv1.DeliveryStatus) domain.DeliveryStatus {
	return deliveryStatuses.toDomain[s]
}

func deliveryStatusToProto(s domain.DeliveryStatus) batonv1.DeliveryStatus {
	return deliveryStatuses.toProto[s]
}

var handoverStates = newEnumTable(map[batonv1.HandoverState]domain.HandoverState{
	batonv1.HandoverState_HANDOVER_STATE_REQUESTED: domain.HandoverRequested,
	batonv1.HandoverState_HANDOVER_STATE_OFFERED:   domain.HandoverOffered,
	batonv1.HandoverState_HANDOVER_STATE_ACCEPTED:  domain.HandoverAccepted,
	batonv1.HandoverState_HANDOVER_STATE_RELEASED:  domain.HandoverReleased,
	batonv1.HandoverState_HANDOVER_STATE_DECLINED:  domain.HandoverDeclined,
	batonv1.HandoverState_HANDOVER_STATE_FAILED:    domain.HandoverFailed,
	batonv1.HandoverState_HANDOVER_STATE_EXPIRED:   domain.HandoverExpired,
	batonv1.HandoverState_HANDOVER_STATE_CANCELED:  domain.HandoverCanceled,
})

func handoverStateToDomain(s batonv1.HandoverState) domain.HandoverState {
	return handoverStates.toDomain[s]
}

func handoverStateToProto(s domain.HandoverState) batonv1.HandoverState {
	return handoverStates.toProto[s]
}

var failureReasons = newEnumTable(map[batonv1.FailureReason]domain.FailureReason{
	batonv1.FailureReason_FAILURE_REASON_NO_AGENT_ONLINE: domain.NoAgentOnline,
	batonv1.FailureReason_FAILURE_REASON_NO_CAPACITY:     domain.NoCapacity,
	batonv1.FailureReason_FAILURE_REASON_OUT_OF_HOURS:    domain.ClosedOutOfHours,
})

func failureReasonToDomain(r batonv1.FailureReason) domain.FailureReason {
	return failureReasons.toDomain[r]
}

func failureReasonToProto(r domain.FailureReason) batonv1.FailureReason {
	return failureReasons.toProto[r]
}

var handbackOutcomes = newEnumTable(map[batonv1.HandbackOutcome]domain.Outcome{
	batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED:          domain.OutcomeResolved,
	batonv1.HandbackOutcome_HANDBACK_OUTCOME_UNRESOLVED:        domain.OutcomeUnresolved,
	batonv1.HandbackOutcome_HANDBACK_OUTCOME_CUSTOMER_INACTIVE: domain.OutcomeCustomerInactive,
	batonv1.HandbackOutcome_HANDBACK_OUTCOME_OUT_OF_SCOPE:      domain.OutcomeOutOfScope,
})

func handbackOutcomeToDomain(o batonv1.HandbackOutcome) domain.Outcome {
	return handbackOutcomes.toDomain[o]
}

func handbackOutcomeToProto(o domain.Outcome) batonv1.HandbackOutcome {
	return handbackOutcomes.toProto[o]
}

var endReasons = newEnumTable(map[batonv1.EndReason]domain.EndReason{
	batonv1.EndReason_END_REASON_HANDED_BACK:     domain.EndHandedBack,
	batonv1.EndReason_END_REASON_TRANSFERRED:     domain.EndTransferred,
	batonv1.EndReason_END_REASON_CLOSED:          domain.EndClosed,
	batonv1.EndReason_END_REASON_TAKEN_OVER:      domain.EndTakenOver,
	batonv1.EndReason_END_REASON_SESSION_TIMEOUT: domain.EndSessionTimeout,
	batonv1.EndReason_END_REASON_CANCELED:        domain.EndCanceled,
})

func endReasonToDomain(r batonv1.EndReason) domain.EndReason { return endReasons.toDomain[r] }
func endReasonToProto(r domain.EndReason) batonv1.EndReason  { return endReasons.toProto[r] }

var eventTypes = newEnumTable(map[batonv1.EventType]domain.EventType{
	batonv1.EventType_EVENT_TYPE_CONVERSATION_CREATED:      domain.EventConversationCreated,
	batonv1.EventType_EVENT_TYPE_CONVERSATION_UPDATED:      domain.EventConversationUpdated,
	batonv1.EventType_EVENT_TYPE_CONVERSATION_CLOSED:       domain.EventConversationClosed,
	batonv1.EventType_EVENT_TYPE_OWNER_CHANGED:             domain.EventOwnerChanged,
	batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED:          domain.EventMessageReceived,
	batonv1.EventType_EVENT_TYPE_MESSAGE_SENT:              domain.EventMessageSent,
	batonv1.EventType_EVENT_TYPE_MESSAGE_STATUS_CHANGED:    domain.EventMessageStatusChanged,
	batonv1.EventType_EVENT_TYPE_HANDOVER_REQUESTED:        domain.EventHandoverRequested,
	batonv1.EventType_EVENT_TYPE_HANDOVER_OFFERED:          domain.EventHandoverOffered,
	batonv1.EventType_EVENT_TYPE_HANDOVER_DECLINED:         domain.EventHandoverDeclined,
	batonv1.EventType_EVENT_TYPE_HANDOVER_OFFER_EXPIRED:    domain.EventHandoverOfferExpired,
	batonv1.EventType_EVENT_TYPE_HANDOVER_ACCEPTED:         domain.EventHandoverAccepted,
	batonv1.EventType_EVENT_TYPE_HANDOVER_RELEASED:         domain.EventHandoverReleased,
	batonv1.EventType_EVENT_TYPE_HANDOVER_FAILED:           domain.EventHandoverFailed,
	batonv1.EventType_EVENT_TYPE_HANDOVER_EXPIRED:          domain.EventHandoverExpired,
	batonv1.EventType_EVENT_TYPE_HANDOVER_CANCELED:         domain.EventHandoverCanceled,
	batonv1.EventType_EVENT_TYPE_BOT_MUTED:                 domain.EventBotMuted,
	batonv1.EventType_EVENT_TYPE_BOT_UNMUTED:               domain.EventBotUnmuted,
	batonv1.EventType_EVENT_TYPE_AGENT_PRESENCE_CHANGED:    domain.EventAgentPresenceChanged,
	batonv1.EventType_EVENT_TYPE_WEBHOOK_ACTIVATED:         domain.EventWebhookActivated,
	batonv1.EventType_EVENT_TYPE_WEBHOOK_DEACTIVATED:       domain.EventWebhookDeactivated,
	batonv1.EventType_EVENT_TYPE_NOTE_CREATED:              domain.EventNoteCreated,
	batonv1.EventType_EVENT_TYPE_CONTACT_ERASED:            domain.EventContactErased,
	batonv1.EventType_EVENT_TYPE_CONTACT_EXPORTED:          domain.EventContactExported,
	batonv1.EventType_EVENT_TYPE_CONVERSATION_EXPORTED:     domain.EventTranscriptExported,
	batonv1.EventType_EVENT_TYPE_CONVERSATION_SLA_BREACHED: domain.EventSLABreached,
})

func eventTypeToDomain(t batonv1.EventType) domain.EventType { return eventTypes.toDomain[t] }
func eventTypeToProto(t domain.EventType) batonv1.EventType  { return eventTypes.toProto[t] }

var roles = newEnumTable(map[batonv1.Role]domain.Role{
	batonv1.Role_ROLE_ADMIN:   domain.PrincipalAdmin,
	batonv1.Role_ROLE_BOT:     domain.PrincipalBot,
	batonv1.Role_ROLE_AGENT:   domain.PrincipalAgent,
	batonv1.Role_ROLE_SERVICE: domain.PrincipalService,
})

var webhookStates = newEnumTable(map[batonv1.WebhookState]domain.WebhookState{
	batonv1.WebhookState_WEBHOOK_STATE_PENDING_VERIFICATION: domain.WebhookPending,
	batonv1.WebhookState_WEBHOOK_STATE_ACTIVE:               domain.WebhookActive,
	batonv1.WebhookState_WEBHOOK_STATE_INACTIVE:             domain.WebhookInactive,
})

func webhookStateToDomain(s batonv1.WebhookState) domain.WebhookState {
	return webhookStates.toDomain[s]
}
func webhookStateToProto(s domain.WebhookState) batonv1.WebhookState { return webhookStates.toProto[s] }

var inactivePolicies = newEnumTable(map[batonv1.InactivePolicy]domain.InactivePolicy{
	batonv1.InactivePolicy_INACTIVE_POLICY_HANDOFF: domain.PolicyHandoff,
	batonv1.InactivePolicy_INACTIVE_POLICY_KEEP:    domain.PolicyKeep,
})

func inactivePolicyToDomain(p batonv1.InactivePolicy) domain.InactivePolicy {
	return inactivePolicies.toDomain[p]
}
func inactivePolicyToProto(p domain.InactivePolicy) batonv1.InactivePolicy {
	return inactivePolicies.toProto[p]
}

var deliveryStates = newEnumTable(map[batonv1.DeliveryState]domain.DeliveryState{
	batonv1.DeliveryState_DELIVERY_STATE_PENDING:   domain.DeliveryStatePending,
	batonv1.DeliveryState_DELIVERY_STATE_DELIVERED: domain.DeliveryStateDelivered,
	batonv1.DeliveryState_DELIVERY_STATE_DEAD:      domain.DeliveryStateDead,
})

func deliveryStateToDomain(s batonv1.DeliveryState) domain.DeliveryState {
	return deliveryStates.toDomain[s]
}
func deliveryStateToProto(s domain.DeliveryState) batonv1.DeliveryState {
	return deliveryStates.toProto[s]
}

func roleToDomain(r batonv1.Role) domain.Role { return roles.toDomain[r] }
func roleToProto(r domain.Role) batonv1.Role  { return roles.toProto[r] }
