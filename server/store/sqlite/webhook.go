package sqlite

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var webhookColumns = []string{
	"id", "bot_id", "url", "event_types", "channel_ids", "state", "inactive_reason", "inactive_policy",
	"consecutive_failures", "secret", "previous_secret", "sealed_secrets", "previous_secret_expire_time", "verify_time",
	"create_time", "update_time", "revision",
}

var selectWebhook = "SELECT " + columns("w", webhookColumns) + " FROM webhooks w"

// webhookArgs stores the secrets, which sign deliveries, sealed; their clear columns stay empty.
func (t *tx) webhookArgs(w domain.Webhook) ([]any, error) {
	sealed, err := store.SealWebhookSecrets(t.s.keys, w.ID, w.Secret, w.PreviousSecret)
	return []any{
		w.ID, w.BotID, w.URL, jsonList(w.EventTypes), jsonList(w.ChannelIDs), w.State, w.InactiveReason, w.InactivePolicy,
		w.ConsecutiveFailures, "", "", sealed, nanos(w.PreviousSecretExpireTime), nanos(w.VerifyTime),
		nanos(w.CreateTime), nanos(w.UpdateTime), w.Revision,
	}, err
}

func (t *tx) scanWebhook(s scanner) (w domain.Webhook, err error) {
	var sealed []byte
	err = s.Scan(
		&w.ID, &w.BotID, &w.URL, jsonCol(&w.EventTypes), jsonCol(&w.ChannelIDs), &w.State, &w.InactiveReason, &w.InactivePolicy,
		&w.ConsecutiveFailures, &w.Secret, &w.PreviousSecret, &sealed, timeCol{&w.PreviousSecretExpireTime}, timeCol{&w.VerifyTime},
		timeCol{&w.CreateTime}, timeCol{&w.UpdateTime}, &w.Revision)
	if err != nil {
		return w, err
	}
	return w, store.OpenWebhookSecrets(t.s.keys, &w, sealed)
}

// CreateWebhook clashes on the id, and on the bot when it has a webhook already.
func (t *tx) CreateWebhook(ctx context.Context, w domain.Webhook) error {
	args, err := t.webhookArgs(w)
	if err != nil {
		return err
	}
	return t.insert(ctx, "webhook", insertSQL("webhooks", webhookColumns), args...)
}

func (t *tx) GetWebhook(ctx context.Context, id string) (domain.Webhook, error) {
	return getOne(ctx, t, t.scanWebhook, "webhook", id, selectWebhook+" WHERE w.id = ?", id)
}

func (t *tx) ListWebhooks(ctx context.Context, botID string, p store.Page) ([]domain.Webhook, string, error) {
	q := query{head: selectWebhook}
	if botID != "" {
		q.where("w.bot_id = ?", botID)
	}
	return getPage(ctx, t, q, order{time: "w.create_time", id: "w.id"}, p, t.scanWebhook,
		func(w domain.Webhook) cursor { return cursor{T: nanos(w.CreateTime), ID: w.ID} })
}

func (t *tx) UpdateWebhook(ctx context.Context, w domain.Webhook) error {
	args, err := t.webhookArgs(w)
	if err != nil {
		return err
	}
	return t.update(ctx, "webhook", "webhooks", w.ID, w.Revision, webhookColumns, args)
}

// DeleteWebhook deletes the webhook, then its deliveries' attempts and its deliveries.
func (t *tx) DeleteWebhook(ctx context.Context, id string) error {
	if err := t.delete(ctx, "webhook", "webhooks", id); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM delivery_attempts
		WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = ?)`, id)
	if err == nil {
		_, err = t.exec(ctx, "DELETE FROM deliveries WHERE webhook_id = ?", id)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete webhook: %w", err)
	}
	return nil
}

var deliveryColumns = []string{
	"id", "webhook_id", "event_id", "event_type", "conversation_id", "state", "attempts", "failures",
	"next_attempt_time", "lease_expire_time", "trace_parent", "create_time", "update_time",
}

// selectDelivery reads seq, the insertion order, before deliveryColumns.
var selectDelivery = "SELECT d.seq, " + columns("d", deliveryColumns) + " FROM deliveries d"

// deliveryRow is a delivery with its place in the insertion order, which lists page by.
type deliveryRow struct {
	domain.Delivery
	seq int64
}

func scanDeliveryRow(s scanner) (r deliveryRow, err error) {
	d := &r.Delivery
	err = s.Scan(&r.seq,
		&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.ConversationID, &d.State, &d.Attempts, &d.Failures,
		timeCol{&d.NextAttemptTime}, timeCol{&d.LeaseExpireTime}, &d.TraceParent, timeCol{&d.CreateTime}, timeCol{&d.UpdateTime})
	return r, err
}

func scanDelivery(s scanner) (domain.Delivery, error) {
	r, err := scanDeliveryRow(s)
	return r.Delivery, err
}

func deliveries(rows []deliveryRow) []domain.Delivery {
	out := make([]domain.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.Delivery
	}
	return out
}

// insertDeliveries records the delivery of one event (?1 id, ?2 type, ?3 conversation, ?4 bot,
// ?5 whether it is for its bot, ?6 time, ?7 trace parent, ?8 channel) to every webhook that
// subscribes to it, as domain.Webhook.Subscribes says: a webhook that records deliveries, a
// firehose or the event's bot's (when the event is for the bot or the bot is on standby), whose
// filters select the event. The lookup of webhooks goes through webhooks_bot, so without
// webhooks it costs next to nothing.
const insertDeliveries = `INSERT INTO deliveries (id, webhook_id, event_id, event_type, conversation_id, state,
		attempts, failures, next_attempt_time, lease_expire_time, trace_parent, create_time, update_time, channel_id)
	SELECT ?1 || '.' || w.id, w.id, ?1, ?2, ?3, 'pending', 0, 0, ?6, 0, ?7, ?6, ?6, ?8
	FROM webhooks w
	WHERE w.bot_id IN ('', ?4) AND w.state IN ('active', 'inactive')
		AND (w.bot_id = '' OR ?5 OR EXISTS (SELECT 1 FROM bots b WHERE b.id = w.bot_id AND b.standby))
		AND (w.event_types = '[]' OR EXISTS (SELECT 1 FROM json_each(w.event_types) WHERE value = ?2))
		AND (w.channel_ids = '[]' OR EXISTS (SELECT 1 FROM json_each(w.channel_ids) WHERE value = ?8))
	ORDER BY w.id`

// recordDeliveries records the deliveries of a stored event.
func (t *tx) recordDeliveries(ctx context.Context, e domain.Event, traceParent string) error {
	_, err := t.exec(ctx, insertDeliveries,
		e.ID, e.Type, e.ConversationID, e.BotID, e.ForBot(), nanos(e.Time), traceParent, e.ChannelID)
	return writeErr("create", "delivery", err)
}

// dueDeliveries lists a webhook's oldest due deliveries (?1 now, ?2 limit, ?3 the webhook). It
// walks the webhook's pending deliveries in order and stops at the limit: the oldest pending
// ones are mostly their conversation's head, so it costs about its size, not the backlog's.
const dueDeliveries = `SELECT d.seq FROM deliveries d INDEXED BY deliveries_due
	WHERE d.webhook_id = ?3 AND d.state = 'pending'
		AND d.next_attempt_time <= ?1 AND d.lease_expire_time <= ?1
		AND NOT EXISTS (SELECT 1 FROM deliveries p INDEXED BY deliveries_pending
			WHERE p.webhook_id = d.webhook_id AND p.conversation_id = d.conversation_id
				AND p.state = 'pending' AND p.seq < d.seq)
	ORDER BY d.seq LIMIT ?2 + 0`

// leaseDeliveries leases the deliveries whose seqs ?2 lists (JSON) until ?1.
var leaseDeliveries = `UPDATE deliveries SET lease_expire_time = ?1
	WHERE seq IN (SELECT value FROM json_each(?2))
	RETURNING seq, ` + strings.Join(deliveryColumns, ", ")

// ClaimDeliveries takes the oldest due deliveries of all active webhooks. Writes are
// serialised, so no other claim runs between its reads and its write.
func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]domain.Delivery, error) {
	hooks, err := getAll(ctx, t, scanString, "SELECT id FROM webhooks WHERE state = 'active'")
	if err != nil {
		return nil, err
	}
	limit = limitOr(limit)
	var due []int64
	for _, id := range hooks {
		seqs, err := getAll(ctx, t, scanInt64, dueDeliveries, nanos(now), limit, id)
		if err != nil {
			return nil, err
		}
		due = append(due, seqs...)
	}
	if len(due) == 0 {
		return nil, nil
	}
	slices.Sort(due)
	due = due[:min(limit, len(due))]
	list, err := json.Marshal(due)
	if err != nil {
		return nil, err
	}
	rows, err := getAll(ctx, t, scanDeliveryRow, leaseDeliveries, nanos(leaseUntil), string(list))
	if err != nil {
		return nil, err
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(rows, func(a, b deliveryRow) int { return cmp.Compare(a.seq, b.seq) })
	return deliveries(rows), nil
}

func scanInt64(s scanner) (int64, error) {
	var v int64
	err := s.Scan(&v)
	return v, err
}

func (t *tx) GetDelivery(ctx context.Context, id string) (domain.Delivery, error) {
	return getOne(ctx, t, scanDelivery, "delivery", id, selectDelivery+" WHERE d.id = ?", id)
}

// deliveryOrder lists deliveries newest first: seq is unique, so the id only fills the cursor.
var deliveryOrder = order{time: "d.seq", id: "d.id", desc: true}

func (t *tx) ListDeliveries(ctx context.Context, dq store.DeliveryQuery, p store.Page) ([]domain.Delivery, string, error) {
	q := query{head: selectDelivery}
	whereDeliveries(&q, dq)
	rows, next, err := getPage(ctx, t, q, deliveryOrder, p, scanDeliveryRow,
		func(r deliveryRow) cursor { return cursor{T: r.seq, ID: r.ID} })
	return deliveries(rows), next, err
}

// whereDeliveries adds the filters of dq on deliveries d.
func whereDeliveries(q *query, dq store.DeliveryQuery) {
	q.where("d.webhook_id = ?", dq.WebhookID)
	if dq.ConversationID != "" {
		q.where("d.conversation_id = ?", dq.ConversationID)
	}
	if len(dq.States) > 0 {
		whereIn(q, "d.state", dq.States)
	}
	if !dq.CreatedAfter.IsZero() {
		q.where("d.create_time >= ?", nanos(dq.CreatedAfter))
	}
	if !dq.CreatedBefore.IsZero() {
		q.where("d.create_time < ?", nanos(dq.CreatedBefore))
	}
}

// GetDeliveries passes the ids as one JSON list, so that any number of them is one statement.
// (Writes are serialised: there is nothing to lock.)
func (t *tx) GetDeliveries(ctx context.Context, ids []string) ([]domain.Delivery, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := getAll(ctx, t, scanDeliveryRow,
		selectDelivery+" WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.id", jsonList(ids))
	return deliveries(rows), err
}

// updateDeliveries overwrites the deliveries ?1 lists, a JSON array per row: an array reads
// faster than an object with names.
const updateDeliveries = `UPDATE deliveries SET state = u.value->>1, attempts = u.value->>2,
		failures = u.value->>3, next_attempt_time = u.value->>4,
		lease_expire_time = u.value->>5, update_time = u.value->>6
	FROM json_each(?1) u WHERE deliveries.id = u.value->>0`

func (t *tx) UpdateDeliveries(ctx context.Context, ds []domain.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		rows[i] = []any{d.ID, d.State, d.Attempts, d.Failures,
			nanos(d.NextAttemptTime), nanos(d.LeaseExpireTime), nanos(d.UpdateTime)}
	}
	res, err := t.exec(ctx, updateDeliveries, jsonList(rows))
	if err := writeErr("update", "delivery", err); err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if int(n) != len(ds) {
		return t.missingDelivery(ctx, ds)
	}
	return nil
}

// missingDelivery returns NotFound for the first of ds that does not exist.
func (t *tx) missingDelivery(ctx context.Context, ds []domain.Delivery) error {
	for _, d := range ds {
		if _, err := t.GetDelivery(ctx, d.ID); err != nil {
			return err
		}
	}
	return fmt.Errorf("sqlite: update deliveries: %d rows, fewer updated", len(ds)) // an id listed twice
}

// RequeueDeliveries is domain.Redeliver in SQL.
func (t *tx) RequeueDeliveries(ctx context.Context, dq store.DeliveryQuery, now time.Time) (int, error) {
	q := query{
		head: `UPDATE deliveries AS d SET state = 'pending', failures = 0, next_attempt_time = ?1,
			lease_expire_time = CASE WHEN lease_expire_time > ?1 THEN lease_expire_time ELSE 0 END,
			update_time = ?1`,
		args: []any{nanos(now)},
	}
	whereDeliveries(&q, dq)
	res, err := t.exec(ctx, q.sql(), q.args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: requeue deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

var attemptColumns = []string{"delivery_id", "number", "time", "status_code", "error", "latency"}

func scanAttempt(s scanner) (a domain.Attempt, err error) {
	err = s.Scan(&a.DeliveryID, &a.Number, timeCol{&a.Time}, &a.StatusCode, &a.Error, &a.Latency)
	return a, err
}

// insertAttempts inserts the attempts ?1 lists, a JSON array per row.
var insertAttempts = "INSERT INTO delivery_attempts (" + strings.Join(attemptColumns, ", ") + `)
	SELECT a.value->>0, a.value->>1, a.value->>2, a.value->>3, a.value->>4, a.value->>5
	FROM json_each(?1) a`

func (t *tx) AddAttempts(ctx context.Context, as []domain.Attempt) error {
	if len(as) == 0 {
		return nil
	}
	rows := make([][]any, len(as))
	for i, a := range as {
		rows[i] = []any{a.DeliveryID, a.Number, nanos(a.Time), a.StatusCode, a.Error, int64(a.Latency)}
	}
	_, err := t.exec(ctx, insertAttempts, jsonList(rows))
	return writeErr("create", "attempt", err)
}

// ListAttempts passes the ids as one JSON list, so that any number of them is one statement.
func (t *tx) ListAttempts(ctx context.Context, deliveryIDs []string) (map[string][]domain.Attempt, error) {
	out := map[string][]domain.Attempt{}
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	attempts, err := getAll(ctx, t, scanAttempt, "SELECT "+strings.Join(attemptColumns, ", ")+` FROM delivery_attempts
		WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY delivery_id, number`, jsonList(deliveryIDs))
	if err != nil {
		return nil, err
	}
	for _, a := range attempts {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}
