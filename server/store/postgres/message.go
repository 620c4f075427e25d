package postgres

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var messageColumns = []string{
	"id", "conversation_id", "channel_id", "direction", "sender_kind", "sender_id", "content",
	"channel_message_id", "request_id", "status", "epoch", "create_time",
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
		m.ChannelMessageID, m.RequestID, m.Status, m.Epoch, m.CreateTime,
	}
}

// messageFields lists where messageColumns scan to. Content goes in as plain bytes, which pgx
// copies verbatim (NULL is nil).
func messageFields(m *domain.Message) []any {
	return []any{
		&m.ID, &m.ConversationID, &m.ChannelID, &m.Direction, &m.Sender.Kind, &m.Sender.ID, (*[]byte)(&m.Content),
		&m.ChannelMessageID, &m.RequestID, &m.Status, &m.Epoch, &m.CreateTime,
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
