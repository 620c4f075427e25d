package sqlite

import (
	"cmp"
	"context"
	"encoding/json"
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

var selectMessage = "SELECT " + columns("m", messageColumns) + " FROM messages m"

// messageArgs stores Content as text, byte for byte.
func messageArgs(m domain.Message) []any {
	return []any{
		m.ID, m.ConversationID, m.ChannelID, m.Direction, m.Sender.Kind, m.Sender.ID, string(m.Content),
		m.ChannelMessageID, m.RequestID, m.Status, m.Error, int64(m.Epoch), nanos(m.CreateTime),
		m.Attempts, nanos(m.NextAttemptTime), nanos(m.LeaseExpireTime), m.Erased,
	}
}

// messageFields lists where messageColumns scan to.
func messageFields(m *domain.Message) []any {
	return []any{
		&m.ID, &m.ConversationID, &m.ChannelID, &m.Direction, &m.Sender.Kind, &m.Sender.ID, contentCol{&m.Content},
		&m.ChannelMessageID, &m.RequestID, &m.Status, &m.Error, &m.Epoch, timeCol{&m.CreateTime},
		&m.Attempts, timeCol{&m.NextAttemptTime}, timeCol{&m.LeaseExpireTime}, &m.Erased,
	}
}

func scanMessage(s scanner) (m domain.Message, err error) {
	err = s.Scan(messageFields(&m)...)
	return m, err
}

// contentCol scans a message's content, stored as text: byte for byte, and nil when empty.
type contentCol struct{ dst *json.RawMessage }

func (c contentCol) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("content column holds %T", src)
	}
	*c.dst = nil
	if s != "" {
		*c.dst = json.RawMessage(s)
	}
	return nil
}

func (t *tx) CreateMessage(ctx context.Context, m domain.Message) error {
	return t.insert(ctx, "message", insertSQL("messages", messageColumns), messageArgs(m)...)
}

func (t *tx) GetMessage(ctx context.Context, id string) (domain.Message, error) {
	return getOne(ctx, t, scanMessage, "message", id, selectMessage+" WHERE m.id = ?", id)
}

// UpdateMessage clashes when it gives the message a channel message id another message of its
// channel has; the statement alone fails, and the transaction goes on.
func (t *tx) UpdateMessage(ctx context.Context, m domain.Message) error {
	res, err := t.exec(ctx, `UPDATE messages SET status = ?, error = ?, channel_message_id = ?,
		attempts = ?, next_attempt_time = ?, lease_expire_time = ? WHERE id = ?`,
		m.Status, m.Error, m.ChannelMessageID, m.Attempts, nanos(m.NextAttemptTime), nanos(m.LeaseExpireTime), m.ID)
	if err := writeErr("update", "message", err); err != nil {
		return err
	}
	return affected(res, "message", m.ID)
}

// GetMessageByChannelMessageID never finds a message by the empty id, which is not a key. The
// query repeats "!= ”" so that SQLite may use the partial unique index.
func (t *tx) GetMessageByChannelMessageID(ctx context.Context, channelID, channelMessageID string) (domain.Message, error) {
	if channelMessageID == "" {
		return domain.Message{}, domain.NotFound("message", channelMessageID)
	}
	return getOne(ctx, t, scanMessage, "message", channelMessageID,
		selectMessage+" WHERE m.channel_id = ? AND m.channel_message_id = ? AND m.channel_message_id != ''", channelID, channelMessageID)
}

// GetMessageByRequestID never finds a message by the empty id, which is not a key.
func (t *tx) GetMessageByRequestID(ctx context.Context, conversationID, requestID string) (domain.Message, error) {
	if requestID == "" {
		return domain.Message{}, domain.NotFound("message", requestID)
	}
	return getOne(ctx, t, scanMessage, "message", requestID,
		selectMessage+" WHERE m.conversation_id = ? AND m.request_id = ? AND m.request_id != ''", conversationID, requestID)
}

func (t *tx) ListMessages(ctx context.Context, conversationID string, p store.Page) ([]domain.Message, string, error) {
	q := query{head: selectMessage}
	q.where("m.conversation_id = ?", conversationID)
	return getPage(ctx, t, q, order{time: "m.create_time", id: "m.id"}, p, scanMessage,
		func(m domain.Message) cursor { return cursor{T: nanos(m.CreateTime), ID: m.ID} })
}

// RecentInbound reads messages_conversation backwards.
func (t *tx) RecentInbound(ctx context.Context, conversationID string, limit int) ([]domain.Message, error) {
	msgs, err := getAll(ctx, t, scanMessage, selectMessage+` WHERE m.conversation_id = ? AND m.direction = ?
		ORDER BY m.create_time DESC, m.id DESC LIMIT ? + 0`, conversationID, domain.Inbound, limitOr(limit))
	slices.Reverse(msgs)
	return msgs, err
}

// LastMessages seeks, for each conversation, its newest message in messages_conversation.
func (t *tx) LastMessages(ctx context.Context, conversationIDs []string) (map[string]domain.Message, error) {
	out := make(map[string]domain.Message, len(conversationIDs))
	if len(conversationIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(conversationIDs))
	for i, id := range conversationIDs {
		args[i] = id
	}
	list, err := getAll(ctx, t, scanMessage, selectMessage+` WHERE m.id IN (
		SELECT (SELECT l.id FROM messages l WHERE l.conversation_id = c.id
			ORDER BY l.create_time DESC, l.id DESC LIMIT 1)
		FROM conversations c WHERE c.id IN (`+placeholders(len(args))+`))`, args...)
	for _, m := range list {
		out[m.ConversationID] = m
	}
	return out, err
}

// openOutbound is the condition of the index messages_outbound_open on messages m, as the
// index writes it: a query that repeats it may use the index.
const openOutbound = "m.direction = 'outbound' AND (m.status = 'pending' OR m.status = 'sent' OR m.status = 'delivered')"

// openStatuses are the statuses messages_outbound_open holds.
var openStatuses = []domain.DeliveryStatus{domain.DeliveryPending, domain.DeliverySent, domain.DeliveryDelivered}

// claimSends leases the oldest due outbound messages (?1 now, ?2 limit) until ?3 and returns
// them. It walks the pending outbound messages in order (messages_sends) and stops at the
// limit: the oldest pending ones are mostly their conversation's head, so it costs about its
// size, not the backlog's. A message is its conversation's head when no pending outbound
// message of the conversation, leased or not, due or not, comes before it in (create_time, id)
// order, which one seek into messages_outbound_open tells. Writes are serialised, so no other
// claim runs between the statement's read and its write.
var claimSends = `UPDATE messages SET lease_expire_time = ?3
	WHERE id IN (SELECT m.id FROM messages m INDEXED BY messages_sends
		WHERE m.direction = 'outbound' AND m.status = 'pending'
			AND m.next_attempt_time <= ?1 AND m.lease_expire_time <= ?1
			AND m.sender_kind IN ('bot', 'agent', 'system')
			AND NOT EXISTS (SELECT 1 FROM messages p INDEXED BY messages_outbound_open
				WHERE p.conversation_id = m.conversation_id AND p.status = 'pending'
					AND p.direction = 'outbound' AND (p.create_time, p.id) < (m.create_time, m.id))
		ORDER BY m.create_time, m.id LIMIT ?2 + 0)
	RETURNING ` + strings.Join(messageColumns, ", ")

func (t *tx) ClaimSends(ctx context.Context, now, leaseUntil time.Time, limit int) ([]domain.Message, error) {
	out, err := getAll(ctx, t, scanMessage, claimSends, nanos(now), limitOr(limit), nanos(leaseUntil))
	if err != nil {
		return nil, err
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(out, compareMessages)
	return out, nil
}

// compareMessages orders messages oldest first, as lists do.
func compareMessages(a, b domain.Message) int {
	return cmp.Or(a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
}

// ListOutboundUntil walks the conversation's messages in order, through messages_outbound_open
// when it holds every status asked for (the query then repeats its condition).
func (t *tx) ListOutboundUntil(ctx context.Context, conversationID string, until time.Time, statuses []domain.DeliveryStatus, limit int) ([]domain.Message, error) {
	q := query{head: selectMessage}
	q.where("m.conversation_id = ?", conversationID)
	q.where("m.direction = 'outbound'")
	q.where("m.create_time <= ?", nanos(until))
	whereIn(&q, "m.status", statuses)
	if len(statuses) > 0 && allIn(statuses, openStatuses) {
		q.where(openOutbound)
	}
	return getAll(ctx, t, scanMessage, q.sql()+" ORDER BY m.create_time, m.id LIMIT ? + 0", append(q.args, limitOr(limit))...)
}

func allIn[S comparable](values, set []S) bool {
	for _, v := range values {
		if !slices.Contains(set, v) {
			return false
		}
	}
	return true
}
