package postgres

import (
	"context"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var conversationColumns = []string{
	"id", "channel_id", "contact_id", "bot_id", "owner_kind", "owner_id", "epoch", "state", "status", "tags",
	"language", "active_handover_id", "bot_enabled", "bot_muted_until", "last_activity_time",
	"last_inbound_time", "last_outbound_time", "external_owner_time", "create_time", "update_time",
	"not_understood_count", "unanswered_deadline", "sla_breach_time", "entry_point", "revision",
}

var (
	selectConversation        = "SELECT " + columns("c", conversationColumns) + " FROM conversations c"
	insertConversation        = insertSQL("conversations", conversationColumns)
	updateConversation        = updateSQL("conversations", conversationColumns)
	checkedUpdateConversation = checkedUpdateSQL("conversations", conversationColumns)
)

// conversationOrder is the documented order of conversation lists: most recently active first.
var conversationOrder = order{time: "c.last_activity_time", id: "c.id", desc: true}

// lockRow ends the SELECT of a row in a Write (a conversation, or what Lock locks). It takes
// the lock that the transaction's UPDATE of the row would take anyway, only sooner: another
// Write that reads the row so waits until this one commits, then reads what it committed. That
// is how Writes on one conversation are serialised. (NO KEY: inserts that merely reference the
// row, like a conversation's messages, are not held up.)
const lockRow = " FOR NO KEY UPDATE"

func conversationArgs(c domain.Conversation) []any {
	return []any{
		c.ID, c.ChannelID, c.ContactID, c.BotID, c.Owner.Kind, c.Owner.ID, c.Epoch, c.State, c.Status, jsonList(c.Tags),
		c.Language, c.ActiveHandoverID, c.BotEnabled, c.BotMutedUntil, c.LastActivityTime,
		c.LastInboundTime, c.LastOutboundTime, c.ExternalOwnerTime, c.CreateTime, c.UpdateTime,
		c.NotUnderstoodCount, c.UnansweredDeadline, c.SLABreachTime, c.EntryPoint, c.Revision,
	}
}

// conversationFields lists where conversationColumns scan to.
func conversationFields(c *domain.Conversation) []any {
	return []any{
		&c.ID, &c.ChannelID, &c.ContactID, &c.BotID, &c.Owner.Kind, &c.Owner.ID, &c.Epoch, &c.State, &c.Status, jsonCol(&c.Tags),
		&c.Language, &c.ActiveHandoverID, &c.BotEnabled, &c.BotMutedUntil, &c.LastActivityTime,
		&c.LastInboundTime, &c.LastOutboundTime, &c.ExternalOwnerTime, &c.CreateTime, &c.UpdateTime,
		&c.NotUnderstoodCount, &c.UnansweredDeadline, &c.SLABreachTime, &c.EntryPoint, &c.Revision,
	}
}

func scanConversation(s scanner) (c domain.Conversation, err error) {
	err = s.Scan(conversationFields(&c)...)
	return c, err
}

func conversationCursor(c domain.Conversation) cursor {
	return cursor{T: c.LastActivityTime, ID: c.ID}
}

func (t *tx) CreateConversation(ctx context.Context, c domain.Conversation) error {
	return t.insert(ctx, "conversation", insertConversation, conversationArgs(c)...)
}

func (t *tx) GetConversation(ctx context.Context, id string) (domain.Conversation, error) {
	return getOne(ctx, t, scanConversation, "conversation", id, t.lock(selectConversation+" WHERE c.id = $1"), id)
}

func (t *tx) GetConversationByContact(ctx context.Context, contactID string) (domain.Conversation, error) {
	return getOne(ctx, t, scanConversation, "conversation", contactID, t.lock(selectConversation+" WHERE c.contact_id = $1"), contactID)
}

// lock makes a query lock the row it reads (a conversation, a delivery) in a Write transaction;
// in a Read it has nothing to serialise (and a read-only transaction may not lock).
func (t *tx) lock(query string) string {
	if t.write {
		return query + lockRow
	}
	return query
}

func (t *tx) ListConversations(ctx context.Context, cq store.ConversationQuery, p store.Page) ([]domain.Conversation, string, error) {
	q := query{head: selectConversation}
	equal := []struct {
		col   string
		value string
	}{
		{"c.owner_kind", string(cq.OwnerKind)},
		{"c.owner_id", cq.OwnerID},
		{"c.status", string(cq.Status)},
		{"c.state", string(cq.State)},
		{"c.channel_id", cq.ChannelID},
		{"c.contact_id", cq.ContactID},
		{"c.language", cq.Language},
	}
	for _, e := range equal {
		if e.value != "" {
			q.where(e.col + " = " + q.arg(e.value))
		}
	}
	if cq.ChannelIDs != nil {
		q.where("c.channel_id = ANY (" + q.arg(cq.ChannelIDs) + ")") // an empty list matches nothing
	}
	if cq.Tag != "" {
		q.where("c.tags ? " + q.arg(cq.Tag)) // jsonb: the array holds this string
	}
	if !cq.ActiveAfter.IsZero() {
		q.where("c.last_activity_time >= " + q.arg(cq.ActiveAfter))
	}
	if !cq.ActiveBefore.IsZero() {
		q.where("c.last_activity_time < " + q.arg(cq.ActiveBefore))
	}
	if !cq.UnansweredSince.IsZero() {
		// A zero inbound time is year 1 and so never later than the outbound one.
		q.where("c.last_inbound_time <= " + q.arg(cq.UnansweredSince) + " AND c.last_inbound_time > c.last_outbound_time")
	}
	if cq.SLABreached != nil {
		op := map[bool]string{true: " != ", false: " = "}[*cq.SLABreached]
		q.where("c.sla_breach_time" + op + notSet)
	}
	return getPage(ctx, t, q, conversationOrder, p, scanConversation, conversationCursor)
}

// UpdateConversation is deferred in a Write: every caller of the application passes its error
// on, so it is the Write's, and ingest saves a round trip.
func (t *tx) UpdateConversation(ctx context.Context, c domain.Conversation) error {
	if t.write {
		t.deferUpdate("conversation", checkedUpdateConversation, c.ID, conversationArgs(c))
		return nil
	}
	return t.update(ctx, "conversation", updateConversation, c.ID, conversationArgs(c))
}

func (t *tx) TouchExternalOwnerTime(ctx context.Context, id string, at time.Time) error {
	return t.exec(ctx, "touch", "conversation", id, "UPDATE conversations SET external_owner_time = $2 WHERE id = $1", id, at)
}
