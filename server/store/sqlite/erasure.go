package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/batonhq/baton/server/domain"
)

var erasureColumns = []string{
	"contact_id", "channel_id", "conversation_id", "actor_kind", "actor_id", "create_time", "complete_time",
}

var selectErasure = "SELECT " + columns("er", erasureColumns) + " FROM erasures er"

func scanErasure(s scanner) (e domain.Erasure, err error) {
	err = s.Scan(&e.ContactID, &e.ChannelID, &e.ConversationID, &e.Actor.Kind, &e.Actor.ID,
		timeCol{&e.CreateTime}, timeCol{&e.CompleteTime})
	return e, err
}

func (t *tx) CreateErasure(ctx context.Context, e domain.Erasure) error {
	return t.insert(ctx, "erasure", insertSQL("erasures", erasureColumns),
		e.ContactID, e.ChannelID, e.ConversationID, e.Actor.Kind, e.Actor.ID, nanos(e.CreateTime), nanos(e.CompleteTime))
}

func (t *tx) GetErasure(ctx context.Context, contactID string) (domain.Erasure, error) {
	return getOne(ctx, t, scanErasure, "erasure", contactID, selectErasure+" WHERE er.contact_id = ?", contactID)
}

func (t *tx) CompleteErasure(ctx context.Context, contactID string, at time.Time) error {
	res, err := t.exec(ctx, "UPDATE erasures SET complete_time = ? WHERE contact_id = ?", nanos(at), contactID)
	if err := writeErr("update", "erasure", err); err != nil {
		return err
	}
	return affected(res, "erasure", contactID)
}

func (t *tx) ListUnfinishedErasures(ctx context.Context, limit int) ([]domain.Erasure, error) {
	return getAll(ctx, t, scanErasure, selectErasure+
		" WHERE er.complete_time = 0 ORDER BY er.create_time, er.contact_id LIMIT ? + 0", limitOr(limit))
}

func (t *tx) EraseMessages(ctx context.Context, messages []domain.Message) error {
	for _, m := range messages {
		res, err := t.exec(ctx, `UPDATE messages SET content = ?, channel_message_id = ?, error = ?, status = ?,
			lease_expire_time = ?, erased = ? WHERE id = ?`,
			string(m.Content), m.ChannelMessageID, m.Error, m.Status, nanos(m.LeaseExpireTime), m.Erased, m.ID)
		if err := writeErr("update", "message", err); err != nil {
			return err
		}
		if err := affected(res, "message", m.ID); err != nil {
			return err
		}
	}
	return nil
}

// ListContactEvents reads the channel's events without a conversation
// (events_without_conversation) and keeps the contact's.
func (t *tx) ListContactEvents(ctx context.Context, channelID, contactID string, after uint64, limit int) ([]domain.Event, error) {
	if after >= math.MaxInt64 {
		return nil, nil
	}
	return getAll(ctx, t, scanEvent, `SELECT sequence, payload FROM events
		WHERE channel_id = ? AND conversation_id = '' AND sequence > ? AND payload ->> '$.contact_id' = ?
		ORDER BY sequence LIMIT ? + 0`, channelID, int64(after), contactID, limitOr(limit))
}

func (t *tx) RewriteEvents(ctx context.Context, events []domain.Event) error {
	for _, e := range events {
		seq := e.Sequence
		e.Sequence = 0 // as AppendEvents stores it: the column holds it
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("sqlite: encode event: %w", err)
		}
		res, err := t.exec(ctx, "UPDATE events SET payload = ? WHERE sequence = ?", string(payload), int64(seq))
		if err := writeErr("update", "event", err); err != nil {
			return err
		}
		if err := affected(res, "event", e.ID); err != nil {
			return err
		}
	}
	return nil
}
