package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// AppendEvents stores each event with the columns its filters read and the whole event as JSON,
// then records its deliveries. The sequence comes from the AUTOINCREMENT key; writes are
// serialised, so sequences are committed in increasing order and a reader never sees a later
// one before an earlier one.
func (t *tx) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	out := make([]domain.Event, len(events))
	traceParent := store.TraceParent(ctx)
	for i, e := range events {
		if e.ID == "" {
			e.ID = rand.Text()
		}
		e.Sequence = 0 // known only once stored; filled in from the column on read
		payload, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("sqlite: encode event: %w", err)
		}
		err = t.queryRow(ctx, `INSERT INTO events
			(id, type, conversation_id, channel_id, bot_id, create_time, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING sequence`,
			e.ID, e.Type, e.ConversationID, e.ChannelID, e.BotID, nanos(e.Time), string(payload)).Scan(&e.Sequence)
		if err := writeErr("create", "event", err); err != nil {
			return nil, err
		}
		if err := t.recordDeliveries(ctx, e, traceParent); err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// GetEvents passes the ids as one JSON list, so that any number of them is one statement.
func (t *tx) GetEvents(ctx context.Context, ids []string) ([]domain.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return getAll(ctx, t, scanEvent, `SELECT sequence, payload FROM events
		WHERE id IN (SELECT value FROM json_each(?)) ORDER BY sequence`, jsonList(ids))
}

func (t *tx) ListEvents(ctx context.Context, after uint64, f store.EventFilter, limit int) ([]domain.Event, error) {
	if after >= math.MaxInt64 {
		return nil, nil
	}
	q := query{head: "SELECT sequence, payload FROM events"}
	q.where("sequence > ?", int64(after))
	if f.ConversationID != "" {
		q.where("conversation_id = ?", f.ConversationID)
	}
	if f.BotID != "" {
		q.where("bot_id = ?", f.BotID)
	}
	if f.ChannelID != "" {
		q.where("channel_id = ?", f.ChannelID)
	}
	if len(f.Types) > 0 {
		whereIn(&q, "type", f.Types)
	}
	return getAll(ctx, t, scanEvent, q.sql()+" ORDER BY sequence LIMIT ? + 0", append(q.args, limitOr(limit))...)
}

// ListOwnerChanges lists the conversation's owner changes in sequence order.
func (t *tx) ListOwnerChanges(ctx context.Context, conversationID string) ([]domain.Event, error) {
	return getAll(ctx, t, scanEvent, `SELECT sequence, payload FROM events
		WHERE conversation_id = ? AND type = ? ORDER BY sequence`, conversationID, string(domain.EventOwnerChanged))
}

func scanEvent(s scanner) (domain.Event, error) {
	var e domain.Event
	var seq uint64
	var payload []byte
	if err := s.Scan(&seq, &payload); err != nil {
		return e, err
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		return e, fmt.Errorf("decode event %d: %w", seq, err)
	}
	e.Sequence = seq
	return e, nil
}

func (t *tx) LastSequence(ctx context.Context) (uint64, error) {
	var seq uint64
	err := t.queryRow(ctx, "SELECT coalesce(max(sequence), 0) FROM events").Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("sqlite: last sequence: %w", err)
	}
	return seq, nil
}
