package sqlite

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

var selectConversation = "SELECT " + columns("c", conversationColumns) + " FROM conversations c"

// conversationOrder is the documented order of conversation lists: most recently active first.
var conversationOrder = order{time: "c.last_activity_time", id: "c.id", desc: true}

func conversationArgs(c domain.Conversation) []any {
	return []any{
		c.ID, c.ChannelID, c.ContactID, c.BotID, c.Owner.Kind, c.Owner.ID, int64(c.Epoch), c.State, c.Status, jsonList(c.Tags),
		c.Language, c.ActiveHandoverID, c.BotEnabled, nanos(c.BotMutedUntil), nanos(c.LastActivityTime),
		nanos(c.LastInboundTime), nanos(c.LastOutboundTime), nanos(c.ExternalOwnerTime), nanos(c.CreateTime), nanos(c.UpdateTime),
		c.NotUnderstoodCount, nanos(c.UnansweredDeadline), nanos(c.SLABreachTime), c.EntryPoint, c.Revision,
	}
}

// conversationFields lists where conversationColumns scan to.
func conversationFields(c *domain.Conversation) []any {
	return []any{
		&c.ID, &c.ChannelID, &c.ContactID, &c.BotID, &c.Owner.Kind, &c.Owner.ID, &c.Epoch, &c.State, &c.Status, jsonCol(&c.Tags),
		&c.Language, &c.ActiveHandoverID, &c.BotEnabled, timeCol{&c.BotMutedUntil}, timeCol{&c.LastActivityTime},
		timeCol{&c.LastInboundTime}, timeCol{&c.LastOutboundTime}, timeCol{&c.ExternalOwnerTime}, timeCol{&c.CreateTime}, timeCol{&c.UpdateTime},
		&c.NotUnderstoodCount, timeCol{&c.UnansweredDeadline}, timeCol{&c.SLABreachTime}, &c.EntryPoint, &c.Revision,
	}
}

func scanConversation(s scanner) (c domain.Conversation, err error) {
	err = s.Scan(conversationFields(&c)...)
	return c, err
}

func conversationCursor(c domain.Conversation) cursor {
	return cursor{T: nanos(c.LastActivityTime), ID: c.ID}
}

func (t *tx) CreateConversation(ctx context.Context, c domain.Conversation) error {
	return t.insert(ctx, "conversation", insertSQL("conversations", conversationColumns), conversationArgs(c)...)
}

func (t *tx) GetConversation(ctx context.Context, id string) (domain.Conversation, error) {
	return getOne(ctx, t, scanConversation, "conversation", id, selectConversation+" WHERE c.id = ?", id)
}

func (t *tx) GetConversationByContact(ctx context.Context, contactID string) (domain.Conversation, error) {
	return getOne(ctx, t, scanConversation, "conversation", contactID, selectConversation+" WHERE c.contact_id = ?", contactID)
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
			q.where(e.col+" = ?", e.value)
		}
	}
	if cq.ChannelIDs != nil {
		whereIn(&q, "c.channel_id", cq.ChannelIDs)
	}
	if cq.Tag != "" {
		q.where("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)", cq.Tag)
	}
	if !cq.ActiveAfter.IsZero() {
		q.where("c.last_activity_time >= ?", nanos(cq.ActiveAfter))
	}
	if !cq.ActiveBefore.IsZero() {
		q.where("c.last_activity_time < ?", nanos(cq.ActiveBefore))
	}
	if !cq.UnansweredSince.IsZero() {
		// A zero inbound time is 0 and so never later than the outbound one.
		q.where("c.last_inbound_time <= ? AND c.last_inbound_time > c.last_outbound_time", nanos(cq.UnansweredSince))
	}
	if cq.SLABreached != nil {
		q.where(map[bool]string{true: "c.sla_breach_time != 0", false: "c.sla_breach_time = 0"}[*cq.SLABreached])
	}
	return getPage(ctx, t, q, conversationOrder, p, scanConversation, conversationCursor)
}

func (t *tx) UpdateConversation(ctx context.Context, c domain.Conversation) error {
	return t.update(ctx, "conversation", "conversations", c.ID, c.Revision, conversationColumns, conversationArgs(c))
}

func (t *tx) TouchExternalOwnerTime(ctx context.Context, id string, at time.Time) error {
	res, err := t.exec(ctx, "UPDATE conversations SET external_owner_time = ? WHERE id = ?", nanos(at), id)
	if err := writeErr("touch", "conversation", err); err != nil {
		return err
	}
	return affected(res, "conversation", id)
}
