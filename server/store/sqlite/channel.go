package sqlite

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var channelColumns = []string{
	"id", "kind", "external_id", "display_name", "bot_id", "default_queue_id", "session_timeout",
	"credentials", "retention", "create_time", "update_time", "auto_handoff", "revision",
}

var selectChannel = "SELECT " + columns("ch", channelColumns) + " FROM channels ch"

func channelArgs(c domain.Channel) []any {
	return []any{
		c.ID, c.Kind, c.ExternalID, c.DisplayName, c.BotID, c.DefaultQueueID, int64(c.SessionTimeout),
		jsonObject(c.Credentials), jsonObject(c.Retention), nanos(c.CreateTime), nanos(c.UpdateTime), jsonObject(c.AutoHandoff), c.Revision,
	}
}

// channelFields lists where channelColumns scan to.
func channelFields(c *domain.Channel) []any {
	return []any{
		&c.ID, &c.Kind, &c.ExternalID, &c.DisplayName, &c.BotID, &c.DefaultQueueID, &c.SessionTimeout,
		jsonCol(&c.Credentials), jsonCol(&c.Retention), timeCol{&c.CreateTime}, timeCol{&c.UpdateTime}, jsonCol(&c.AutoHandoff), &c.Revision,
	}
}

func scanChannel(s scanner) (c domain.Channel, err error) {
	err = s.Scan(channelFields(&c)...)
	return c, err
}

func (t *tx) CreateChannel(ctx context.Context, c domain.Channel) error {
	return t.insert(ctx, "channel", insertSQL("channels", channelColumns), channelArgs(c)...)
}

func (t *tx) GetChannel(ctx context.Context, id string) (domain.Channel, error) {
	return getOne(ctx, t, scanChannel, "channel", id, selectChannel+" WHERE ch.id = ?", id)
}

func (t *tx) ListChannels(ctx context.Context, kind domain.ChannelKind, p store.Page) ([]domain.Channel, string, error) {
	q := query{head: selectChannel}
	if kind != "" {
		q.where("ch.kind = ?", kind)
	}
	return getPage(ctx, t, q, order{id: "ch.id"}, p, scanChannel, func(c domain.Channel) cursor { return cursor{ID: c.ID} })
}

func (t *tx) UpdateChannel(ctx context.Context, c domain.Channel) error {
	return t.update(ctx, "channel", "channels", c.ID, c.Revision, channelColumns, channelArgs(c))
}

func (t *tx) DeleteChannel(ctx context.Context, id string) error {
	return t.delete(ctx, "channel", "channels", id)
}

func (t *tx) CountConversations(ctx context.Context, channelID string) (int, error) {
	return t.count(ctx, "SELECT count(*) FROM conversations WHERE channel_id = ?", channelID)
}
