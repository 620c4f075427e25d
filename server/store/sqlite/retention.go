package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// AcquireLease takes the lease when it is free or the holder's, in one statement.
func (t *tx) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	rows, err := getAll(ctx, t, scanString, `INSERT INTO leases (name, holder, expire_time) VALUES (?1, ?2, ?4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expire_time = excluded.expire_time
		WHERE leases.holder = excluded.holder OR leases.expire_time <= ?3
		RETURNING holder`, name, holder, nanos(now), nanos(until))
	if err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	return len(rows) == 1, nil
}

func (t *tx) DeleteMessagesBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	return t.deleted(ctx, "messages", `DELETE FROM messages WHERE id IN (
		SELECT id FROM messages INDEXED BY messages_channel_time
		WHERE channel_id = ? AND create_time < ? AND status != 'pending'
		ORDER BY create_time, id LIMIT ? + 0)`, channelID, nanos(before), limitOr(limit))
}

func (t *tx) DeleteEventsBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	type event struct{ seq, time int64 }
	oldest, err := getAll(ctx, t, func(s scanner) (e event, err error) { return e, s.Scan(&e.seq, &e.time) },
		`SELECT sequence, create_time FROM events INDEXED BY events_channel
		WHERE channel_id = ? ORDER BY sequence LIMIT ? + 0`, channelID, limitOr(limit))
	if err != nil {
		return 0, err
	}
	last, err := t.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	var through int64
	for _, e := range oldest {
		if e.time >= nanos(before) || uint64(e.seq) >= last {
			break
		}
		through = e.seq
	}
	if through == 0 {
		return 0, nil
	}
	n, err := t.deleted(ctx, "events", "DELETE FROM events WHERE channel_id = ? AND sequence <= ?", channelID, through)
	if err != nil {
		return 0, err
	}
	_, err = t.exec(ctx, `INSERT INTO event_marks (channel_id, swept_through) VALUES (?1, ?2)
		ON CONFLICT (channel_id) DO UPDATE SET swept_through = max(swept_through, excluded.swept_through)`,
		channelID, through)
	return n, writeErr("update", "event mark", err)
}

func (t *tx) DeleteDeliveriesBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	ids, err := getAll(ctx, t, scanString, `SELECT id FROM deliveries INDEXED BY deliveries_ended
		WHERE channel_id = ? AND create_time < ? AND state != 'pending'
		ORDER BY create_time, seq LIMIT ? + 0`, channelID, nanos(before), limitOr(limit))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	list, _ := json.Marshal(ids)
	if _, err := t.exec(ctx, "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT value FROM json_each(?))", string(list)); err != nil {
		return 0, writeErr("delete", "delivery attempts", err)
	}
	return t.deleted(ctx, "deliveries", "DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))", string(list))
}

func (t *tx) DeleteClosedConversationsBefore(ctx context.Context, channelID string, before time.Time, limit int) (int, error) {
	ids, err := getAll(ctx, t, scanString, `SELECT id FROM conversations
		WHERE channel_id = ? AND state = ? AND active_handover_id = '' AND last_activity_time < ?
		ORDER BY last_activity_time, id LIMIT ? + 0`, channelID, domain.ConversationClosed, nanos(before), limitOr(limit))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	list, _ := json.Marshal(ids)
	for _, table := range []string{"messages", "handovers"} {
		if _, err := t.exec(ctx, "DELETE FROM "+table+" WHERE conversation_id IN (SELECT value FROM json_each(?))", string(list)); err != nil {
			return 0, writeErr("delete", table, err)
		}
	}
	return t.deleted(ctx, "conversations", "DELETE FROM conversations WHERE id IN (SELECT value FROM json_each(?))", string(list))
}

// deleted runs a DELETE and returns how many rows it deleted.
func (t *tx) deleted(ctx context.Context, table, query string, args ...any) (int, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, writeErr("delete", table, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SweptThrough reads the swept marks of the channels f may select.
func (t *tx) SweptThrough(ctx context.Context, f store.EventFilter) (uint64, error) {
	var through uint64
	err := t.queryRow(ctx, sweptThrough, f.ChannelID, f.ConversationID).Scan(&through)
	if err != nil {
		return 0, fmt.Errorf("sqlite: event marks: %w", err)
	}
	return through, nil
}

// sweptThrough is the highest mark of the channels a filter (?1 channel, ?2 conversation) may
// select: a conversation's channel is looked up; a conversation no longer stored is judged by
// every channel's mark.
const sweptThrough = `SELECT coalesce(max(swept_through), 0) FROM event_marks
	WHERE (?1 = '' OR channel_id = ?1)
		AND (?2 = '' OR channel_id = coalesce((SELECT channel_id FROM conversations WHERE id = ?2), channel_id))`
