package postgres

import (
	"cmp"
	"context"
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

var (
	selectWebhook = "SELECT " + columns("w", webhookColumns) + " FROM webhooks w"
	insertWebhook = insertSQL("webhooks", webhookColumns)
	updateWebhook = updateSQL("webhooks", webhookColumns)
)

// webhookArgs stores the secrets, which sign deliveries, sealed; their clear columns stay empty.
func (t *tx) webhookArgs(w domain.Webhook) ([]any, error) {
	sealed, err := store.SealWebhookSecrets(t.keys, w.ID, w.Secret, w.PreviousSecret)
	return []any{
		w.ID, w.BotID, w.URL, jsonList(w.EventTypes), jsonList(w.ChannelIDs), w.State, w.InactiveReason, w.InactivePolicy,
		w.ConsecutiveFailures, "", "", sealed, w.PreviousSecretExpireTime, w.VerifyTime,
		w.CreateTime, w.UpdateTime, w.Revision,
	}, err
}

func (t *tx) scanWebhook(s scanner) (w domain.Webhook, err error) {
	var sealed []byte
	err = s.Scan(
		&w.ID, &w.BotID, &w.URL, jsonCol(&w.EventTypes), jsonCol(&w.ChannelIDs), &w.State, &w.InactiveReason, &w.InactivePolicy,
		&w.ConsecutiveFailures, &w.Secret, &w.PreviousSecret, &sealed, &w.PreviousSecretExpireTime, &w.VerifyTime,
		&w.CreateTime, &w.UpdateTime, &w.Revision)
	if err != nil {
		return w, err
	}
	return w, store.OpenWebhookSecrets(t.keys, &w, sealed)
}

// CreateWebhook clashes on the id, and on the bot when it has a webhook already.
func (t *tx) CreateWebhook(ctx context.Context, w domain.Webhook) error {
	args, err := t.webhookArgs(w)
	if err != nil {
		return err
	}
	return t.insert(ctx, "webhook", insertWebhook, args...)
}

func (t *tx) GetWebhook(ctx context.Context, id string) (domain.Webhook, error) {
	return getOne(ctx, t, t.scanWebhook, "webhook", id, selectWebhook+" WHERE w.id = $1", id)
}

func (t *tx) ListWebhooks(ctx context.Context, botID string, p store.Page) ([]domain.Webhook, string, error) {
	q := query{head: selectWebhook}
	if botID != "" {
		q.where("w.bot_id = " + q.arg(botID))
	}
	return getPage(ctx, t, q, order{time: "w.create_time", id: "w.id"}, p, t.scanWebhook,
		func(w domain.Webhook) cursor { return cursor{T: w.CreateTime, ID: w.ID} })
}

// UpdateWebhook that moves a webhook to a bot that has one clashes, which aborts the
// transaction (see writeErr).
func (t *tx) UpdateWebhook(ctx context.Context, w domain.Webhook) error {
	args, err := t.webhookArgs(w)
	if err != nil {
		return err
	}
	return t.update(ctx, "webhook", updateWebhook, w.ID, args)
}

// deleteDeliveries deletes a webhook's deliveries and their attempts. (Its CTE shares the
// statement's snapshot: the attempts are found through the deliveries deleted.)
const deleteDeliveries = `WITH gone AS (
		DELETE FROM deliveries WHERE webhook_id = $1 RETURNING id
	)
	DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM gone)`

// deleteWebhook deletes a webhook and says whether it existed.
const deleteWebhook = "WITH hook AS (DELETE FROM webhooks WHERE id = $1 RETURNING 1) SELECT EXISTS (SELECT FROM hook)"

// DeleteWebhook deletes the deliveries before the webhook, as the lock order has it (lock.go);
// the first statement goes with the second.
func (t *tx) DeleteWebhook(ctx context.Context, id string) error {
	t.tx.Defer(func(err error) error { return writeErr("delete", "webhook", err) }, deleteDeliveries, id)
	var existed bool
	if err := t.tx.QueryRow(ctx, deleteWebhook, id).Scan(&existed); err != nil {
		return writeErr("delete", "webhook", err)
	}
	if !existed {
		return domain.NotFound("webhook", id)
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
		&d.NextAttemptTime, &d.LeaseExpireTime, &d.TraceParent, &d.CreateTime, &d.UpdateTime)
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

// claimDeliveries leases until $3 the oldest $2 due deliveries of all active webhooks ($1 now),
// in one statement. For each active webhook it walks the webhook's pending deliveries in order
// and stops at the limit: the oldest pending ones are mostly their conversation's head, so it
// costs about its size, not the backlog's. A delivery is due when no earlier delivery of its
// webhook and conversation is pending, leased or not. (Its event is numbered already: they
// commit together.)
//
// Claimers run concurrently, in Write transactions on connections of their own. Each locks the
// rows it picks (SKIP LOCKED: rows another claimer is leasing are passed over, not waited for)
// and then writes their lease. A row another claimer leased and committed after this
// statement's snapshot is locked in its new version, whose WHERE is checked again: its lease is
// now in the future, so it is left out. So no delivery is claimed twice while its lease holds.
// A pending delivery another transaction is deleting or delivering meanwhile only holds the
// next one of its conversation back until the next claim. Due rows locked but not taken (past
// the overall limit) are only locked until the claim commits. The lease finds its rows by
// webhook and seq, which an index leads with (seq alone would scan the table).
var claimDeliveries = `WITH due AS (
		SELECT w.id AS webhook_id, x.seq FROM webhooks w CROSS JOIN LATERAL (
			SELECT d.seq FROM deliveries d
			WHERE d.webhook_id = w.id AND d.state = 'pending'
				AND d.next_attempt_time <= $1 AND d.lease_expire_time <= $1
				AND NOT EXISTS (SELECT 1 FROM deliveries p
					WHERE p.webhook_id = d.webhook_id AND p.conversation_id = d.conversation_id
						AND p.state = 'pending' AND p.seq < d.seq)
			ORDER BY d.seq LIMIT $2
			FOR NO KEY UPDATE OF d SKIP LOCKED
		) x
		WHERE w.state = 'active'
		ORDER BY x.seq LIMIT $2
	)
	UPDATE deliveries d SET lease_expire_time = $3 FROM due
	WHERE d.webhook_id = due.webhook_id AND d.seq = due.seq
	RETURNING d.seq, ` + columns("d", deliveryColumns)

// ClaimDeliveries takes the oldest due deliveries of all active webhooks, in one round trip
// however many webhooks there are.
func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]domain.Delivery, error) {
	rows, err := getAll(ctx, t, scanDeliveryRow, claimDeliveries, now, limitOr(limit), leaseUntil)
	if err != nil {
		return nil, err
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(rows, func(a, b deliveryRow) int { return cmp.Compare(a.seq, b.seq) })
	return deliveries(rows), nil
}

// GetDelivery locks the delivery in a Write, as a conversation is locked: a sender recording
// an attempt and a Redeliver each read what the other committed, rather than overwrite it.
func (t *tx) GetDelivery(ctx context.Context, id string) (domain.Delivery, error) {
	return getOne(ctx, t, scanDelivery, "delivery", id, t.lock(selectDelivery+" WHERE d.id = $1"), id)
}

// deliveryOrder lists deliveries newest first: seq is unique, so the id only fills the cursor.
var deliveryOrder = order{num: "d.seq", id: "d.id", desc: true}

func (t *tx) ListDeliveries(ctx context.Context, dq store.DeliveryQuery, p store.Page) ([]domain.Delivery, string, error) {
	q := query{head: selectDelivery}
	whereDeliveries(&q, dq)
	rows, next, err := getPage(ctx, t, q, deliveryOrder, p, scanDeliveryRow,
		func(r deliveryRow) cursor { return cursor{N: r.seq, ID: r.ID} })
	return deliveries(rows), next, err
}

// whereDeliveries adds the filters of dq on deliveries d.
func whereDeliveries(q *query, dq store.DeliveryQuery) {
	q.where("d.webhook_id = " + q.arg(dq.WebhookID))
	if dq.ConversationID != "" {
		q.where("d.conversation_id = " + q.arg(dq.ConversationID))
	}
	if len(dq.States) > 0 {
		q.where("d.state = ANY (" + q.arg(stringList(dq.States)) + ")")
	}
	if !dq.CreatedAfter.IsZero() {
		q.where("d.create_time >= " + q.arg(dq.CreatedAfter))
	}
	if !dq.CreatedBefore.IsZero() {
		q.where("d.create_time < " + q.arg(dq.CreatedBefore))
	}
}

// GetDeliveries locks the deliveries in id order (see GetDelivery and lock.go), in one statement.
func (t *tx) GetDeliveries(ctx context.Context, ids []string) ([]domain.Delivery, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := getAll(ctx, t, scanDeliveryRow, t.lock(selectDelivery+" WHERE d.id = ANY ($1) ORDER BY d.id"), ids)
	return deliveries(rows), err
}

// updateDeliveries overwrites the deliveries listed column by column in $1..$7.
const updateDeliveries = `UPDATE deliveries d SET state = u.state, attempts = u.attempts, failures = u.failures,
		next_attempt_time = u.next_attempt_time, lease_expire_time = u.lease_expire_time, update_time = u.update_time
	FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
		AS u(id, state, attempts, failures, next_attempt_time, lease_expire_time, update_time)
	WHERE d.id = u.id`

func (t *tx) UpdateDeliveries(ctx context.Context, ds []domain.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	var (
		ids, states                   = make([]string, len(ds)), make([]string, len(ds))
		attempts, failures            = make([]int, len(ds)), make([]int, len(ds))
		nextAttempts, leases, updates = make([]time.Time, len(ds)), make([]time.Time, len(ds)), make([]time.Time, len(ds))
	)
	for i, d := range ds {
		ids[i], states[i], attempts[i], failures[i] = d.ID, string(d.State), d.Attempts, d.Failures
		nextAttempts[i], leases[i], updates[i] = d.NextAttemptTime, d.LeaseExpireTime, d.UpdateTime
	}
	tag, err := t.tx.Exec(ctx, updateDeliveries, ids, states, attempts, failures, nextAttempts, leases, updates)
	if err != nil {
		return writeErr("update", "delivery", err)
	}
	if int(tag.RowsAffected()) != len(ds) {
		for _, d := range ds {
			if _, err := t.GetDelivery(ctx, d.ID); err != nil {
				return err
			}
		}
		return fmt.Errorf("postgres: update deliveries: %d rows, fewer updated", len(ds)) // an id listed twice
	}
	return nil
}

// RequeueDeliveries is domain.Redeliver in SQL.
func (t *tx) RequeueDeliveries(ctx context.Context, dq store.DeliveryQuery, now time.Time) (int, error) {
	var q query
	at := q.arg(now)
	q.head = `UPDATE deliveries d SET state = 'pending', failures = 0, next_attempt_time = ` + at + `,
		lease_expire_time = CASE WHEN lease_expire_time > ` + at + ` THEN lease_expire_time ELSE ` + notSet + ` END,
		update_time = ` + at
	whereDeliveries(&q, dq)
	tag, err := t.tx.Exec(ctx, q.sql(), q.args...)
	if err != nil {
		return 0, fmt.Errorf("postgres: requeue deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

var attemptColumns = []string{"delivery_id", "number", "time", "status_code", "error", "latency"}

var (
	insertAttempts = "INSERT INTO delivery_attempts (" + strings.Join(attemptColumns, ", ") + `)
		SELECT * FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::integer[], $5::text[], $6::interval[])`
	listAttempts = "SELECT " + strings.Join(attemptColumns, ", ") + ` FROM delivery_attempts
		WHERE delivery_id = ANY ($1) ORDER BY delivery_id, number`
)

func scanAttempt(s scanner) (a domain.Attempt, err error) {
	err = s.Scan(&a.DeliveryID, &a.Number, &a.Time, &a.StatusCode, &a.Error, &a.Latency)
	return a, err
}

func (t *tx) AddAttempts(ctx context.Context, as []domain.Attempt) error {
	if len(as) == 0 {
		return nil
	}
	var (
		deliveryIDs, errs = make([]string, len(as)), make([]string, len(as))
		numbers, statuses = make([]int, len(as)), make([]int, len(as))
		times             = make([]time.Time, len(as))
		latencies         = make([]time.Duration, len(as))
	)
	for i, a := range as {
		deliveryIDs[i], numbers[i], times[i], statuses[i], errs[i], latencies[i] =
			a.DeliveryID, a.Number, a.Time, a.StatusCode, a.Error, a.Latency
	}
	if _, err := t.tx.Exec(ctx, insertAttempts, deliveryIDs, numbers, times, statuses, errs, latencies); err != nil {
		return writeErr("create", "attempt", err)
	}
	return nil
}

func (t *tx) ListAttempts(ctx context.Context, deliveryIDs []string) (map[string][]domain.Attempt, error) {
	out := map[string][]domain.Attempt{}
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	attempts, err := getAll(ctx, t, scanAttempt, listAttempts, deliveryIDs)
	if err != nil {
		return nil, err
	}
	for _, a := range attempts {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}
