package sqlite

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var queueColumns = []string{"id", "display_name", "skills", "offer_timeout", "policy", "create_time", "update_time", "revision"}

// selectQueue derives Waiting from the handovers requested or offered in the queue.
var selectQueue = "SELECT " + columns("q", queueColumns) + `,
	(SELECT count(*) FROM handovers h WHERE h.queue_id = q.id AND h.state IN ('requested', 'offered'))
	FROM queues q`

// queueArgs leaves out Waiting, which is derived.
func queueArgs(q domain.Queue) []any {
	return []any{q.ID, q.DisplayName, jsonList(q.Skills), int64(q.OfferTimeout), jsonObject(q.Policy), nanos(q.CreateTime), nanos(q.UpdateTime), q.Revision}
}

func scanQueue(s scanner) (domain.Queue, error) {
	var q domain.Queue
	err := s.Scan(&q.ID, &q.DisplayName, jsonCol(&q.Skills), &q.OfferTimeout, jsonCol(&q.Policy),
		timeCol{&q.CreateTime}, timeCol{&q.UpdateTime}, &q.Revision, &q.Waiting)
	return q, err
}

func (t *tx) CreateQueue(ctx context.Context, q domain.Queue) error {
	return t.insert(ctx, "queue", insertSQL("queues", queueColumns), queueArgs(q)...)
}

func (t *tx) GetQueue(ctx context.Context, id string) (domain.Queue, error) {
	return getOne(ctx, t, scanQueue, "queue", id, selectQueue+" WHERE q.id = ?", id)
}

func (t *tx) ListQueues(ctx context.Context, p store.Page) ([]domain.Queue, string, error) {
	return getPage(ctx, t, query{head: selectQueue}, order{id: "q.id"}, p, scanQueue, func(q domain.Queue) cursor { return cursor{ID: q.ID} })
}

func (t *tx) UpdateQueue(ctx context.Context, q domain.Queue) error {
	return t.update(ctx, "queue", "queues", q.ID, q.Revision, queueColumns, queueArgs(q))
}

func (t *tx) DeleteQueue(ctx context.Context, id string) error {
	return t.delete(ctx, "queue", "queues", id)
}

func (t *tx) QueueInUse(ctx context.Context, id string) (bool, error) {
	n, err := t.count(ctx, `SELECT
		EXISTS (SELECT 1 FROM channels WHERE default_queue_id = ?) OR
		EXISTS (SELECT 1 FROM handovers WHERE queue_id = ? AND state IN ('requested', 'offered', 'accepted'))`, id, id)
	return n != 0, err
}
