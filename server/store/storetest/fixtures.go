package storetest

import (
	"encoding/json"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// t0 has a microsecond fraction so that lost precision shows.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_897_000, time.UTC)

// elsewhere is a zone other than UTC: a stored time is the same instant, whatever its zone.
var elsewhere = time.FixedZone("UTC+05:30", 5*3600+30*60)

func apply[T any](v T, mods []func(*T)) T {
	for _, m := range mods {
		m(&v)
	}
	return v
}

// The *Value builders return valid, fully populated values that are not stored yet. The
// builders without the suffix store them (with their parents when they need some).

func (h *harness) channelValue(mods ...func(*domain.Channel)) domain.Channel {
	id := h.id("ch")
	return apply(domain.Channel{
		ID:             id,
		Kind:           domain.ChannelMessenger,
		ExternalID:     "page-" + id,
		DisplayName:    "Channel " + id,
		SessionTimeout: 90 * time.Minute,
		Retention:      domain.Retention{Messages: 48 * time.Hour, Events: domain.Forever},
		Credentials: domain.Credentials{
			AppSecret: "app-secret", VerifyToken: "verify-token", AccessToken: "access-token", WebhookSecret: "webhook-secret",
		},
		AutoHandoff: domain.AutoHandoffPolicy{
			NotUnderstoodLimit: 2, HumanWordsOn: true, HumanWords: map[string][]string{"en": {"human", "real person"}, "*": {"humano"}},
			UnansweredTimeout: 5 * time.Minute, QueueID: "q-billing", QueueAnyway: true,
		},
		CreateTime: t0,
		UpdateTime: t0.Add(time.Second).In(elsewhere),
		Revision:   1,
	}, mods)
}

func (h *harness) channel(mods ...func(*domain.Channel)) domain.Channel {
	h.t.Helper()
	c := h.channelValue(mods...)
	h.write(func(tx store.Tx) error { return tx.CreateChannel(h.ctx, c) })
	return c
}

func (h *harness) botValue(mods ...func(*domain.Bot)) domain.Bot {
	id := h.id("bot")
	return apply(domain.Bot{
		ID:          id,
		DisplayName: "Bot " + id,
		Active:      true,
		Standby:     true,
		Unreachable: true,
		AutoHandoff: domain.AutoHandoffPolicy{NotUnderstoodLimit: 3},
		CreateTime:  t0,
		UpdateTime:  t0.Add(time.Millisecond),
		Revision:    1,
	}, mods)
}

func (h *harness) bot(mods ...func(*domain.Bot)) domain.Bot {
	h.t.Helper()
	b := h.botValue(mods...)
	h.write(func(tx store.Tx) error { return tx.CreateBot(h.ctx, b) })
	return b
}

func (h *harness) agentValue(mods ...func(*domain.Agent)) domain.Agent {
	id := h.id("agent")
	return apply(domain.Agent{
		ID:           id,
		DisplayName:  "Agent " + id,
		Email:        id + "@example.com",
		Skills:       []string{"billing", "french"},
		Role:         domain.RoleSupervisor,
		Team:         "tier-2",
		Capacity:     3,
		QueueIDs:     []string{"q-billing", "q-vip"},
		Presence:     domain.PresenceOnline,
		LastSeenTime: t0.Add(-time.Minute),
		CreateTime:   t0,
		UpdateTime:   t0.Add(time.Microsecond),
		Revision:     1,
	}, mods)
}

func (h *harness) agent(mods ...func(*domain.Agent)) domain.Agent {
	h.t.Helper()
	a := h.agentValue(mods...)
	h.write(func(tx store.Tx) error { return tx.CreateAgent(h.ctx, a) })
	return a
}

func (h *harness) queueValue(mods ...func(*domain.Queue)) domain.Queue {
	id := h.id("queue")
	return apply(domain.Queue{
		ID:           id,
		DisplayName:  "Queue " + id,
		Skills:       []string{"billing"},
		OfferTimeout: 45 * time.Second,
		Policy:       queuePolicy(),
		SLA:          domain.QueueSLA{WaitTarget: 2 * time.Minute, FirstReplyTarget: 10 * time.Minute, RaisePriority: 3, OfferSupervisors: true},
		CreateTime:   t0,
		UpdateTime:   t0.Add(time.Hour),
		Revision:     1,
	}, mods)
}

func (h *harness) queue(mods ...func(*domain.Queue)) domain.Queue {
	h.t.Helper()
	q := h.queueValue(mods...)
	h.write(func(tx store.Tx) error { return tx.CreateQueue(h.ctx, q) })
	return q
}

func (h *harness) contactValue(ch domain.Channel, mods ...func(*domain.Contact)) domain.Contact {
	id := h.id("contact")
	return apply(domain.Contact{
		ID:            id,
		ChannelID:     ch.ID,
		ExternalID:    "user-" + id,
		DisplayName:   "Contact " + id,
		Locale:        "fr_FR",
		Attributes:    map[string]string{"plan": "gold", "city": "Lyon"},
		BotMutedUntil: t0.Add(72 * time.Hour),
		CreateTime:    t0,
		UpdateTime:    t0.Add(2 * time.Second),
		Revision:      1,
	}, mods)
}

func (h *harness) contact(ch domain.Channel, mods ...func(*domain.Contact)) domain.Contact {
	h.t.Helper()
	c := h.contactValue(ch, mods...)
	h.write(func(tx store.Tx) error { return tx.CreateContact(h.ctx, c) })
	return c
}

// conversationValue returns a conversation of a new contact on ch; the contact is stored.
func (h *harness) conversationValue(ch domain.Channel, mods ...func(*domain.Conversation)) domain.Conversation {
	h.t.Helper()
	ct := h.contact(ch)
	id := h.id("conv")
	return apply(domain.Conversation{
		ID:               id,
		ChannelID:        ch.ID,
		ContactID:        ct.ID,
		BotID:            "bot-of-" + id,
		Owner:            domain.QueueOwner("q-billing"),
		Epoch:            4,
		State:            domain.ConversationOpen,
		Status:           domain.StatusNeedHelp,
		Tags:             []string{"vip", "billing"},
		Language:         "fr",
		ActiveHandoverID: "handover-of-" + id,
		BotEnabled:       true,
		BotMutedUntil:    t0.Add(time.Hour),
		LastActivityTime: t0.Add(-time.Minute),
		LastInboundTime:  t0.Add(-2 * time.Minute),
		LastOutboundTime: t0.Add(-3 * time.Minute).In(elsewhere),
		// The channel's clock, in milliseconds, runs a little ahead of Baton's.
		ExternalOwnerTime:  t0.Add(1500 * time.Millisecond),
		NotUnderstoodCount: 2,
		UnansweredDeadline: t0.Add(4 * time.Minute),
		SLABreachTime:      t0.Add(-30 * time.Second).In(elsewhere),
		EntryPoint:         "https://shop.example/pricing?utm_source=ad",
		CreateTime:         t0.Add(-time.Hour),
		UpdateTime:         t0,
		Revision:           1,
	}, mods)
}

// conversation stores a conversation of a new contact on ch.
func (h *harness) conversation(ch domain.Channel, mods ...func(*domain.Conversation)) domain.Conversation {
	h.t.Helper()
	c := h.conversationValue(ch, mods...)
	h.write(func(tx store.Tx) error { return tx.CreateConversation(h.ctx, c) })
	return c
}

func (h *harness) messageValue(conv domain.Conversation, mods ...func(*domain.Message)) domain.Message {
	id := h.id("msg")
	return apply(domain.Message{
		ID:             id,
		ConversationID: conv.ID,
		ChannelID:      conv.ChannelID,
		Direction:      domain.Outbound,
		Sender:         domain.Actor{Kind: domain.ActorAgent, ID: "agent-7"},
		// Not compact, keys not sorted: the store must keep the bytes as they are.
		Content:          json.RawMessage(`{"text":  "Bonjour, ça va ?", "a": [1, 2]}`),
		ChannelMessageID: "mid." + id,
		RequestID:        "req-" + id,
		Status:           domain.DeliveryDelivered,
		Error:            "(#10) an earlier attempt failed",
		Epoch:            9,
		CreateTime:       t0,
		Attempts:         2,
		NextAttemptTime:  t0.Add(30 * time.Second),
		LeaseExpireTime:  t0.Add(time.Minute).In(elsewhere),
	}, mods)
}

func (h *harness) message(conv domain.Conversation, mods ...func(*domain.Message)) domain.Message {
	h.t.Helper()
	m := h.messageValue(conv, mods...)
	h.write(func(tx store.Tx) error { return tx.CreateMessage(h.ctx, m) })
	return m
}

func (h *harness) handoverValue(conv domain.Conversation, mods ...func(*domain.Handover)) domain.Handover {
	id := h.id("handover")
	return apply(domain.Handover{
		ID:               id,
		ConversationID:   conv.ID,
		From:             domain.BotOwner("bot-1"),
		Target:           domain.Target{Skill: "billing"},
		QueueID:          "q-billing",
		Reason:           "customer asked for a human",
		Metadata:         map[string]string{"order": "A-17", "priority": "high"},
		Summary:          "Wants a refund for order A-17.",
		Intake:           []domain.IntakeAnswer{{Question: "Order number?", Answer: "A-17"}, {Question: "Email?", Answer: "x@example.com"}},
		State:            domain.HandoverOffered,
		FailureReason:    domain.NoCapacity,
		OutOfHours:       domain.OutOfHoursRedirected,
		OfferedAgentID:   "agent-2",
		OfferExpireTime:  t0.Add(time.Minute),
		DeclinedAgentIDs: []string{"agent-1", "agent-3"},
		AgentID:          "agent-4",
		Outcome:          domain.OutcomeResolved,
		HandbackSummary:  "Refunded.",
		EndReason:        domain.EndHandedBack,
		RequestedBy:      domain.Actor{Kind: domain.ActorBot, ID: "bot-1"},
		RequestID:        "req-" + id,
		Epoch:            5,
		CreateTime:       t0,
		AcceptTime:       t0.Add(30 * time.Second),
		EndTime:          t0.Add(time.Hour).In(elsewhere),
		TraceParent:      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Priority:         -3, // negative priorities sort below the default 0
		SLAWaitDeadline:  t0.Add(2 * time.Minute),
		SLAReplyDeadline: t0.Add(10 * time.Minute).In(elsewhere),
		SLABreaches:      []domain.SLATarget{domain.SLAWait},
		Supervisors:      true,
		RuleID:           "rule-billing",
		RouteReason:      `rule "Billing": the customer wrote "invoice"`,
	}, mods)
}

func (h *harness) handover(conv domain.Conversation, mods ...func(*domain.Handover)) domain.Handover {
	h.t.Helper()
	v := h.handoverValue(conv, mods...)
	h.write(func(tx store.Tx) error { return tx.CreateHandover(h.ctx, v) })
	return v
}

func (h *harness) apiKeyValue(mods ...func(*domain.APIKey)) domain.APIKey {
	id := h.id("key")
	return apply(domain.APIKey{
		ID:          id,
		DisplayName: "Key " + id,
		Role:        domain.PrincipalBot,
		SubjectID:   "bot-1",
		SecretHash:  []byte{0x00, 0xff, 0x10, 'h', 'a', 's', 'h', 0x00},
		CreateTime:  t0,
	}, mods)
}

func (h *harness) apiKey(mods ...func(*domain.APIKey)) domain.APIKey {
	h.t.Helper()
	k := h.apiKeyValue(mods...)
	h.write(func(tx store.Tx) error { return tx.CreateAPIKey(h.ctx, k) })
	return k
}

// webhookValue is a bot's webhook, inactive, with filters and a secret being rotated.
func (h *harness) webhookValue(mods ...func(*domain.Webhook)) domain.Webhook {
	id := h.id("hook")
	return apply(domain.Webhook{
		ID:                       id,
		BotID:                    "bot-of-" + id,
		URL:                      "https://bot.example.com/hooks/" + id,
		EventTypes:               []domain.EventType{domain.EventMessageReceived, domain.EventHandoverAccepted},
		ChannelIDs:               []string{"ch-a", "ch-b"},
		State:                    domain.WebhookInactive,
		InactiveReason:           "5 consecutive failed deliveries",
		InactivePolicy:           domain.PolicyKeep,
		ConsecutiveFailures:      5,
		Secret:                   "whsec_current_" + id,
		PreviousSecret:           "whsec_previous_" + id,
		PreviousSecretExpireTime: t0.Add(24 * time.Hour).In(elsewhere),
		VerifyTime:               t0.Add(-time.Hour),
		CreateTime:               t0.Add(-2 * time.Hour),
		UpdateTime:               t0,
		Revision:                 1,
	}, mods)
}

func (h *harness) webhook(mods ...func(*domain.Webhook)) domain.Webhook {
	h.t.Helper()
	w := h.webhookValue(mods...)
	h.write(func(tx store.Tx) error { return tx.CreateWebhook(h.ctx, w) })
	return w
}

// Field setters for the builders' mods.

// firehose makes a webhook an active firehose without filters: it receives every event.
func firehose(w *domain.Webhook) {
	w.BotID, w.EventTypes, w.ChannelIDs = "", nil, nil
	w.State, w.InactiveReason, w.ConsecutiveFailures = domain.WebhookActive, "", 0
}

func withHookState(s domain.WebhookState) func(*domain.Webhook) {
	return func(w *domain.Webhook) { w.State = s }
}

func withBot(id string) func(*domain.Channel)    { return func(c *domain.Channel) { c.BotID = id } }
func withQueue(id string) func(*domain.Handover) { return func(v *domain.Handover) { v.QueueID = id } }
func withState(s domain.HandoverState) func(*domain.Handover) {
	return func(v *domain.Handover) { v.State = s }
}

func withCreated(t time.Time) func(*domain.Handover) {
	return func(v *domain.Handover) { v.CreateTime = t }
}

func withActivity(t time.Time) func(*domain.Conversation) {
	return func(c *domain.Conversation) { c.LastActivityTime = t }
}

// queuePolicy sets every field of a queue's policy, so that a store that drops one is caught.
func queuePolicy() domain.QueuePolicy {
	return domain.QueuePolicy{
		Hours: &domain.BusinessHours{
			TimeZone: "Europe/Paris",
			Intervals: []domain.OpenInterval{
				{Weekday: time.Monday, Start: 9 * 60, End: 12 * 60},
				{Weekday: time.Monday, Start: 13 * 60, End: 17 * 60},
				{Weekday: time.Saturday, Start: 0, End: domain.MinutesPerDay},
			},
			ClosedDates: []string{"2025-12-25", "2026-01-01"},
			OutOfHours:  domain.OutOfHours{Action: domain.OutOfHoursOtherQueue, QueueID: "q-night"},
		},
		Acknowledgements: domain.Acknowledgements{
			Enabled:         true,
			Disabled:        []domain.AckKind{domain.AckTransferred, domain.AckSLAApology},
			DefaultLanguage: "fr",
			Templates: []domain.AckTemplate{
				{Kind: domain.AckQueued, Language: "fr", Text: "Vous êtes le numéro {position}."},
				{Kind: domain.AckAgentJoined, Language: "en-GB", Text: "{agent} is here."},
			},
		},
	}
}
