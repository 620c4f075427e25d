package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var messageColumns = []string{
	"id", "conversation_id", "channel_id", "direction", "sender_kind", "sender_id", "content",
	"channel_message_id", "request_id", "status", "error", "epoch", "create_time",
	"attempts", "next_attempt_time", "lease_expire_time", "erased",
}

var (
	selectMessage    = "SELECT " + columns("m", messageColumns) + " FROM messages m"
	insertMessage    = insertSQL("messages", messageColumns)
	insertNewMessage = failingInsertSQL("messages", messageColumns)
)

// messageArgs stores Content in a json column, which keeps it byte for byte.
func messageArgs(m domain.Message) []any {
	return []any{
		m.ID, m.ConversationID, m.ChannelID, m.Direction, m.Sender.Kind, m.Sender.ID, rawJSON(m.Content),
		m.ChannelMessageID, m.RequestID, m.Status, m.Error, m.Epoch, m.CreateTime,
		m.Attempts, m.NextAttemptTime, m.LeaseExpireTime, m.Erased,
	}
}

// messageFields lists where messageColumns scan to. Content goes in as plain bytes, which pgx
// copies verbatim (NULL is nil).
func messageFields(m *domain.Message) []any {
	return []any{
		&m.ID, &m.ConversationID, &m.ChannelID, &m.Direction, &m.Sender.Kind, &m.Sender.ID, (*[]byte)(&m.Content),
		&m.ChannelMessageID, &m.RequestID, &m.Status, &m.Error, &m.Epoch, &m.CreateTime,
		&m.Attempts, &m.NextAttemptTime, &m.LeaseExpireTime, &m.Erased,
	}
}

func scanMessage(s scanner) (m domain.Message, err error) {
	err = s.Scan(messageFields(&m)...)
	return m, err
}

// CreateMessage defers the insert of the message LoadInbound found new (tx.fresh): its
// conversation has been locked since, so no other Write can have stored it meanwhile, and it
// goes out with the next statement or the COMMIT. Should its keys clash all the same (the same
// channel message id from another contact, say), that fails, and the Write returns
// store.ErrDuplicate.
func (t *tx) CreateMessage(ctx context.Context, m domain.Message) error {
	if t.fresh.conversationID != "" && t.fresh == (freshMessage{m.ChannelID, m.ChannelMessageID, m.ConversationID}) {
		t.fresh = freshMessage{}
		t.tx.Defer(func(err error) error { return writeErr("create", "message", err) }, insertNewMessage, messageArgs(m)...)
		return nil
	}
	return t.insert(ctx, "message", insertMessage, messageArgs(m)...)
}

// lastMessages seeks, for each conversation id of $1, its newest message in
// messages_conversation.
var lastMessages = "SELECT " + columns("m", messageColumns) + ` FROM unnest($1::text[]) AS c(id)
	CROSS JOIN LATERAL (SELECT * FROM messages l WHERE l.conversation_id = c.id
		ORDER BY l.create_time DESC, l.id DESC LIMIT 1) m`

func (t *tx) LastMessages(ctx context.Context, conversationIDs []string) (map[string]domain.Message, error) {
	out := make(map[string]domain.Message, len(conversationIDs))
	if len(conversationIDs) == 0 {
		return out, nil
	}
	list, err := getAll(ctx, t, scanMessage, lastMessages, conversationIDs)
	for _, m := range list {
		out[m.ConversationID] = m
	}
	return out, err
}

func (t *tx) GetMessage(ctx context.Context, id string) (domain.Message, error) {
	return getOne(ctx, t, scanMessage, "message", id, selectMessage+" WHERE m.id = $1", id)
}

// updateMessage overwrites what changes as a message is sent and its receipts come ($1 the id),
// unless the channel message id $4 is another message's of its channel: like an insert's ON
// CONFLICT DO NOTHING, that clash leaves the transaction usable. It returns whether it updated
// the message and whether the message exists. (A clash with a message inserted concurrently,
// not committed when the statement began, still fails the statement, which aborts the
// transaction: see writeErr.)
const updateMessage = `WITH updated AS (
		UPDATE messages m SET status = $2, error = $3, channel_message_id = $4,
			attempts = $5, next_attempt_time = $6, lease_expire_time = $7
		WHERE m.id = $1 AND NOT EXISTS (SELECT 1 FROM messages o
			WHERE o.channel_id = m.channel_id AND o.channel_message_id = $4
				AND o.channel_message_id != '' AND o.id != m.id)
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM updated), EXISTS (SELECT 1 FROM messages WHERE id = $1)`

func (t *tx) UpdateMessage(ctx context.Context, m domain.Message) error {
	err := t.update(ctx, "message", updateMessage, m.ID, []any{
		m.ID, m.Status, m.Error, m.ChannelMessageID, m.Attempts, m.NextAttemptTime, m.LeaseExpireTime,
	})
	if errors.Is(err, store.ErrConflict) { // the message exists: its channel message id clashed
		return fmt.Errorf("%w message", store.ErrDuplicate)
	}
	return err
}

// GetMessageByChannelMessageID never finds a message by the empty id, which is not a key. The
// query repeats the index's condition so that PostgreSQL may use the partial unique index.
func (t *tx) GetMessageByChannelMessageID(ctx context.Context, channelID, channelMessageID string) (domain.Message, error) {
	if channelMessageID == "" {
		return domain.Message{}, domain.NotFound("message", channelMessageID)
	}
	return getOne(ctx, t, scanMessage, "message", channelMessageID,
		selectMessage+" WHERE m.channel_id = $1 AND m.channel_message_id = $2 AND m.channel_message_id != ''", channelID, channelMessageID)
}

// GetMessageByRequestID never finds a message by the empty id, which is not a key.
func (t *tx) GetMessageByRequestID(ctx context.Context, conversationID, requestID string) (domain.Message, error) {
	if requestID == "" {
		return domain.Message{}, domain.NotFound("message", requestID)
	}
	return getOne(ctx, t, scanMessage, "message", requestID,
		selectMessage+" WHERE m.conversation_id = $1 AND m.request_id = $2 AND m.request_id != ''", conversationID, requestID)
}

func (t *tx) ListMessages(ctx context.Context, conversationID string, p store.Page) ([]domain.Message, string, error) {
	q := query{head: selectMessage}
	q.where("m.conversation_id = " + q.arg(conversationID))
	return getPage(ctx, t, q, order{time: "m.create_time", id: "m.id"}, p, scanMessage,
		func(m domain.Message) cursor { return cursor{T: m.CreateTime, ID: m.ID} })
}

// RecentInbound reads messages_conversation backwards.
func (t *tx) RecentInbound(ctx context.Context, conversationID string, limit int) ([]domain.Message, error) {
	msgs, err := getAll(ctx, t, scanMessage, selectMessage+` WHERE m.conversation_id = $1 AND m.direction = $2
		ORDER BY m.create_time DESC, m.id DESC LIMIT $3`, conversationID, domain.Inbound, limitOr(limit))
	slices.Reverse(msgs)
	return msgs, err
}

// openOutbound is the condition of the index messages_outbound_open on messages m, as the
// index writes it: a generic plan of a query that repeats it may use the index.
const openOutbound = "m.direction = 'outbound' AND m.status IN ('pending', 'sent', 'delivered')"

// openStatuses are the statuses messages_outbound_open holds.
var openStatuses = []domain.DeliveryStatus{domain.DeliveryPending, domain.DeliverySent, domain.DeliveryDelivered}

// claimSends locks, leases until $3 and returns the oldest due outbound messages ($1 now, $2
// limit). It walks the pending outbound messages in order (messages_sends) and stops at the
// limit: the oldest pending ones are mostly their conversation's head, so it costs about its
// size, not the backlog's. A message is its conversation's head when no pending outbound
// message of the conversation, leased or not, due or not, comes before it in (create_time, id)
// order, which one probe of messages_outbound_open tells.
//
// Claimers run concurrently, in Write transactions on connections of their own. Each locks the
// rows it picks (SKIP LOCKED: rows another claimer is leasing are passed over, not waited for)
// and writes their lease in the same statement. A row another claimer leased and committed
// after this statement's snapshot is locked in its new version, whose WHERE is checked again:
// its lease is now in the future, so it is left out. So no message is claimed twice while its
// lease holds. A head another transaction is sending meanwhile (locked, or still pending in the
// snapshot) holds the next message of its conversation back until the next claim.
var claimSends = `WITH due AS (
		SELECT m.id FROM messages m
		WHERE m.direction = 'outbound' AND m.status = 'pending'
			AND m.next_attempt_time <= $1 AND m.lease_expire_time <= $1
			AND m.sender_kind IN ('bot', 'agent', 'system')
			AND NOT EXISTS (SELECT 1 FROM messages p
				WHERE p.conversation_id = m.conversation_id AND p.status = 'pending'
					AND p.direction = 'outbound' AND (p.create_time, p.id) < (m.create_time, m.id))
		ORDER BY m.create_time, m.id LIMIT $2
		FOR NO KEY UPDATE OF m SKIP LOCKED)
	UPDATE messages m SET lease_expire_time = $3 FROM due WHERE m.id = due.id
	RETURNING ` + columns("m", messageColumns)

func (t *tx) ClaimSends(ctx context.Context, now, leaseUntil time.Time, limit int) ([]domain.Message, error) {
	out, err := getAll(ctx, t, scanMessage, claimSends, now, limitOr(limit), leaseUntil)
	if err != nil {
		return nil, err
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(out, compareMessages)
	return out, nil
}

// compareMessages orders messages oldest first, as lists do (ids compare byte by byte, as in
// the "C" collation).
func compareMessages(a, b domain.Message) int {
	return cmp.Or(a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
}

// ListOutboundUntil walks the conversation's messages in order, through messages_outbound_open
// when it holds every status asked for (the query then repeats its condition).
func (t *tx) ListOutboundUntil(ctx context.Context, conversationID string, until time.Time, statuses []domain.DeliveryStatus, limit int) ([]domain.Message, error) {
	q := query{head: selectMessage}
	q.where("m.conversation_id = " + q.arg(conversationID))
	q.where("m.direction = 'outbound'")
	q.where("m.create_time <= " + q.arg(until))
	q.where("m.status = ANY (" + q.arg(stringList(statuses)) + ")")
	if len(statuses) > 0 && allIn(statuses, openStatuses) {
		q.where(openOutbound)
	}
	return getAll(ctx, t, scanMessage, q.sql()+" ORDER BY m.create_time, m.id LIMIT "+q.arg(limitOr(limit)), q.args...)
}

func allIn[S comparable](values, set []S) bool {
	for _, v := range values {
		if !slices.Contains(set, v) {
			return false
		}
	}
	return true
}
