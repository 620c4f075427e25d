package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Events get their public Sequence (the position column) only when Store.Publish numbers them,
// after they are committed. Within a transaction and until then, an event is known by its
// insertion order (seq) alone.

// insertEvents stores a batch of events in one statement, one array per column, in the order
// given: the rows reach the identity column sorted by their ordinality. In the same statement
// (no round trip more) it records their deliveries, also in that order, each event's by webhook
// id: one per webhook that subscribes to the event, as domain.Webhook.Subscribes says. That is a
// webhook that records deliveries, a firehose or the event's bot's (when the event is for the
// bot, $8, or the bot is on standby), whose filters select the event. The deliveries carry the
// trace parent $9. The events' CTE runs whether or not the deliveries read it; they read the
// input instead, which has what no events column holds (for_bot). Webhooks are looked up by
// bot_id (empty for firehoses), and a bot's standby by its key: a scalar subquery, since an
// EXISTS may be planned as a hash of every standby bot. Without webhooks this costs next to
// nothing.
//
// The input rows are read by subscript rather than with unnest: PostgreSQL estimates unnest's
// rows from the arrays given, so a plan for any arrays would look costlier than one for these,
// and it would plan the statement anew on every call; generate_subscripts' estimate is fixed,
// so one plan serves every call.
const insertEvents = `WITH input AS (
		SELECT n, ($1::text[])[n] AS id, ($2::text[])[n] AS type, ($3::text[])[n] AS conversation_id,
			($4::text[])[n] AS channel_id, ($5::text[])[n] AS bot_id, ($6::timestamptz[])[n] AS create_time,
			($7::json[])[n] AS payload, ($8::boolean[])[n] AS for_bot
		FROM generate_subscripts($1::text[], 1) AS n
	), stored AS (
		INSERT INTO events (id, type, conversation_id, channel_id, bot_id, create_time, payload)
		SELECT id, type, conversation_id, channel_id, bot_id, create_time, payload FROM input ORDER BY n
	)
	INSERT INTO deliveries (id, webhook_id, event_id, event_type, conversation_id, state,
		attempts, failures, next_attempt_time, lease_expire_time, trace_parent, create_time, update_time)
	SELECT e.id || '.' || w.id, w.id, e.id, e.type, e.conversation_id, 'pending',
		0, 0, e.create_time, ` + notSet + `, $9, e.create_time, e.create_time
	FROM input e JOIN webhooks w ON w.bot_id IN ('', e.bot_id)
	WHERE w.state IN ('active', 'inactive')
		AND (w.bot_id = '' OR e.for_bot OR (SELECT b.standby FROM bots b WHERE b.id = w.bot_id))
		AND (w.event_types = '[]' OR w.event_types ? e.type)
		AND (w.channel_ids = '[]' OR w.channel_ids ? e.channel_id)
	ORDER BY e.n, w.id`

// AppendEvents stores each event with the columns its filters read and the whole event as
// JSON, unpublished, with its deliveries: the events come back with their ids and a zero
// Sequence.
func (t *tx) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	out := make([]domain.Event, len(events))
	var cols struct {
		id, typ, conversation, channel, bot []string
		time                                []time.Time
		payload                             [][]byte
		forBot                              []bool
	}
	for i, e := range events {
		if e.ID == "" {
			e.ID = rand.Text()
		}
		e.Sequence = 0 // known once published; filled in from the column on read
		payload, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("postgres: encode event: %w", err)
		}
		cols.id = append(cols.id, e.ID)
		cols.typ = append(cols.typ, string(e.Type))
		cols.conversation = append(cols.conversation, e.ConversationID)
		cols.channel = append(cols.channel, e.ChannelID)
		cols.bot = append(cols.bot, e.BotID)
		cols.time = append(cols.time, e.Time)
		cols.payload = append(cols.payload, payload)
		cols.forBot = append(cols.forBot, e.ForBot())
		out[i] = e
	}
	args := []any{cols.id, cols.typ, cols.conversation, cols.channel, cols.bot, cols.time,
		cols.payload, cols.forBot, store.TraceParent(ctx)}
	if t.write {
		// Nothing the caller needs comes back: the insert goes out with the next statement or
		// the COMMIT, and a failure fails that (the Write, at the latest).
		t.tx.Defer(func(err error) error { return writeErr("create", "event", err) }, insertEvents, args...)
		return out, nil
	}
	if _, err := t.tx.Exec(ctx, insertEvents, args...); err != nil {
		return nil, writeErr("create", "event", err)
	}
	return out, nil
}

// selectEvent reads an event's payload and its public sequence, 0 while unpublished.
const selectEvent = "SELECT coalesce(position, 0), payload FROM events"

func (t *tx) GetEvent(ctx context.Context, id string) (domain.Event, error) {
	return getOne(ctx, t, scanEvent, "event", id, selectEvent+" WHERE id = $1", id)
}

func (t *tx) ListEvents(ctx context.Context, after uint64, f store.EventFilter, limit int) ([]domain.Event, error) {
	if after >= math.MaxInt64 {
		return nil, nil
	}
	q := query{head: selectEvent}
	q.where("position > " + q.arg(int64(after)))
	if f.ConversationID != "" {
		q.where("conversation_id = " + q.arg(f.ConversationID))
	}
	if f.BotID != "" {
		q.where("bot_id = " + q.arg(f.BotID))
	}
	if f.ChannelID != "" {
		q.where("channel_id = " + q.arg(f.ChannelID))
	}
	if len(f.Types) > 0 {
		q.where("type = ANY (" + q.arg(stringList(f.Types)) + ")")
	}
	tail := " ORDER BY position LIMIT " + q.arg(limitOr(limit))
	return getAll(ctx, t, scanEvent, q.sql()+tail, q.args...)
}

// ListOwnerChanges lists the conversation's owner changes in insertion order, published or
// not: the conversation's Writes are serialised by its row lock, which each holds before it
// inserts, so insertion order is their commit order.
func (t *tx) ListOwnerChanges(ctx context.Context, conversationID string) ([]domain.Event, error) {
	return getAll(ctx, t, scanEvent, selectEvent+" WHERE conversation_id = $1 AND type = $2 ORDER BY seq",
		conversationID, domain.EventOwnerChanged)
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
	if err := t.tx.QueryRow(ctx, "SELECT coalesce(max(position), 0) FROM events").Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: last sequence: %w", err)
	}
	return seq, nil
}
