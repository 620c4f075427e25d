package postgres

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

// zeroTime is how the zero time.Time is stored: an erasure not complete yet.
var zeroTime = time.Time{}

func scanErasure(s scanner) (e domain.Erasure, err error) {
	err = s.Scan(&e.ContactID, &e.ChannelID, &e.ConversationID, &e.Actor.Kind, &e.Actor.ID, &e.CreateTime, &e.CompleteTime)
	return e, err
}

func (t *tx) CreateErasure(ctx context.Context, e domain.Erasure) error {
	return t.insert(ctx, "erasure", insertSQL("erasures", erasureColumns),
		e.ContactID, e.ChannelID, e.ConversationID, e.Actor.Kind, e.Actor.ID, e.CreateTime, e.CompleteTime)
}

func (t *tx) GetErasure(ctx context.Context, contactID string) (domain.Erasure, error) {
	return getOne(ctx, t, scanErasure, "erasure", contactID, selectErasure+" WHERE er.contact_id = $1", contactID)
}

func (t *tx) CompleteErasure(ctx context.Context, contactID string, at time.Time) error {
	return t.exec(ctx, "update", "erasure", contactID, "UPDATE erasures SET complete_time = $1 WHERE contact_id = $2", at, contactID)
}

func (t *tx) ListUnfinishedErasures(ctx context.Context, limit int) ([]domain.Erasure, error) {
	return getAll(ctx, t, scanErasure, selectErasure+
		" WHERE er.complete_time = $1 ORDER BY er.create_time, er.contact_id LIMIT $2", zeroTime, limitOr(limit))
}

// EraseMessages updates the batch in one statement.
func (t *tx) EraseMessages(ctx context.Context, messages []domain.Message) error {
	if len(messages) == 0 {
		return nil
	}
	var (
		ids, channelMessageIDs, errs, statuses []string
		contents                               [][]byte
		leases                                 []time.Time
		erased                                 []bool
	)
	for _, m := range messages {
		ids = append(ids, m.ID)
		contents = append(contents, m.Content)
		channelMessageIDs = append(channelMessageIDs, m.ChannelMessageID)
		errs = append(errs, m.Error)
		statuses = append(statuses, string(m.Status))
		leases = append(leases, m.LeaseExpireTime)
		erased = append(erased, m.Erased)
	}
	tag, err := t.tx.Exec(ctx, `UPDATE messages m SET content = u.content, channel_message_id = u.channel_message_id,
			error = u.error, status = u.status, lease_expire_time = u.lease, erased = u.erased
		FROM unnest($1::text[], $2::json[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::boolean[])
			AS u(id, content, channel_message_id, error, status, lease, erased)
		WHERE m.id = u.id`, ids, contents, channelMessageIDs, errs, statuses, leases, erased)
	if err != nil {
		return writeErr("update", "message", err)
	}
	if int(tag.RowsAffected()) != len(ids) {
		return domain.NotFound("message", fmt.Sprint(ids))
	}
	return nil
}

// ListContactEvents reads the channel's events without a conversation
// (events_without_conversation) and keeps the contact's.
func (t *tx) ListContactEvents(ctx context.Context, channelID, contactID string, after uint64, limit int) ([]domain.Event, error) {
	if after >= math.MaxInt64 {
		return nil, nil
	}
	return getAll(ctx, t, scanEvent, selectEvent+` WHERE channel_id = $1 AND conversation_id = '' AND position > $2
		AND payload ->> 'contact_id' = $3 ORDER BY position LIMIT $4`, channelID, int64(after), contactID, limitOr(limit))
}

func (t *tx) RewriteEvents(ctx context.Context, events []domain.Event) error {
	if len(events) == 0 {
		return nil
	}
	positions := make([]int64, len(events))
	payloads := make([][]byte, len(events))
	for i, e := range events {
		positions[i] = int64(e.Sequence)
		e.Sequence = 0 // as AppendEvents stores it: the column holds it
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("postgres: encode event: %w", err)
		}
		payloads[i] = payload
	}
	tag, err := t.tx.Exec(ctx, `UPDATE events e SET payload = u.payload
		FROM unnest($1::bigint[], $2::json[]) AS u(position, payload) WHERE e.position = u.position`, positions, payloads)
	if err != nil {
		return writeErr("update", "event", err)
	}
	if int(tag.RowsAffected()) != len(events) {
		return domain.NotFound("event", fmt.Sprint(positions))
	}
	return nil
}
