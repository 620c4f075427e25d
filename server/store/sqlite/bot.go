package sqlite

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var botColumns = []string{"id", "display_name", "active", "standby", "unreachable", "create_time", "update_time", "auto_handoff", "revision"}

var selectBot = "SELECT " + columns("b", botColumns) + " FROM bots b"

// botArgs leaves out ChannelIDs: bindings are stored on the channels.
func botArgs(b domain.Bot) []any {
	return []any{b.ID, b.DisplayName, b.Active, b.Standby, b.Unreachable, nanos(b.CreateTime), nanos(b.UpdateTime), jsonObject(b.AutoHandoff), b.Revision}
}

// botFields lists where botColumns scan to.
func botFields(b *domain.Bot) []any {
	return []any{&b.ID, &b.DisplayName, &b.Active, &b.Standby, &b.Unreachable, timeCol{&b.CreateTime}, timeCol{&b.UpdateTime}, jsonCol(&b.AutoHandoff), &b.Revision}
}

func scanBot(s scanner) (b domain.Bot, err error) {
	err = s.Scan(botFields(&b)...)
	return b, err
}

func (t *tx) CreateBot(ctx context.Context, b domain.Bot) error {
	return t.insert(ctx, "bot", insertSQL("bots", botColumns), botArgs(b)...)
}

func (t *tx) GetBot(ctx context.Context, id string) (domain.Bot, error) {
	b, err := getOne(ctx, t, scanBot, "bot", id, selectBot+" WHERE b.id = ?", id)
	if err != nil {
		return b, err
	}
	b.ChannelIDs, err = t.botChannelIDs(ctx, id)
	return b, err
}

func (t *tx) ListBots(ctx context.Context, p store.Page) ([]domain.Bot, string, error) {
	bots, next, err := getPage(ctx, t, query{head: selectBot}, order{id: "b.id"}, p, scanBot, func(b domain.Bot) cursor { return cursor{ID: b.ID} })
	if err != nil {
		return nil, "", err
	}
	for i := range bots {
		if bots[i].ChannelIDs, err = t.botChannelIDs(ctx, bots[i].ID); err != nil {
			return nil, "", err
		}
	}
	return bots, next, nil
}

func (t *tx) botChannelIDs(ctx context.Context, botID string) ([]string, error) {
	return getAll(ctx, t, scanString, "SELECT id FROM channels WHERE bot_id = ? ORDER BY id", botID)
}

func scanString(s scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}

func (t *tx) UpdateBot(ctx context.Context, b domain.Bot) error {
	return t.update(ctx, "bot", "bots", b.ID, b.Revision, botColumns, botArgs(b))
}

func (t *tx) DeleteBot(ctx context.Context, id string) error {
	return t.delete(ctx, "bot", "bots", id)
}
