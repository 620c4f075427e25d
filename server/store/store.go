// Package store defines the storage Baton's application layer needs, over the domain's types.
// Backends (SQLite, PostgreSQL) implement it; storetest holds the conformance suite every
// backend must pass.
package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// ErrConflict is returned by an update whose expected revision no longer matches: someone
// else changed the row since it was read. A Write that locks the rows it reads to update them
// (Tx.Lock) never meets it; a caller's stale etag is found before any update, by comparing it
// with the row read under the lock.
var ErrConflict = errors.New("store: revision conflict")

// ErrUnavailable wraps the errors that mean the database cannot serve the transaction right now
// and a later attempt may succeed: it is unreachable (stopped, restarting, refusing or dropping
// connections), or kept losing races with other transactions. What the caller was told was
// stored is not lost; a transaction cut off during its commit may or may not have committed.
var ErrUnavailable = errors.New("store: database unavailable")

// ErrDuplicate is returned when an insert hits a unique key (same channel message id, same
// request id, same external id). Callers read the existing row instead.
var ErrDuplicate = errors.New("store: duplicate")

// ErrBadCursor is returned when a page cursor cannot be decoded.
var ErrBadCursor = errors.New("store: malformed page token")

// Store is a database.
type Store interface {
	// Write runs fn in one read-write transaction and commits it when fn returns nil.
	// Write transactions that touch the same conversation are serialised: a Get inside Write
	// sees the latest committed state and no other Write can change that row until commit.
	// A transaction that lost a race in the database (a deadlock, a serialization failure) or
	// whose connection broke before its commit changed nothing, and fn runs again from the start
	// (a bounded number of times, then ErrUnavailable): fn may run more than once, and must
	// leave nothing behind outside the transaction that a second run would not overwrite.
	Write(ctx context.Context, fn func(Tx) error) error
	// WriteInbound is Write for the busiest transaction: storing the inbound message q names,
	// which fn reads first with LoadInbound(q). A store may run concurrent ones in one database
	// transaction, read what they need in one statement, and commit them together. Each still
	// commits or fails as a whole, but fn may run more than once: when a write of a group fails
	// after sending any statement (a read counts), the others run again alone.
	WriteInbound(ctx context.Context, q InboundQuery, fn func(Tx) error) error
	// Read runs fn in a read-only transaction (a consistent snapshot). Like Write, it may run
	// fn again when the connection broke.
	Read(ctx context.Context, fn func(Tx) error) error
	// LastSequence returns the highest sequence committed, as Tx.LastSequence does, without a
	// transaction of its own: it is what a subscriber's wake-up reads. Backends number events
	// in commit order, one committing transaction at a time (SQLite has one writer; PostgreSQL
	// takes a lock to number them as they commit), so a reader following the sequence never
	// skips or reorders an event.
	LastSequence(ctx context.Context) (uint64, error)
	// Ready returns nil when the database answers and holds every migration of this binary;
	// otherwise it says why not (ErrUnavailable when the database does not answer).
	Ready(ctx context.Context) error
	// Reseal checks that every sealed secret opens with the store's keys, and seals again under
	// its primary key the secrets still in the clear and, when rotate is set, every secret
	// sealed under another key; it returns how many rows it sealed. It runs in one transaction:
	// secrets are in configuration rows, a few thousand at most. (Open runs it without rotate.)
	Reseal(ctx context.Context, rotate bool) (int, error)
	// Close releases the database.
	Close() error
}

// LongLived marks ctx as a caller's that stays on its goroutine long after its transactions: an
// event stream's, open for days, which reads as it opens and then every few seconds (its key
// check). A store whose driver runs deep (SQLite's, translated from C, grows a goroutine's stack
// to 16–32 KB) runs such a caller's reads on goroutines of its own: a goroutine's stack shrinks
// only at a collection, by half at most, and an idle stream should hold the 8 KB it needs, not
// what its reads grew it to. Other callers are spared the hand-off (a few microseconds a read).
func LongLived(ctx context.Context) context.Context {
	return context.WithValue(ctx, longLivedKey{}, true)
}

// IsLongLived reports whether LongLived marked ctx.
func IsLongLived(ctx context.Context) bool {
	v, _ := ctx.Value(longLivedKey{}).(bool)
	return v
}

type longLivedKey struct{}

// ErrMigrationsPending says the database lacks migrations of this binary: it was not migrated
// (or another replica is migrating it now).
var ErrMigrationsPending = errors.New("the database lacks migrations of this binary: run baton migrate")

// Page asks for one page of a list. Cursor is empty for the first page.
type Page struct {
	Size   int
	Cursor string
}

// Kind names a kind of row that Tx.Lock locks.
type Kind string

// The kinds of rows a Write locks before reading them to update them. (Conversations and
// deliveries are locked by reading them in a Write.)
const (
	KindChannel Kind = "channel"
	KindBot     Kind = "bot"
	KindAgent   Kind = "agent"
	KindQueue   Kind = "queue"
	KindContact Kind = "contact"
	KindWebhook Kind = "webhook"
	KindRule    Kind = "routing_rule"
)

// Tx is one transaction. Getters return *domain.NotFoundError when the row does not exist.
// Create* return ErrDuplicate on a unique-key clash. Update* write the whole row only if its
// stored Revision equals the given one, set Revision to that plus one, and otherwise return
// ErrConflict (or NotFoundError when the row is gone). List* return the rows and the cursor of
// the next page ("" on the last page).
type Tx interface {
	// Lock locks the row of kind with the given id until the transaction ends, in a Write (in
	// a Read it does nothing): what the transaction reads of the row after is its latest
	// committed version, and no other Write changes it meanwhile. A Write that reads a row to
	// update it locks it first, so that concurrent updates queue instead of failing with
	// ErrConflict. A missing row locks nothing (the read that follows says it is missing).
	// Writes take locks in one order, so that none waits for another in a cycle: deliveries,
	// webhooks, a configuration row (bot, channel, agent, queue; routing rules, several in id
	// order), conversations (several in id order), contacts, then a conversation's handovers
	// and messages. (The PostgreSQL store's lock.go says how each is taken.)
	Lock(ctx context.Context, kind Kind, id string) error

	CreateChannel(ctx context.Context, c domain.Channel) error
	GetChannel(ctx context.Context, id string) (domain.Channel, error)
	ListChannels(ctx context.Context, kind domain.ChannelKind, p Page) ([]domain.Channel, string, error)
	UpdateChannel(ctx context.Context, c domain.Channel) error
	// DeleteChannel deletes a channel. The caller checks it has no conversations.
	DeleteChannel(ctx context.Context, id string) error
	CountConversations(ctx context.Context, channelID string) (int, error)

	CreateBot(ctx context.Context, b domain.Bot) error
	// GetBot fills ChannelIDs from the channels bound to the bot, sorted.
	GetBot(ctx context.Context, id string) (domain.Bot, error)
	ListBots(ctx context.Context, p Page) ([]domain.Bot, string, error)
	UpdateBot(ctx context.Context, b domain.Bot) error
	DeleteBot(ctx context.Context, id string) error

	CreateAgent(ctx context.Context, a domain.Agent) error
	// GetAgent fills Active with the number of accepted handovers the agent holds, and Offered
	// with the number of handovers offered to it now (ListAgents too).
	GetAgent(ctx context.Context, id string) (domain.Agent, error)
	ListAgents(ctx context.Context, q AgentQuery, p Page) ([]domain.Agent, string, error)
	UpdateAgent(ctx context.Context, a domain.Agent) error
	DeleteAgent(ctx context.Context, id string) error
	// TouchAgent records that the agent was seen at t without changing its Revision: a
	// heartbeat is not an edit, and must not make an admin's etag stale.
	TouchAgent(ctx context.Context, id string, t time.Time) error
	// ListAgentsSeenBefore returns agents not offline whose LastSeenTime is before t.
	ListAgentsSeenBefore(ctx context.Context, t time.Time, limit int) ([]domain.Agent, error)

	CreateQueue(ctx context.Context, q domain.Queue) error
	// GetQueue fills Waiting with the number of requested or offered handovers in the queue.
	GetQueue(ctx context.Context, id string) (domain.Queue, error)
	ListQueues(ctx context.Context, p Page) ([]domain.Queue, string, error)
	UpdateQueue(ctx context.Context, q domain.Queue) error
	DeleteQueue(ctx context.Context, id string) error
	// QueueInUse reports whether a channel defaults to the queue or a live handover uses it.
	QueueInUse(ctx context.Context, id string) (bool, error)

	CreateRoutingRule(ctx context.Context, r domain.RoutingRule) error
	GetRoutingRule(ctx context.Context, id string) (domain.RoutingRule, error)
	// ListRoutingRules returns every rule, global and per channel, by position then id: rules
	// are few, and routing evaluates them all in one pass.
	ListRoutingRules(ctx context.Context) ([]domain.RoutingRule, error)
	UpdateRoutingRule(ctx context.Context, r domain.RoutingRule) error
	DeleteRoutingRule(ctx context.Context, id string) error

	CreateContact(ctx context.Context, c domain.Contact) error
	GetContact(ctx context.Context, id string) (domain.Contact, error)
	GetContactByExternalID(ctx context.Context, channelID, externalID string) (domain.Contact, error)
	ListContacts(ctx context.Context, q ContactQuery, p Page) ([]domain.Contact, string, error)
	UpdateContact(ctx context.Context, c domain.Contact) error

	// CreateConversation inserts a conversation; one per contact (ErrDuplicate otherwise).
	CreateConversation(ctx context.Context, c domain.Conversation) error
	GetConversation(ctx context.Context, id string) (domain.Conversation, error)
	GetConversationByContact(ctx context.Context, contactID string) (domain.Conversation, error)
	ListConversations(ctx context.Context, q ConversationQuery, p Page) ([]domain.Conversation, string, error)
	UpdateConversation(ctx context.Context, c domain.Conversation) error
	// TouchExternalOwnerTime sets the conversation's ExternalOwnerTime to t without changing
	// its Revision: a channel's report that moved nobody is kept only to order the reports
	// after it; it is not an edit, and no event announces it.
	TouchExternalOwnerTime(ctx context.Context, conversationID string, t time.Time) error

	// LoadInbound reads together what storing one inbound customer message needs: the channel
	// (NotFoundError when it does not exist), its bot, the message already stored under that
	// channel message id, and the customer's contact, conversation and live handover. In Write
	// the conversation is locked as GetConversation locks it.
	LoadInbound(ctx context.Context, q InboundQuery) (Inbound, error)

	// CreateMessage inserts a message. ErrDuplicate when (channel, channel message id) or
	// (conversation, request id) already exists; empty ids never clash.
	CreateMessage(ctx context.Context, m domain.Message) error
	GetMessageByChannelMessageID(ctx context.Context, channelID, channelMessageID string) (domain.Message, error)
	GetMessage(ctx context.Context, id string) (domain.Message, error)
	// UpdateMessage overwrites a message's Status, Error, ChannelMessageID and send
	// bookkeeping (Attempts, NextAttemptTime, LeaseExpireTime).
	UpdateMessage(ctx context.Context, m domain.Message) error
	// ClaimSends leases up to limit outbound messages due to be sent through their channel
	// until leaseUntil and returns them, oldest first. A message is due when it is outbound,
	// pending, sent by a bot, an agent or Baton itself (an acknowledgement), its NextAttemptTime and any lease are at or before
	// now, and no earlier pending outbound message of its conversation exists (so each
	// conversation's messages leave in order, one at a time).
	ClaimSends(ctx context.Context, now, leaseUntil time.Time, limit int) ([]domain.Message, error)
	// ListOutboundUntil lists up to limit outbound messages of a conversation created at or
	// before t whose status is one of statuses, oldest first: what a read or delivery
	// watermark covers.
	ListOutboundUntil(ctx context.Context, conversationID string, t time.Time, statuses []domain.DeliveryStatus, limit int) ([]domain.Message, error)
	GetMessageByRequestID(ctx context.Context, conversationID, requestID string) (domain.Message, error)
	// ListMessages lists a conversation's messages oldest first.
	ListMessages(ctx context.Context, conversationID string, p Page) ([]domain.Message, string, error)
	// RecentInbound returns the conversation's newest inbound messages, at most limit, oldest
	// first: what routing rules read the customer's words in.
	RecentInbound(ctx context.Context, conversationID string, limit int) ([]domain.Message, error)
	// LastMessages returns the newest message of each conversation named, in one query, keyed
	// by conversation id; a conversation without messages has no entry.
	LastMessages(ctx context.Context, conversationIDs []string) (map[string]domain.Message, error)

	// CreateHandover inserts a handover; ErrDuplicate on (conversation, request id).
	CreateHandover(ctx context.Context, h domain.Handover) error
	// UpdateHandover overwrites a handover (handovers carry no revision: they are only
	// changed under the conversation's serialisation).
	UpdateHandover(ctx context.Context, h domain.Handover) error
	GetHandover(ctx context.Context, id string) (domain.Handover, error)
	GetHandoverByRequestID(ctx context.Context, conversationID, requestID string) (domain.Handover, error)
	// ListHandovers lists handovers newest first, oldest first when q.OldestFirst is set, or as
	// waiting handovers are offered when q.ByPriority is set.
	ListHandovers(ctx context.Context, q HandoverQuery, p Page) ([]domain.Handover, string, error)
	// CountHandovers counts the handovers q selects.
	CountHandovers(ctx context.Context, q HandoverQuery) (int, error)
	// Gauges reads the counts the operator's gauges show (see Gauges).
	Gauges(ctx context.Context) (Gauges, error)

	// AppendEvents stores events in order. Each gets a Sequence greater than every sequence
	// before it, either at once (returned set) or as the transaction commits (returned 0). A
	// store that numbers them at commit may hold them back until then: the transaction's other
	// reads (but ListOwnerChanges) may not see them or their deliveries, and the webhooks they
	// are delivered to are those subscribed at commit.
	// In the same transaction it records a pending delivery (due at the event's Time, with
	// the context's trace parent) for every webhook that subscribes to the event, as
	// domain.Webhook.Subscribes says.
	AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error)
	// GetEvents returns the committed events with the given ids, in sequence order; ids that
	// match none are left out.
	GetEvents(ctx context.Context, ids []string) ([]domain.Event, error)
	// ListEvents returns up to limit committed events with Sequence > after that match the
	// filter, in sequence order. Events deleted by retention are skipped: a reader that must not
	// skip them unknowingly asks EventsGone in the same transaction.
	ListEvents(ctx context.Context, after uint64, f EventFilter, limit int) ([]domain.Event, error)
	// SweptThrough returns the highest sequence retention deleted among the events the filter
	// may select (DeleteEventsBefore's marks): every event at or below it may be gone. A filter
	// by channel or conversation reads that channel's mark; any other filter, every channel's.
	SweptThrough(ctx context.Context, f EventFilter) (uint64, error)
	// LastSequence returns the highest committed sequence (0 when none).
	LastSequence(ctx context.Context) (uint64, error)
	// ListOwnerChanges returns a conversation's owner-change events, the transaction's own
	// included, in the order they were stored (a conversation's writes are serialised, so that
	// is commit order).
	ListOwnerChanges(ctx context.Context, conversationID string) ([]domain.Event, error)

	// CreateWebhook inserts a webhook; ErrDuplicate when its bot has one already.
	CreateWebhook(ctx context.Context, w domain.Webhook) error
	GetWebhook(ctx context.Context, id string) (domain.Webhook, error)
	// ListWebhooks lists webhooks oldest first, only the bot's when botID is not empty.
	ListWebhooks(ctx context.Context, botID string, p Page) ([]domain.Webhook, string, error)
	UpdateWebhook(ctx context.Context, w domain.Webhook) error
	// DeleteWebhook deletes a webhook with its deliveries and their attempts.
	DeleteWebhook(ctx context.Context, id string) error

	// ClaimDeliveries leases up to limit due deliveries until leaseUntil and returns them,
	// oldest first. A delivery is due when it is pending, its NextAttemptTime and any lease
	// are at or before now, its webhook is active, and no earlier
	// pending delivery of the same webhook and conversation exists (so each conversation's
	// deliveries leave in order, one at a time). Concurrent claims never return one delivery
	// twice while its lease holds.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]domain.Delivery, error)
	// GetDelivery returns a delivery; in Write it is locked as GetConversation locks.
	GetDelivery(ctx context.Context, id string) (domain.Delivery, error)
	// GetDeliveries returns the deliveries with the given ids in id order, locked in Write
	// (all of them, in that order); ids that match none are left out.
	GetDeliveries(ctx context.Context, ids []string) ([]domain.Delivery, error)
	// ListDeliveries lists deliveries newest first.
	ListDeliveries(ctx context.Context, q DeliveryQuery, p Page) ([]domain.Delivery, string, error)
	// UpdateDeliveries overwrites each delivery's state, counters, times and lease, in one
	// statement; NotFound when one of them does not exist.
	UpdateDeliveries(ctx context.Context, ds []domain.Delivery) error
	// RequeueDeliveries applies domain.Redeliver at now to every delivery q selects and
	// returns how many.
	RequeueDeliveries(ctx context.Context, q DeliveryQuery, now time.Time) (int, error)
	// AddAttempts appends attempts to their deliveries' logs, in one statement.
	AddAttempts(ctx context.Context, as []domain.Attempt) error
	// ListAttempts returns the attempts of each delivery, oldest first, keyed by delivery id.
	ListAttempts(ctx context.Context, deliveryIDs []string) (map[string][]domain.Attempt, error)

	// RememberRequest records that (scope, key) produced resourceID; ErrDuplicate if known.
	RememberRequest(ctx context.Context, scope, key, resourceID string, now time.Time) error
	// LookupRequest returns the resource id recorded for (scope, key), or "" when none.
	LookupRequest(ctx context.Context, scope, key string) (string, error)

	CreateAPIKey(ctx context.Context, k domain.APIKey) error
	GetAPIKey(ctx context.Context, id string) (domain.APIKey, error)
	ListAPIKeys(ctx context.Context, p Page) ([]domain.APIKey, string, error)
	DeleteAPIKey(ctx context.Context, id string) error

	// AcquireLease takes the named lease for holder until the given time when it is free at
	// now (never taken, or expired) or already the holder's, and reports whether the holder
	// holds it. It elects one worker among replicas (the retention sweeper).
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// The retention sweep's deletions. Each deletes at most limit of one channel's oldest rows
	// created before a time, and returns how many it deleted.
	//
	// DeleteMessagesBefore deletes messages, but those still waiting to be sent.
	DeleteMessagesBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error)
	// DeleteEventsBefore deletes the channel's events (channelID "" for those of no channel)
	// in sequence order up to the first created at or after before, never the last event
	// stored, and raises the channel's swept mark to the highest sequence it deleted: what
	// ListEvents reads to tell what is gone.
	DeleteEventsBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error)
	// DeleteDeliveriesBefore deletes ended (not pending) deliveries of the channel's events with
	// their attempts.
	DeleteDeliveriesBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error)
	// DeleteClosedConversationsBefore deletes closed conversations with no live handover whose
	// last activity is before the time, with their messages and handovers. (Their contacts
	// stay.)
	DeleteClosedConversationsBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error)
	// CreateErasure records that a contact's erasure started; ErrDuplicate when it did before.
	CreateErasure(ctx context.Context, e domain.Erasure) error
	// GetErasure returns the erasure of a contact (NotFoundError when none started).
	GetErasure(ctx context.Context, contactID string) (domain.Erasure, error)
	// CompleteErasure sets the erasure's CompleteTime.
	CompleteErasure(ctx context.Context, contactID string, t time.Time) error
	// ListUnfinishedErasures lists up to limit erasures not complete, oldest first.
	ListUnfinishedErasures(ctx context.Context, limit int) ([]domain.Erasure, error)
	// EraseMessages overwrites the messages given (by ID) with their tombstones: Content,
	// ChannelMessageID, Error, Status, LeaseExpireTime and Erased, as domain.EraseMessage makes
	// them. (A conversation's handovers are erased with UpdateHandover.)
	EraseMessages(ctx context.Context, messages []domain.Message) error
	// ListContactEvents lists up to limit events after a sequence, in sequence order, that
	// concern a contact without concerning a conversation (contact-wide mutes): those with no
	// conversation on the contact's channel whose ContactID is the contact's.
	ListContactEvents(ctx context.Context, channelID, contactID string, after uint64, limit int) ([]domain.Event, error)
	// RewriteEvents overwrites stored events, found by Sequence, with the events given. The log
	// is append-only but for this: an erasure replaces events by their tombstones.
	RewriteEvents(ctx context.Context, events []domain.Event) error

	// Due lists what the timers must act on at now, at most limit of each.
	DueMutedConversations(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error)
	DueMutedContacts(ctx context.Context, now time.Time, limit int) ([]domain.Contact, error)
	// DueIdleConversations lists open conversations whose LastActivityTime plus their
	// channel's SessionTimeout is at or before now.
	DueIdleConversations(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error)
	// DueOffers lists offered handovers whose OfferExpireTime is at or before now.
	DueOffers(ctx context.Context, now time.Time, limit int) ([]domain.Handover, error)
	// DueUnanswered lists open conversations whose UnansweredDeadline is set and at or
	// before now.
	DueUnanswered(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error)
	// DueSLA lists live handovers whose SLAWaitDeadline (while waiting) or SLAReplyDeadline is
	// set and at or before now.
	DueSLA(ctx context.Context, now time.Time, limit int) ([]domain.Handover, error)
}

// InboundQuery names an inbound message: what LoadInbound reads.
type InboundQuery struct{ ChannelID, ChannelMessageID, ContactExternalID string }

// Key names the conversation the message goes to: the contact's, on the channel.
func (q InboundQuery) Key() string { return q.ChannelID + "\x00" + q.ContactExternalID }

// Inbound is what LoadInbound reads. Pointers are nil when there is no such row.
type Inbound struct {
	Channel      domain.Channel
	Bot          *domain.Bot // the channel's bot, without ChannelIDs
	Message      *domain.Message
	Contact      *domain.Contact
	Conversation *domain.Conversation // the contact's
	Active       *domain.Handover     // the conversation's ActiveHandoverID
}

// InboundRow is what a backend's outer join for LoadInbound scans into: a part whose ID came
// back empty (NULL) is a missing row, since stored ids are never empty.
type InboundRow struct {
	Channel      domain.Channel
	Bot          domain.Bot
	Message      domain.Message
	Contact      domain.Contact
	Conversation domain.Conversation
	Active       domain.Handover
}

// Inbound is what the row says, missing parts as nil.
func (r *InboundRow) Inbound() Inbound {
	return Inbound{
		Channel:      r.Channel,
		Bot:          present(&r.Bot, r.Bot.ID),
		Message:      present(&r.Message, r.Message.ID),
		Contact:      present(&r.Contact, r.Contact.ID),
		Conversation: present(&r.Conversation, r.Conversation.ID),
		Active:       present(&r.Active, r.Active.ID),
	}
}

func present[T any](row *T, id string) *T {
	if id == "" {
		return nil
	}
	return row
}

// AgentQuery filters agents. Zero fields match everything.
type AgentQuery struct {
	QueueID  string
	Presence domain.Presence
}

// ContactQuery filters contacts. Query is a case-insensitive substring of the display name or
// external id.
type ContactQuery struct {
	ChannelID string
	Query     string
}

// ConversationQuery filters conversations. Zero fields match everything. Results are ordered
// by LastActivityTime descending, then ID descending.
type ConversationQuery struct {
	OwnerKind    domain.OwnerKind
	OwnerID      string
	Status       domain.ConversationStatus
	State        domain.ConversationState
	ChannelID    string
	ChannelIDs   []string // restricts to these channels when non-nil (access scoping)
	ContactID    string
	Language     string
	Tag          string
	ActiveAfter  time.Time // LastActivityTime >= ActiveAfter
	ActiveBefore time.Time // LastActivityTime < ActiveBefore
	// UnansweredSince selects conversations whose last inbound message is at or before it
	// and later than the last outbound message.
	UnansweredSince time.Time
	// SLABreached selects conversations that breached a queue's SLA (true) or never did
	// (false); nil selects both.
	SLABreached *bool
}

// HandoverQuery filters handovers. Zero fields match everything.
type HandoverQuery struct {
	ConversationID string
	QueueID        string
	QueueIDs       []string // restricts to these queues when non-nil (an agent's queues)
	AgentID        string   // engaged agent or offered agent
	NotOfferedTo   string   // leaves out the handovers offered to this agent
	States         []domain.HandoverState
	// OldestFirst orders a list by creation time ascending: the longest waiting first.
	OldestFirst bool
	// ByPriority orders a list as waiting handovers are offered: the highest Priority first,
	// then the longest waiting (creation time ascending), then id. It overrides OldestFirst.
	ByPriority bool
}

// DeliveryQuery filters deliveries. WebhookID is required; other zero fields match everything.
type DeliveryQuery struct {
	WebhookID      string
	ConversationID string
	States         []domain.DeliveryState
	CreatedAfter   time.Time // CreateTime >= CreatedAfter
	CreatedBefore  time.Time // CreateTime < CreatedBefore
}

// EventFilter filters events. Zero fields match everything.
type EventFilter struct {
	ConversationID string
	BotID          string
	ChannelID      string
	Types          []domain.EventType
}

// Selects tells whether the filter selects e, as ListEvents would: what a live stream uses
// for the events dispatched to it from memory.
func (f EventFilter) Selects(e domain.Event) bool {
	return (f.ConversationID == "" || f.ConversationID == e.ConversationID) &&
		(f.BotID == "" || f.BotID == e.BotID) &&
		(f.ChannelID == "" || f.ChannelID == e.ChannelID) &&
		(len(f.Types) == 0 || slices.Contains(f.Types, e.Type))
}

// EventsGone returns *domain.EventsGoneError when events f may select after the sequence were
// deleted by retention; call it after ListEvents in the same transaction, so that a sweep that
// deleted what the list would have returned shows in the marks.
func EventsGone(ctx context.Context, tx Tx, after uint64, f EventFilter) error {
	through, err := tx.SweptThrough(ctx, f)
	if err != nil {
		return err
	}
	if after < through {
		return &domain.EventsGoneError{After: after, Earliest: through + 1}
	}
	return nil
}

// Gauges is a snapshot of the work waiting and of the people to do it, read for metrics.
type Gauges struct {
	// Queues holds every queue, in id order, with its conversations waiting (handovers
	// requested or offered).
	Queues []QueueGauge
	// Agents counts agents by presence.
	Agents map[domain.Presence]int
	// OnlineCapacity sums the capacity of the online agents.
	OnlineCapacity int
	// Engaged counts the accepted handovers: the conversations agents are answering.
	Engaged int
	// Deliveries counts webhook deliveries by state.
	Deliveries map[domain.DeliveryState]int
	// Outbox counts the outbound messages waiting to be sent through their channel;
	// OutboxOldest is when the oldest of them was stored (zero when none waits).
	Outbox       int
	OutboxOldest time.Time
}

// QueueGauge is how many conversations wait in one queue, and since when the oldest (zero
// when none waits).
type QueueGauge struct {
	QueueID string
	Waiting int
	Oldest  time.Time
}

// PoolStats are one database connection pool's figures, read for metrics.
type PoolStats struct {
	Pool             string
	Max, InUse, Idle int
	// Waits counts the times a transaction waited for a free connection, WaitTime how long
	// they waited in all, since the pool opened.
	Waits    int64
	WaitTime time.Duration
}

// Pooled is a store with connection pools.
type Pooled interface {
	PoolStats() []PoolStats
}
