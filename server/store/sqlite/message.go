package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var messageColumns = []string{
	"id", "conversation_id", "channel_id", "direction", "sender_kind", "sender_id", "content",
	"channel_message_id", "request_id", "status", "epoch", "create_time",
}

var selectMessage = "SELECT " + columns("m", messageColumns) + " FROM messages m"

// messageArgs stores Content as text, byte for byte.
func messageArgs(m domain.Message) []any {
	return []any{
		m.ID, m.ConversationID, m.ChannelID, m.Direction, m.Sender.Kind, m.Sender.ID, string(m.Content),
		m.ChannelMessageID, m.RequestID, m.Status, int64(m.Epoch), nanos(m.CreateTime),
	}
}

// messageFields lists where messageColumns scan to.
func messageFields(m *domain.Message) []any {
	return []any{
		&m.ID, &m.ConversationID, &m.ChannelID, &m.Direction, &m.Sender.Kind, &m.Sender.ID, contentCol{&m.Content},
		&m.ChannelMessageID, &m.RequestID, &m.Status, &m.Epoch, timeCol{&m.CreateTime},
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
