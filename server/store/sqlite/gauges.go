package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

type stateCount struct {
	state string
	n     int
}

func scanStateCount(s scanner) (c stateCount, err error) {
	err = s.Scan(&c.state, &c.n)
	return c, err
}

func (t *tx) Gauges(ctx context.Context) (store.Gauges, error) {
	g := store.Gauges{Agents: map[domain.Presence]int{}, Deliveries: map[domain.DeliveryState]int{}}
	var err error
	g.Queues, err = getAll(ctx, t, func(s scanner) (q store.QueueGauge, err error) {
		err = s.Scan(&q.QueueID, &q.Waiting, timeCol{&q.Oldest})
		return q, err
	}, `SELECT q.id, count(h.id), coalesce(min(h.create_time), 0) FROM queues q
		LEFT JOIN handovers h ON h.queue_id = q.id AND h.state IN ('requested', 'offered')
		GROUP BY q.id ORDER BY q.id`)
	if err != nil {
		return g, err
	}
	agents, err := getAll(ctx, t, scanStateCount, "SELECT presence, count(*) FROM agents GROUP BY presence")
	if err != nil {
		return g, err
	}
	for _, a := range agents {
		g.Agents[domain.Presence(a.state)] = a.n
	}
	if g.OnlineCapacity, err = t.count(ctx, "SELECT coalesce(sum(capacity), 0) FROM agents WHERE presence = 'online'"); err != nil {
		return g, err
	}
	if g.Engaged, err = t.count(ctx, "SELECT count(*) FROM handovers WHERE state = 'accepted'"); err != nil {
		return g, err
	}
	deliveries, err := getAll(ctx, t, scanStateCount, "SELECT state, count(*) FROM deliveries GROUP BY state")
	if err != nil {
		return g, err
	}
	for _, d := range deliveries {
		g.Deliveries[domain.DeliveryState(d.state)] = d.n
	}
	var oldest sql.NullInt64
	err = t.queryRow(ctx, "SELECT count(*), min(create_time) FROM messages WHERE direction = 'outbound' AND status = 'pending'").Scan(&g.Outbox, &oldest)
	if oldest.Valid {
		g.OutboxOldest = time.Unix(0, oldest.Int64).UTC()
	}
	return g, err
}
