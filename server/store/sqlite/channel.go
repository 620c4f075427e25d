package sqlite

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var channelColumns = []string{
	"id", "kind", "external_id", "display_name", "bot_id", "default_queue_id", "session_timeout",
	"credentials", "sealed_credentials", "retention", "create_time", "update_time", "revision",
}

var selectChannel = "SELECT " + columns("ch", channelColumns) + " FROM channels ch"

// channelArgs stores the secret credentials sealed.
func (t *tx) channelArgs(c domain.Channel) ([]any, error) {
	clear, sealed, err := store.SealCredentials(t.s.keys, c.ID, c.Credentials)
	return []any{
		c.ID, c.Kind, c.ExternalID, c.DisplayName, c.BotID, c.DefaultQueueID, int64(c.SessionTimeout),
		jsonObject(clear), sealed, jsonObject(c.Retention), nanos(c.CreateTime), nanos(c.UpdateTime), c.Revision,
	}, err
}

// channelFields lists where channelColumns scan to; the sealed credentials go to sealed, for
// store.OpenCredentials.
func channelFields(c *domain.Channel, sealed *[]byte) []any {
	return []any{
		&c.ID, &c.Kind, &c.ExternalID, &c.DisplayName, &c.BotID, &c.DefaultQueueID, &c.SessionTimeout,
		jsonCol(&c.Credentials), sealed, jsonCol(&c.Retention), timeCol{&c.CreateTime}, timeCol{&c.UpdateTime}, &c.Revision,
	}
}

func (t *tx) scanChannel(s scanner) (c domain.Channel, err error) {
	var sealed []byte
	if err = s.Scan(channelFields(&c, &sealed)...); err != nil {
		return c, err
	}
	return c, store.OpenCredentials(t.s.keys, c.ID, &c.Credentials, sealed)
}

func (t *tx) CreateChannel(ctx context.Context, c domain.Channel) error {
	args, err := t.channelArgs(c)
	if err != nil {
		return err
	}
	return t.insert(ctx, "channel", insertSQL("channels", channelColumns), args...)
}

func (t *tx) GetChannel(ctx context.Context, id string) (domain.Channel, error) {
	return getOne(ctx, t, t.scanChannel, "channel", id, selectChannel+" WHERE ch.id = ?", id)
}

func (t *tx) ListChannels(ctx context.Context, kind domain.ChannelKind, p store.Page) ([]domain.Channel, string, error) {
	q := query{head: selectChannel}
	if kind != "" {
		q.where("ch.kind = ?", kind)
	}
	return getPage(ctx, t, q, order{id: "ch.id"}, p, t.scanChannel, func(c domain.Channel) cursor { return cursor{ID: c.ID} })
}

func (t *tx) UpdateChannel(ctx context.Context, c domain.Channel) error {
	args, err := t.channelArgs(c)
	if err != nil {
		return err
	}
	return t.update(ctx, "channel", "channels", c.ID, c.Revision, channelColumns, args)
}

func (t *tx) DeleteChannel(ctx context.Context, id string) error {
	return t.delete(ctx, "channel", "channels", id)
}

func (t *tx) CountConversations(ctx context.Context, channelID string) (int, error) {
	return t.count(ctx, "SELECT count(*) FROM conversations WHERE channel_id = ?", channelID)
}
