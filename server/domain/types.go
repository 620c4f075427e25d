// Package domain holds Baton's vocabulary and the ownership rules: who must answer a
// conversation, who may do what to it now, and what every transition changes and announces.
//
// It does no I/O and has no clock: callers pass the current time and the state they loaded,
// and store what the rules return, together with the events, in one transaction.
package domain

import (
	"encoding/json"
	"time"
)

// Defaults used when a resource does not say otherwise.
const (
	DefaultQueueID        = "default"
	DefaultSessionTimeout = 24 * time.Hour
	DefaultMuteDuration   = 72 * time.Hour
	DefaultOfferTimeout   = 60 * time.Second
	DefaultCapacity       = 1
)

// OwnerKind is the kind of party responsible for a conversation.
type OwnerKind string

// Owner kinds.
const (
	OwnerNobody OwnerKind = "nobody"
	OwnerBot    OwnerKind = "bot"
	OwnerQueue  OwnerKind = "queue"
	OwnerAgent  OwnerKind = "agent"
	// OwnerExternalHuman is a human answering from outside Baton (a page's inbox, the WhatsApp
	// Business app), identified by what the channel says of them (an app id), if anything.
	OwnerExternalHuman OwnerKind = "external_human"
)

// Owner is the party responsible for answering a conversation.
type Owner struct {
	Kind OwnerKind `json:"kind"`
	ID   string    `json:"id,omitempty"`
}

// Nobody is the owner of a closed conversation.
var Nobody = Owner{Kind: OwnerNobody}

// BotOwner, QueueOwner and AgentOwner build owners.
func BotOwner(id string) Owner   { return Owner{Kind: OwnerBot, ID: id} }
func QueueOwner(id string) Owner { return Owner{Kind: OwnerQueue, ID: id} }
func AgentOwner(id string) Owner { return Owner{Kind: OwnerAgent, ID: id} }

// ExternalHumanOwner builds the owner for a human answering from outside Baton.
func ExternalHumanOwner(id string) Owner { return Owner{Kind: OwnerExternalHuman, ID: id} }

func (o Owner) String() string {
	if o.ID == "" {
		return string(o.Kind)
	}
	return string(o.Kind) + ":" + o.ID
}

// ActorKind is who performed an action.
type ActorKind string

// Actor kinds.
const (
	ActorCustomer      ActorKind = "customer"
	ActorBot           ActorKind = "bot"
	ActorAgent         ActorKind = "agent"
	ActorSystem        ActorKind = "system"
	ActorAdmin         ActorKind = "admin"
	ActorExternalHuman ActorKind = "external_human"
)

// Actor identifies who performed an action.
type Actor struct {
	Kind ActorKind `json:"kind"`
	ID   string    `json:"id,omitempty"`
}

// System is Baton itself acting on a timer.
var System = Actor{Kind: ActorSystem}

// ChannelKind is the messaging network of a channel.
type ChannelKind string

// Channel kinds.
const (
	ChannelMessenger ChannelKind = "messenger"
	ChannelWhatsApp  ChannelKind = "whatsapp"
	ChannelInstagram ChannelKind = "instagram"
	ChannelTelegram  ChannelKind = "telegram"
	ChannelWebchat   ChannelKind = "webchat"
	ChannelGeneric   ChannelKind = "generic"
)

// Credentials are what a channel needs to verify its webhooks and send. The secrets among them
// never leave the server; SendURL and AppID are not secrets, and the API shows them.
type Credentials struct {
	AppSecret     string `json:"app_secret,omitempty"`
	VerifyToken   string `json:"verify_token,omitempty"`
	AccessToken   string `json:"access_token,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// SendURL is where a generic channel's outbound messages are POSTed.
	SendURL string `json:"send_url,omitempty"`
	// AppID is the Meta app Baton sends with: its echoes are Baton's own.
	AppID string `json:"app_id,omitempty"`
}

// IsZero reports whether no secret is set.
func (c Credentials) IsZero() bool { return c == Credentials{} }

// Channel is a customer-facing asset.
type Channel struct {
	ID             string
	Kind           ChannelKind
	ExternalID     string
	DisplayName    string
	BotID          string
	DefaultQueueID string
	SessionTimeout time.Duration
	Credentials    Credentials
	// Retention is how long the channel keeps its data, as set on it: zero fields follow the
	// server's default.
	Retention Retention
	// AutoHandoff hands the channel's conversations to humans without the bot asking; when
	// set, it wins over the bot's.
	AutoHandoff AutoHandoffPolicy
	CreateTime  time.Time
	UpdateTime  time.Time
	Revision    int64
}

// Contact is one customer on one channel.
type Contact struct {
	ID            string
	ChannelID     string
	ExternalID    string
	DisplayName   string
	Locale        string
	Attributes    map[string]string
	BotMutedUntil time.Time
	CreateTime    time.Time
	UpdateTime    time.Time
	Revision      int64
}

// Bot is a registered bot integration.
type Bot struct {
	ID          string
	DisplayName string
	Active      bool
	ChannelIDs  []string // derived from channels' bindings
	// Standby bots receive, on their webhook, events of conversations they do not own.
	Standby bool
	// Unreachable is set while the bot's webhook is inactive under PolicyHandoff.
	Unreachable bool
	// AutoHandoff hands the bot's conversations to humans without it asking, on channels
	// with no policy of their own.
	AutoHandoff AutoHandoffPolicy
	CreateTime  time.Time
	UpdateTime  time.Time
	Revision    int64
}

// AgentRole is an agent's role.
type AgentRole string

// Agent roles.
const (
	RoleAgent      AgentRole = "agent"
	RoleSupervisor AgentRole = "supervisor"
)

// Presence is whether an agent can take conversations.
type Presence string

// Presences.
const (
	PresenceOnline  Presence = "online"
	PresenceAway    Presence = "away"
	PresenceOffline Presence = "offline"
)

// Agent is a human who answers conversations.
type Agent struct {
	ID           string
	DisplayName  string
	Email        string
	Skills       []string
	Role         AgentRole
	Team         string
	Capacity     int
	QueueIDs     []string
	Presence     Presence
	Active       int // engaged conversations, derived from accepted handovers
	Offered      int // live offers made to the agent, derived from offered handovers
	LastSeenTime time.Time
	CreateTime   time.Time
	UpdateTime   time.Time
	Revision     int64
}

// Queue is where handed-off conversations wait.
type Queue struct {
	ID           string
	DisplayName  string
	Skills       []string
	OfferTimeout time.Duration
	// Policy holds the business hours and the customer acknowledgements.
	Policy QueuePolicy
	// SLA is the queue's unanswered SLA: targets, and what a breach does.
	SLA        QueueSLA
	Waiting    int // derived: handovers waiting in it
	CreateTime time.Time
	UpdateTime time.Time
	Revision   int64
}

// ConversationState is open or closed.
type ConversationState string

// Conversation states.
const (
	ConversationOpen   ConversationState = "open"
	ConversationClosed ConversationState = "closed"
)

// ConversationStatus is how a conversation is going.
type ConversationStatus string

// Conversation statuses.
const (
	StatusOK            ConversationStatus = "ok"
	StatusNotUnderstood ConversationStatus = "not_understood"
	StatusNeedHelp      ConversationStatus = "need_help"
)

// Conversation is the thread of one contact on one channel.
type Conversation struct {
	ID               string             `json:"id"`
	ChannelID        string             `json:"channel_id"`
	ContactID        string             `json:"contact_id"`
	BotID            string             `json:"bot_id,omitempty"`
	Owner            Owner              `json:"owner"`
	Epoch            uint64             `json:"epoch"`
	State            ConversationState  `json:"state"`
	Status           ConversationStatus `json:"status"`
	Tags             []string           `json:"tags,omitempty"`
	Language         string             `json:"language,omitempty"`
	ActiveHandoverID string             `json:"active_handover_id,omitempty"`
	BotEnabled       bool               `json:"bot_enabled"`
	BotMutedUntil    time.Time          `json:"bot_muted_until"`
	LastActivityTime time.Time          `json:"last_activity_time"`
	LastInboundTime  time.Time          `json:"last_inbound_time"`
	LastOutboundTime time.Time          `json:"last_outbound_time"`
	// ExternalOwnerTime is when, by the channel's clock, the channel last reported who answers:
	// its inbox taking the thread or passing it back (Meta's handover protocol), or a human
	// replying from it. Channels deliver out of order (Meta retries), so a report older than it
	// moves nobody. Zero until the channel says.
	ExternalOwnerTime time.Time `json:"external_owner_time,omitzero"`
	// NotUnderstoodCount is the run of "not understood" statuses reported in a row.
	NotUnderstoodCount int `json:"not_understood_count,omitempty"`
	// UnansweredDeadline is when the bot's silence hands the conversation off (its automatic
	// handoff policy's UnansweredTimeout after the first message it has not answered); zero
	// when nothing waits.
	UnansweredDeadline time.Time `json:"unanswered_deadline,omitzero"`
	// SLABreachTime is when the conversation first breached a queue's SLA; zero if never.
	SLABreachTime time.Time `json:"sla_breach_time,omitzero"`
	// EntryPoint is where the customer came from, as the channel last reported it: a Messenger
	// m.me or ad ref, a WhatsApp ad ("ad:" and its id), the web chat's page URL. Routing rules
	// may match on it; empty when the channel never said.
	EntryPoint string    `json:"entry_point,omitempty"`
	CreateTime time.Time `json:"create_time"`
	UpdateTime time.Time `json:"update_time"`
	Revision   int64     `json:"revision"`
}

// Direction is inbound (from the customer), outbound (to the customer), or internal: a note
// between agents that never leaves Baton.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
	Internal Direction = "internal"
)

// DeliveryStatus is how far a message has travelled.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Message is one message of a conversation. Content is the API's encoding of the typed
// content, stored and returned verbatim; the rules never look inside it.
type Message struct {
	ID               string          `json:"id"`
	ConversationID   string          `json:"conversation_id"`
	ChannelID        string          `json:"channel_id"`
	Direction        Direction       `json:"direction"`
	Sender           Actor           `json:"sender"`
	Content          json.RawMessage `json:"content,omitempty"`
	ChannelMessageID string          `json:"channel_message_id,omitempty"`
	RequestID        string          `json:"request_id,omitempty"`
	Status           DeliveryStatus  `json:"status"`
	// Error is the channel's error: why a message failed, or why it still waits for a retry.
	Error      string    `json:"error,omitempty"`
	Epoch      uint64    `json:"epoch"`
	CreateTime time.Time `json:"create_time"`
	// Erased marks the tombstone of a message whose contact was erased: its content is gone.
	Erased bool `json:"erased,omitempty"`
	// Sending an outbound message through its channel: the attempts so far, when the next is
	// due, and until when a sender holds it.
	Attempts        int       `json:"-"`
	NextAttemptTime time.Time `json:"-"`
	LeaseExpireTime time.Time `json:"-"`
}

// HandoverState is where a handover is in its lifecycle.
type HandoverState string

// Handover states.
const (
	HandoverRequested HandoverState = "requested"
	HandoverOffered   HandoverState = "offered"
	HandoverAccepted  HandoverState = "accepted"
	HandoverReleased  HandoverState = "released"
	HandoverDeclined  HandoverState = "declined"
	HandoverFailed    HandoverState = "failed"
	HandoverExpired   HandoverState = "expired"
	HandoverCanceled  HandoverState = "canceled"
)

// Waiting reports whether the handover waits for an agent.
func (s HandoverState) Waiting() bool { return s == HandoverRequested || s == HandoverOffered }

// Live reports whether the handover is waiting or engaged.
func (s HandoverState) Live() bool { return s.Waiting() || s == HandoverAccepted }

// FailureReason says why a handoff found no agent.
type FailureReason string

// Failure reasons.
const (
	NoAgentOnline FailureReason = "no_agent_online"
	NoCapacity    FailureReason = "no_capacity"
	// ClosedOutOfHours: the queue is closed and says the bot keeps the conversation.
	ClosedOutOfHours FailureReason = "out_of_hours"
)

// Outcome is how an engagement ended, as the agent says at handback.
type Outcome string

// Handback outcomes.
const (
	OutcomeResolved         Outcome = "resolved"
	OutcomeUnresolved       Outcome = "unresolved"
	OutcomeCustomerInactive Outcome = "customer_inactive"
	OutcomeOutOfScope       Outcome = "out_of_scope"
)

// EndReason says why a handover ended.
type EndReason string

// End reasons.
const (
	EndHandedBack     EndReason = "handed_back"
	EndTransferred    EndReason = "transferred"
	EndClosed         EndReason = "closed"
	EndTakenOver      EndReason = "taken_over"
	EndSessionTimeout EndReason = "session_timeout"
	EndCanceled       EndReason = "canceled"
)

// Target is where a handoff or transfer should go: exactly one field is set.
type Target struct {
	QueueID string    `json:"queue_id,omitempty"`
	Skill   string    `json:"skill,omitempty"`
	Role    AgentRole `json:"role,omitempty"`
	AgentID string    `json:"agent_id,omitempty"`
}

// IntakeAnswer is one pre-chat question and answer.
type IntakeAnswer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Handover is one transfer of responsibility. An accepted handover is an engagement.
type Handover struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversation_id"`
	From           Owner             `json:"from"`
	Target         Target            `json:"target"`
	QueueID        string            `json:"queue_id,omitempty"`
	Reason         string            `json:"reason,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	Summary        string            `json:"summary,omitempty"`
	Intake         []IntakeAnswer    `json:"intake,omitempty"`
	State          HandoverState     `json:"state"`
	FailureReason  FailureReason     `json:"failure_reason,omitempty"`
	// OutOfHours is what the handoff did because its queue was closed; empty when open.
	OutOfHours       OutOfHoursOutcome `json:"out_of_hours,omitempty"`
	OfferedAgentID   string            `json:"offered_agent_id,omitempty"`
	OfferExpireTime  time.Time         `json:"offer_expire_time"`
	DeclinedAgentIDs []string          `json:"declined_agent_ids,omitempty"`
	AgentID          string            `json:"agent_id,omitempty"`
	Outcome          Outcome           `json:"outcome,omitempty"`
	HandbackSummary  string            `json:"handback_summary,omitempty"`
	EndReason        EndReason         `json:"end_reason,omitempty"`
	RequestedBy      Actor             `json:"requested_by"`
	RequestID        string            `json:"request_id,omitempty"`
	Epoch            uint64            `json:"epoch"`
	CreateTime       time.Time         `json:"create_time"`
	AcceptTime       time.Time         `json:"accept_time"`
	EndTime          time.Time         `json:"end_time"`
	// TraceParent is the W3C traceparent of the handoff that began the handover, so that the
	// spans of its later steps (accept, decline, expiry, handback) link to that trace. It is
	// telemetry, not part of the handover's story: never in events.
	TraceParent string `json:"-"`
	// Priority orders waiting handovers: higher is offered first, then the longest waiting.
	// The routing rule that routed it sets it; an SLA breach may raise it.
	Priority int `json:"priority,omitempty"`
	// SLAWaitDeadline and SLAReplyDeadline are when the handover breaches its queue's SLA
	// targets (waiting, first agent reply); zero once met, breached, or without a target.
	SLAWaitDeadline  time.Time `json:"sla_wait_deadline,omitzero"`
	SLAReplyDeadline time.Time `json:"sla_reply_deadline,omitzero"`
	// SLABreaches are the targets the handover breached, in order.
	SLABreaches []SLATarget `json:"sla_breaches,omitempty"`
	// Supervisors is set when a breach offers the handover to supervisors too.
	Supervisors bool `json:"supervisors,omitempty"`
	// RuleID is the routing rule that routed the handover, RouteReason why (what it matched);
	// both empty when no rule matched.
	RuleID      string `json:"rule_id,omitempty"`
	RouteReason string `json:"route_reason,omitempty"`
}

// TimeToAccept is how long the handover waited before an agent accepted it.
func (h Handover) TimeToAccept() time.Duration {
	if h.AcceptTime.IsZero() {
		return 0
	}
	return h.AcceptTime.Sub(h.CreateTime)
}

// EventType is what an event records.
type EventType string

// Event types.
const (
	EventConversationCreated  EventType = "conversation.created"
	EventConversationUpdated  EventType = "conversation.updated"
	EventConversationClosed   EventType = "conversation.closed"
	EventOwnerChanged         EventType = "conversation.owner_changed"
	EventMessageReceived      EventType = "message.received"
	EventMessageSent          EventType = "message.sent"
	EventMessageStatusChanged EventType = "message.status_changed"
	EventHandoverRequested    EventType = "handover.requested"
	EventHandoverOffered      EventType = "handover.offered"
	EventHandoverDeclined     EventType = "handover.declined"
	EventHandoverOfferExpired EventType = "handover.offer_expired"
	EventHandoverAccepted     EventType = "handover.accepted"
	EventHandoverReleased     EventType = "handover.released"
	EventHandoverFailed       EventType = "handover.failed"
	EventHandoverExpired      EventType = "handover.expired"
	EventHandoverCanceled     EventType = "handover.canceled"
	EventBotMuted             EventType = "bot.muted"
	EventBotUnmuted           EventType = "bot.unmuted"
	EventAgentPresenceChanged EventType = "agent.presence_changed"
	EventWebhookActivated     EventType = "webhook.activated"
	EventWebhookDeactivated   EventType = "webhook.deactivated"
	EventNoteCreated          EventType = "note.created"
	EventContactErased        EventType = "contact.erased"
	EventContactExported      EventType = "contact.exported"
	EventTranscriptExported   EventType = "conversation.exported"
	EventSLABreached          EventType = "conversation.sla_breached"
)

// OwnerChange describes one ownership change.
type OwnerChange struct {
	From       Owner  `json:"from"`
	To         Owner  `json:"to"`
	Epoch      uint64 `json:"epoch"`
	Reason     string `json:"reason,omitempty"`
	HandoverID string `json:"handover_id,omitempty"`
}

// Event is an immutable record of one change. Sequence and ID are assigned when it is stored.
type Event struct {
	Sequence       uint64    `json:"sequence"`
	ID             string    `json:"id"`
	Type           EventType `json:"type"`
	Time           time.Time `json:"time"`
	ConversationID string    `json:"conversation_id,omitempty"`
	ChannelID      string    `json:"channel_id,omitempty"`
	BotID          string    `json:"bot_id,omitempty"`
	AgentID        string    `json:"agent_id,omitempty"`
	ContactID      string    `json:"contact_id,omitempty"`
	Actor          Actor     `json:"actor"`
	Owner          Owner     `json:"owner"`
	// OwnerBefore is the owner before the change, on every event of a change of owner: the
	// owner that lost the conversation hears the whole of it (why, and what happened).
	OwnerBefore  *Owner        `json:"owner_before,omitempty"`
	Epoch        uint64        `json:"epoch"`
	Conversation *Conversation `json:"conversation,omitempty"`
	Message      *Message      `json:"message,omitempty"`
	Handover     *Handover     `json:"handover,omitempty"`
	OwnerChange  *OwnerChange  `json:"owner_change,omitempty"`
	Agent        *Agent        `json:"agent,omitempty"`
	Contact      *Contact      `json:"contact,omitempty"`
	Webhook      *Webhook      `json:"webhook,omitempty"`
	// SLABreach says which target a conversation.sla_breached event is about.
	SLABreach *SLABreach `json:"sla_breach,omitempty"`
	// Audience is what decides which agents may read the event (CanReadEvent), as the
	// conversation and its channel were right after the change.
	Audience *Audience `json:"audience,omitempty"`
}

// Role is the kind of principal an API key stands for.
type Role string

// Principal roles.
const (
	PrincipalAdmin   Role = "admin"
	PrincipalBot     Role = "bot"
	PrincipalAgent   Role = "agent"
	PrincipalService Role = "service"
)

// APIKey is a stored API key. Only the hash of its secret is kept.
type APIKey struct {
	ID          string
	DisplayName string
	Role        Role
	SubjectID   string
	SecretHash  []byte
	CreateTime  time.Time
}

// Principal is the authenticated caller of an RPC.
type Principal struct {
	KeyID     string
	Role      Role
	SubjectID string // bot or agent id
}

// Actor is the principal as the author of an action.
func (p Principal) Actor() Actor {
	switch p.Role {
	case PrincipalBot:
		return Actor{Kind: ActorBot, ID: p.SubjectID}
	case PrincipalAgent:
		return Actor{Kind: ActorAgent, ID: p.SubjectID}
	default:
		return Actor{Kind: ActorAdmin, ID: p.KeyID}
	}
}

// CheckCredentials refuses credentials a channel of kind could not use: a generic channel that
// sends (a send URL) signs what it sends with its webhook secret, so it needs one; without it,
// every send would fail, after an hour of retries.
func CheckCredentials(kind ChannelKind, c Credentials) error {
	if kind == ChannelGeneric && c.SendURL != "" && c.WebhookSecret == "" {
		return Invalid("credentials.webhook_secret", "a generic channel with a send_url signs its sends with its webhook secret: set one")
	}
	return nil
}
