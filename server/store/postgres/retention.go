package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// AcquireLease takes the lease when it is free or the holder's, in one statement: a row lock
// makes concurrent takers queue, and each re-reads the row the other wrote.
func (t *tx) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	rows, err := getAll(ctx, t, scanText, `INSERT INTO leases (name, holder, expire_time) VALUES ($1, $2, $4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expire_time = excluded.expire_time
		WHERE leases.holder = excluded.holder OR leases.expire_time <= $3
		RETURNING holder`, name, holder, now, until)
	if err != nil {
		return false, fmt.Errorf("postgres: acquire lease: %w", err)
	}
	return len(rows) == 1, nil
}

func scanText(s scanner) (v string, err error) { return v, s.Scan(&v) }

func (t *tx) DeleteMessagesBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	return t.deleted(ctx, "messages", `DELETE FROM messages WHERE id IN (
		SELECT id FROM messages
		WHERE channel_id = $1 AND create_time < $2 AND status != 'pending'
		ORDER BY create_time, id LIMIT $3)`, channelID, before, limitOr(limit))
}

// DeleteEventsBefore never reaches the last event stored: insertEvents numbers the next events
// after the highest position stored.
func (t *tx) DeleteEventsBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	type event struct {
		seq  int64
		time time.Time
	}
	oldest, err := getAll(ctx, t, func(s scanner) (e event, err error) { return e, s.Scan(&e.seq, &e.time) },
		`SELECT position, create_time FROM events WHERE channel_id = $1 ORDER BY position LIMIT $2`,
		channelID, limitOr(limit))
	if err != nil {
		return 0, err
	}
	last, err := t.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	var through int64
	for _, e := range oldest {
		if !e.time.Before(before) || uint64(e.seq) >= last {
			break
		}
		through = e.seq
	}
	if through == 0 {
		return 0, nil
	}
	n, err := t.deleted(ctx, "events", "DELETE FROM events WHERE channel_id = $1 AND position <= $2", channelID, through)
	if err != nil {
		return 0, err
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO event_marks (channel_id, swept_through) VALUES ($1, $2)
		ON CONFLICT (channel_id) DO UPDATE SET swept_through = greatest(event_marks.swept_through, excluded.swept_through)`,
		channelID, through)
	if err != nil {
		return 0, writeErr("update", "event mark", err)
	}
	return n, nil
}

func (t *tx) DeleteDeliveriesBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	ids, err := getAll(ctx, t, scanText, `SELECT id FROM deliveries
		WHERE channel_id = $1 AND create_time < $2 AND state != 'pending'
		ORDER BY create_time, seq LIMIT $3`, channelID, before, limitOr(limit))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if _, err := t.tx.Exec(ctx, "DELETE FROM delivery_attempts WHERE delivery_id = ANY ($1)", ids); err != nil {
		return 0, writeErr("delete", "delivery attempts", err)
	}
	return t.deleted(ctx, "deliveries", "DELETE FROM deliveries WHERE id = ANY ($1)", ids)
}

// DeleteClosedConversationsBefore locks the conversations it deletes, in id order as every
// Write does, and skips those another transaction holds: one that is writing to a conversation
// may be reopening it.
func (t *tx) DeleteClosedConversationsBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	ids, err := getAll(ctx, t, scanText, `SELECT id FROM conversations
		WHERE id IN (SELECT id FROM conversations
			WHERE channel_id = $1 AND state = $2 AND active_handover_id = '' AND last_activity_time < $3
			ORDER BY last_activity_time, id LIMIT $4)
		ORDER BY id FOR UPDATE SKIP LOCKED`, channelID, domain.ConversationClosed, before, limitOr(limit))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	for _, table := range []string{"messages", "handovers"} {
		if _, err := t.tx.Exec(ctx, "DELETE FROM "+table+" WHERE conversation_id = ANY ($1)", ids); err != nil {
			return 0, writeErr("delete", table, err)
		}
	}
	return t.deleted(ctx, "conversations", "DELETE FROM conversations WHERE id = ANY ($1)", ids)
}

// deleted runs a DELETE and returns how many rows it deleted.
func (t *tx) deleted(ctx context.Context, table, query string, args ...any) (int, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, writeErr("delete", table, err)
	}
	return int(tag.RowsAffected()), nil
}

// SweptThrough reads the swept marks of the channels f may select.
func (t *tx) SweptThrough(ctx context.Context, f store.EventFilter) (uint64, error) {
	var through int64
	if err := t.tx.QueryRow(ctx, sweptThrough, f.ChannelID, f.ConversationID).Scan(&through); err != nil {
		return 0, fmt.Errorf("postgres: event marks: %w", err)
	}
	return uint64(through), nil
}

// sweptThrough is the highest mark of the channels a filter ($1 channel, $2 conversation) may
// select: a conversation's channel is looked up; a conversation no longer stored is judged by
// every channel's mark.
const sweptThrough = `SELECT coalesce(max(swept_through), 0) FROM event_marks
	WHERE ($1::text = '' OR channel_id = $1)
		AND ($2::text = '' OR channel_id = coalesce((SELECT channel_id FROM conversations WHERE id = $2), channel_id))`
