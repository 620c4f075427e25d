package postgres

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var botColumns = []string{"id", "display_name", "active", "standby", "unreachable", "create_time", "update_time", "auto_handoff", "revision"}

var (
	// selectBot derives ChannelIDs from the channels bound to the bot (NULL, so nil, when none).
	selectBot = "SELECT " + columns("b", botColumns) + `,
		(SELECT array_agg(ch.id ORDER BY ch.id) FROM channels ch WHERE ch.bot_id = b.id)
		FROM bots b`
	insertBot = insertSQL("bots", botColumns)
	updateBot = updateSQL("bots", botColumns)
)

// botArgs leaves out ChannelIDs: bindings are stored on the channels.
func botArgs(b domain.Bot) []any {
	return []any{b.ID, b.DisplayName, b.Active, b.Standby, b.Unreachable, b.CreateTime, b.UpdateTime, jsonObject(b.AutoHandoff), b.Revision}
}

// botFields lists where botColumns scan to.
func botFields(b *domain.Bot) []any {
	return []any{&b.ID, &b.DisplayName, &b.Active, &b.Standby, &b.Unreachable, &b.CreateTime, &b.UpdateTime, jsonCol(&b.AutoHandoff), &b.Revision}
}

// scanBot scans a row of selectBot: botColumns, then ChannelIDs.
func scanBot(s scanner) (b domain.Bot, err error) {
	err = s.Scan(append(botFields(&b), &b.ChannelIDs)...)
	return b, err
}

func (t *tx) CreateBot(ctx context.Context, b domain.Bot) error {
	return t.insert(ctx, "bot", insertBot, botArgs(b)...)
}

func (t *tx) GetBot(ctx context.Context, id string) (domain.Bot, error) {
	return getOne(ctx, t, scanBot, "bot", id, selectBot+" WHERE b.id = $1", id)
}

func (t *tx) ListBots(ctx context.Context, p store.Page) ([]domain.Bot, string, error) {
	return getPage(ctx, t, query{head: selectBot}, order{id: "b.id"}, p, scanBot, func(b domain.Bot) cursor { return cursor{ID: b.ID} })
}

func (t *tx) UpdateBot(ctx context.Context, b domain.Bot) error {
	return t.update(ctx, "bot", updateBot, b.ID, botArgs(b))
}

func (t *tx) DeleteBot(ctx context.Context, id string) error {
	return t.delete(ctx, "bot", "bots", id)
}
