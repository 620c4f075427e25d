package domain

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// WebhookState is where a webhook stands.
type WebhookState string

// Webhook states.
const (
	// WebhookPending has never passed verification: no delivery is recorded for it.
	WebhookPending WebhookState = "pending_verification"
	// WebhookActive is verified: deliveries are recorded and sent.
	WebhookActive WebhookState = "active"
	// WebhookInactive failed (or is gone): deliveries are recorded and wait for verification.
	WebhookInactive WebhookState = "inactive"
)

// InactivePolicy is what happens to a bot's conversations while its webhook is inactive.
type InactivePolicy string

// Inactive policies.
const (
	// PolicyHandoff makes the bot unreachable: its open conversations go to their channel's
	// default queue and it owns none until its webhook passes verification again.
	PolicyHandoff InactivePolicy = "handoff"
	// PolicyKeep leaves the conversations with the bot; their events wait for the webhook.
	PolicyKeep InactivePolicy = "keep"
)

// Webhook is an endpoint events are delivered to: a bot's (BotID set) or a firehose.
type Webhook struct {
	ID    string
	BotID string // empty for a firehose
	URL   string
	// EventTypes and ChannelIDs narrow what it receives; empty lists match everything.
	EventTypes     []EventType
	ChannelIDs     []string
	State          WebhookState
	InactiveReason string
	InactivePolicy InactivePolicy
	// ConsecutiveFailures counts failed attempts since the last success or verification.
	ConsecutiveFailures int
	// Secret signs deliveries; PreviousSecret signs them too until PreviousSecretExpireTime,
	// so an endpoint can switch secrets without refusing a delivery. Never in events.
	Secret                   string    `json:"-"`
	PreviousSecret           string    `json:"-"`
	PreviousSecretExpireTime time.Time `json:"-"`
	VerifyTime               time.Time
	CreateTime               time.Time
	UpdateTime               time.Time
	Revision                 int64
}

// SigningSecrets are the secrets a delivery sent at now is signed with: the current one, and
// the previous one while a rotation overlaps.
func (w Webhook) SigningSecrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpireTime) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// Records reports whether deliveries are recorded for the webhook: once it has passed
// verification, whether it is active now or not.
func (w Webhook) Records() bool { return w.State == WebhookActive || w.State == WebhookInactive }

// Subscribes reports whether the webhook receives the event. A bot's webhook receives the events
// of conversations of its channels that concern it (ForBot), and with standby all of them; a
// firehose receives every event. Both only receive what their filters select. (Stores evaluate
// this rule in their own query language when they record deliveries.)
func (w Webhook) Subscribes(e Event, botStandby bool) bool {
	if !w.Records() {
		return false
	}
	if w.BotID != "" && (e.BotID != w.BotID || !(botStandby || e.ForBot())) {
		return false
	}
	if len(w.EventTypes) > 0 && !slices.Contains(w.EventTypes, e.Type) {
		return false
	}
	return len(w.ChannelIDs) == 0 || slices.Contains(w.ChannelIDs, e.ChannelID)
}

// ForBot reports whether the event calls for the attention of the bot it names: the bot owns
// the conversation after it, or lost it in the change the event belongs to, or the event is
// about the bot itself (its webhook), or the conversation's contact was erased (whoever owns
// it, the bot erases its copies).
func (e Event) ForBot() bool {
	if e.BotID == "" {
		return false
	}
	bot := BotOwner(e.BotID)
	switch {
	case e.ConversationID == "", e.Type == EventContactErased:
		return true
	case e.Owner == bot:
		return true
	case e.OwnerBefore != nil && *e.OwnerBefore == bot:
		return true
	}
	return false
}

// Responsible reports whether the bot must answer the event's conversation: it owns it.
// Deliveries to firehoses are always responsible, since they answer no customer.
func (w Webhook) Responsible(e Event) bool {
	return w.BotID == "" || e.Owner == BotOwner(w.BotID)
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryStatePending   DeliveryState = "pending"
	DeliveryStateDelivered DeliveryState = "delivered"
	DeliveryStateDead      DeliveryState = "dead"
)

// Delivery is one event on its way to one webhook. It is recorded in the transaction that
// stores its event, and leaves after every earlier pending delivery of the same webhook and
// conversation.
type Delivery struct {
	// ID is stable across attempts: the webhook-id header endpoints deduplicate with.
	ID             string
	WebhookID      string
	EventID        string
	EventType      EventType
	ConversationID string
	State          DeliveryState
	// Attempts counts every attempt; Failures those failed since it was last queued, which
	// is where it stands in the retry schedule.
	Attempts int
	Failures int
	// NextAttemptTime is when a pending delivery is due.
	NextAttemptTime time.Time
	// LeaseExpireTime is when a claimed delivery whose sender vanished may be claimed again.
	LeaseExpireTime time.Time
	// TraceParent is the W3C trace context of the write that recorded it.
	TraceParent string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// DeliveryID names the delivery of an event to a webhook.
func DeliveryID(webhookID, eventID string) string { return eventID + "." + webhookID }

// Attempt is one try at sending a delivery.
type Attempt struct {
	DeliveryID string
	Number     int
	Time       time.Time
	StatusCode int // 0 when there was no HTTP answer
	Error      string
	Latency    time.Duration
}

// Retry policy defaults.
const (
	// MaxConsecutiveFailures failed attempts in a row make a webhook inactive.
	MaxConsecutiveFailures = 5
	// MaxRetryAfter caps how long a Retry-After header (a webhook endpoint's, a channel's send
	// API's) may hold a delivery or an outbound message back.
	MaxRetryAfter = 6 * time.Hour
)

// DefaultRetrySchedule is the wait before each retry: four retries over about an hour.
var DefaultRetrySchedule = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 40 * time.Minute}

// AttemptResult is what the endpoint did with one attempt.
type AttemptResult struct {
	StatusCode int    // 0 when there was no answer (connection error, timeout)
	Error      string // transport error; empty when the endpoint answered
	Latency    time.Duration
	// RetryAfter is the endpoint's Retry-After, honoured on 429 and 503.
	RetryAfter time.Duration
	// NotAllowed says the SSRF policy refused the endpoint's address: nothing was sent, and
	// sending again to that address cannot help.
	NotAllowed bool
}

// OK reports whether the endpoint acknowledged the delivery.
func (r AttemptResult) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Gone reports whether the endpoint said it no longer exists (410).
func (r AttemptResult) Gone() bool { return r.StatusCode == 410 }

// Describe says what went wrong, for the attempt log.
func (r AttemptResult) Describe() string {
	switch {
	case r.Error != "":
		return r.Error
	case r.OK():
		return ""
	default:
		return fmt.Sprintf("the endpoint answered %d", r.StatusCode)
	}
}

// RetryPolicy says when failed deliveries are tried again.
type RetryPolicy struct {
	// Schedule is the wait before each retry; its length is the number of retries.
	Schedule []time.Duration
	// Jitter spreads each wait by up to this fraction either way, so deliveries that failed
	// together do not all come back together.
	Jitter float64
}

// DefaultRetryPolicy is four retries over about an hour, each wait spread by ±20 %.
var DefaultRetryPolicy = RetryPolicy{Schedule: DefaultRetrySchedule, Jitter: 0.2}

// AttemptOutcome is what recording one attempt changes.
type AttemptOutcome struct {
	Webhook  Webhook
	Delivery Delivery
	Attempt  Attempt
	// WebhookChanged is set when the webhook must be stored again (its failure count or
	// state changed); a success on a healthy webhook leaves its row alone.
	WebhookChanged bool
	// Deactivated is set when this attempt made the webhook inactive.
	Deactivated bool
}

// RecordAttempt applies the result of the delivery's next attempt, made at now. A success
// delivers it and resets the webhook's failure count. A failure schedules the next retry (no
// sooner than a 429 or 503 Retry-After), or dead-letters the delivery when the schedule is
// spent; the fifth failure in a row, a 410, or an address the SSRF policy refuses makes the
// webhook inactive at once, and then the delivery waits with the others instead of dying.
func RecordAttempt(w Webhook, d Delivery, r AttemptResult, p RetryPolicy, now time.Time) AttemptOutcome {
	d.Attempts++
	d.UpdateTime = now
	d.LeaseExpireTime = time.Time{}
	out := AttemptOutcome{Attempt: Attempt{
		DeliveryID: d.ID, Number: d.Attempts, Time: now,
		StatusCode: r.StatusCode, Error: r.Describe(), Latency: r.Latency,
	}}
	if r.OK() {
		d.State = DeliveryStateDelivered
		if w.ConsecutiveFailures != 0 {
			w.ConsecutiveFailures = 0
			w.UpdateTime = now
			out.WebhookChanged = true
		}
		out.Webhook, out.Delivery = w, d
		return out
	}
	d.Failures++
	w.ConsecutiveFailures++
	w.UpdateTime = now
	out.WebhookChanged = true
	switch {
	case w.State != WebhookActive:
	case r.Gone():
		w = Deactivate(w, "the endpoint answered 410 Gone", now)
		out.Deactivated = true
	case r.NotAllowed:
		w = Deactivate(w, r.Describe(), now)
		out.Deactivated = true
	case w.ConsecutiveFailures >= MaxConsecutiveFailures:
		w = Deactivate(w, fmt.Sprintf("%d consecutive failed deliveries", w.ConsecutiveFailures), now)
		out.Deactivated = true
	}
	switch {
	case w.State != WebhookActive:
		d.NextAttemptTime = now // waits for reactivation, which resends it at once
	case d.Failures > len(p.Schedule):
		d.State = DeliveryStateDead
	default:
		d.NextAttemptTime = now.Add(p.wait(d.Failures, r.retryAfter()))
	}
	out.Webhook, out.Delivery = w, d
	return out
}

// retryAfter is the endpoint's Retry-After, which counts only on 429 and 503.
func (r AttemptResult) retryAfter() time.Duration {
	if r.StatusCode == 429 || r.StatusCode == 503 {
		return r.RetryAfter
	}
	return 0
}

// wait is how long to wait after the given failure (1 for the first): the schedule's wait,
// spread by the jitter, and no sooner than retryAfter (capped at MaxRetryAfter).
func (p RetryPolicy) wait(failure int, retryAfter time.Duration) time.Duration {
	wait := p.Schedule[failure-1]
	if p.Jitter > 0 {
		wait += time.Duration((rand.Float64()*2 - 1) * p.Jitter * float64(wait))
	}
	return max(wait, min(retryAfter, MaxRetryAfter))
}

// Deactivate makes a webhook inactive.
func Deactivate(w Webhook, reason string, now time.Time) Webhook {
	w.State = WebhookInactive
	w.InactiveReason = reason
	w.UpdateTime = now
	return w
}

// Activate records that the webhook passed verification at now.
func Activate(w Webhook, now time.Time) Webhook {
	w.State = WebhookActive
	w.InactiveReason = ""
	w.ConsecutiveFailures = 0
	w.VerifyTime = now
	w.UpdateTime = now
	return w
}

// Redeliver queues a delivery again, due at now, with a fresh retry schedule. One being sent
// right now keeps its lease: it goes again once that attempt is recorded, never twice at once.
func Redeliver(d Delivery, now time.Time) Delivery {
	d.State = DeliveryStatePending
	d.Failures = 0
	d.NextAttemptTime = now
	if !d.LeaseExpireTime.After(now) {
		d.LeaseExpireTime = time.Time{}
	}
	d.UpdateTime = now
	return d
}

// WebhookEvent announces a webhook's activation or deactivation.
func WebhookEvent(w Webhook, typ EventType, actor Actor, now time.Time, newID func(string) string) Event {
	snapshot := w
	snapshot.Secret, snapshot.PreviousSecret = "", ""
	return Event{
		ID: newID("ev"), Type: typ, Time: now, BotID: w.BotID, Actor: actor, Webhook: &snapshot,
	}
}

// CanManageWebhook reports whether p may see and change webhooks of the bot (empty botID: a
// firehose): admins any, a bot its own.
func CanManageWebhook(p Principal, botID string) bool {
	switch p.Role {
	case PrincipalAdmin:
		return true
	case PrincipalBot:
		return botID != "" && p.SubjectID == botID
	}
	return false
}
