package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Events are numbered as they commit, one committing transaction at a time: see numbering.
// Until then, within their transaction, they are held back in the lazyTx (eventRows), and
// known by their ids alone.

// insertEvents stores a batch of events in one statement, one array per column, in the order given,
// numbered in that order after the highest position stored. In the same statement (no round trip
// more) it records their deliveries, also in that order, each event's by webhook id: one per
// webhook that subscribes to the event, as domain.Webhook.Subscribes says. That is a webhook that
// records deliveries, a firehose or the event's bot's (when the event is for the bot, $8, or the
// bot is on standby), whose filters select the event. The deliveries carry their event's trace
// parent ($9). Last, it notifies Listen's channel (%s, a quoted literal written into the statement
// so that it is planned once per connection) of the highest position: the notification goes out at
// commit. The events' CTE runs whether or not the deliveries read it; they read the input instead,
// which has what no events column holds (for_bot). Webhooks are looked up by bot_id (empty for
// firehoses), and a bot's standby by its key: a scalar subquery, since an EXISTS may be planned as
// a hash of every standby bot. Without webhooks this costs next to nothing.
//
// The input rows are read by subscript rather than with unnest: PostgreSQL estimates unnest's
// rows from the arrays given, so a plan for any arrays would look costlier than one for these,
// and it would plan the statement anew on every call; generate_subscripts' estimate is fixed,
// so one plan serves every call.
const insertEvents = `WITH input AS (
		SELECT n, ($1::text[])[n] AS id, ($2::text[])[n] AS type, ($3::text[])[n] AS conversation_id,
			($4::text[])[n] AS channel_id, ($5::text[])[n] AS bot_id, ($6::timestamptz[])[n] AS create_time,
			($7::json[])[n] AS payload, ($8::boolean[])[n] AS for_bot, ($9::text[])[n] AS trace_parent
		FROM generate_subscripts($1::text[], 1) AS n
	), last AS (
		SELECT coalesce(max(position), 0) AS position FROM events
	), stored AS (
		INSERT INTO events (position, id, type, conversation_id, channel_id, bot_id, create_time, payload)
		SELECT last.position + n, id, type, conversation_id, channel_id, bot_id, create_time, payload
		FROM input, last ORDER BY n
	), delivered AS (
		INSERT INTO deliveries (id, webhook_id, event_id, event_type, conversation_id, state,
			attempts, failures, next_attempt_time, lease_expire_time, trace_parent, create_time, update_time,
			channel_id)
		SELECT e.id || '.' || w.id, w.id, e.id, e.type, e.conversation_id, 'pending',
			0, 0, e.create_time, ` + notSet + `, e.trace_parent, e.create_time, e.create_time, e.channel_id
		FROM input e JOIN webhooks w ON w.bot_id IN ('', e.bot_id)
		WHERE w.state IN ('active', 'inactive')
			AND (w.bot_id = '' OR e.for_bot OR (SELECT b.standby FROM bots b WHERE b.id = w.bot_id))
			AND (w.event_types = '[]' OR w.event_types ? e.type)
			AND (w.channel_ids = '[]' OR w.channel_ids ? e.channel_id)
		ORDER BY e.n, w.id
	)
	SELECT pg_notify(%s, (position + cardinality($1::text[]))::text) FROM last`

// eventRows are the events a transaction holds back for insertEvents, a slice per column.
type eventRows struct {
	id, typ, conversation, channel, bot, traceParent []string
	time                                             []time.Time
	payload                                          [][]byte
	forBot                                           []bool
}

func (r *eventRows) len() int { return len(r.id) }

func (r *eventRows) add(e domain.Event, payload []byte, traceParent string) {
	r.id = append(r.id, e.ID)
	r.typ = append(r.typ, string(e.Type))
	r.conversation = append(r.conversation, e.ConversationID)
	r.channel = append(r.channel, e.ChannelID)
	r.bot = append(r.bot, e.BotID)
	r.traceParent = append(r.traceParent, traceParent)
	r.time = append(r.time, e.Time)
	r.payload = append(r.payload, payload)
	r.forBot = append(r.forBot, e.ForBot())
}

// truncate forgets the events after the first n.
func (r *eventRows) truncate(n int) {
	r.id, r.typ, r.conversation, r.channel = r.id[:n], r.typ[:n], r.conversation[:n], r.channel[:n]
	r.bot, r.traceParent, r.time = r.bot[:n], r.traceParent[:n], r.time[:n]
	r.payload, r.forBot = r.payload[:n], r.forBot[:n]
}

func (r *eventRows) args() []any {
	return []any{r.id, r.typ, r.conversation, r.channel, r.bot, r.time, r.payload, r.forBot, r.traceParent}
}

// AppendEvents holds the events back, with the columns their filters read and each whole as
// JSON, to be stored at commit with their deliveries: the events come back with their ids and
// a zero Sequence. A failure to store them fails the commit.
func (t *tx) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if t.tx.numbering == nil {
		return nil, errors.New("postgres: create event: a read transaction stores nothing")
	}
	out := make([]domain.Event, len(events))
	traceParent := store.TraceParent(ctx)
	for i, e := range events {
		if e.ID == "" {
			e.ID = rand.Text()
		}
		e.Sequence = 0 // known once committed; filled in from the column on read
		payload, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("postgres: encode event: %w", err)
		}
		t.tx.events.add(e, payload, traceParent)
		out[i] = e
	}
	return out, nil
}

// selectEvent reads an event's payload and its public sequence.
const selectEvent = "SELECT position, payload FROM events"

func (t *tx) GetEvents(ctx context.Context, ids []string) ([]domain.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return getAll(ctx, t, scanEvent, selectEvent+" WHERE id = ANY ($1) ORDER BY position", ids)
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

// ListOwnerChanges lists the conversation's owner changes in the order they were made: those
// stored by position (their commit order, which is the order of the conversation's Writes,
// serialised by its row lock), and those the transaction holds back last.
func (t *tx) ListOwnerChanges(ctx context.Context, conversationID string) ([]domain.Event, error) {
	changes, err := getAll(ctx, t, scanEvent, selectEvent+" WHERE conversation_id = $1 AND type = $2 ORDER BY position",
		conversationID, domain.EventOwnerChanged)
	if err != nil {
		return nil, err
	}
	held := &t.tx.events
	for i := range held.len() {
		if held.conversation[i] != conversationID || held.typ[i] != string(domain.EventOwnerChanged) {
			continue
		}
		var e domain.Event
		if err := json.Unmarshal(held.payload[i], &e); err != nil {
			return nil, fmt.Errorf("postgres: decode event: %w", err)
		}
		changes = append(changes, e)
	}
	return changes, nil
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
