package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a transaction begun with its first statement, in the same round trip
// (pgx.Batch.BeginTx), rather than by a round trip of its own: on a busy server every round
// trip costs CPU on both ends. A transaction that sends nothing takes no connection.
type lazyTx struct {
	pool *pgxpool.Pool
	opts pgx.TxOptions
	tx   pgx.Tx // nil until the first statement is sent
}

// SendBatch sends b in the transaction, beginning it first if need be. The results read like
// those of b alone.
func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if l.tx != nil {
		return l.tx.SendBatch(ctx, b)
	}
	var begin pgx.Batch
	begin.BeginTx(l.opts)
	begin.QueuedQueries = append(begin.QueuedQueries, b.QueuedQueries...)
	br := l.pool.SendBatch(ctx, &begin)
	l.tx = br.Tx()
	_, _ = br.Exec() // the begin's result; a failure is every later result's too
	return br
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.tx != nil {
		return l.tx.Exec(ctx, sql, args...)
	}
	var b pgx.Batch
	var tag pgconn.CommandTag
	b.Queue(sql, args...).Exec(func(t pgconn.CommandTag) error {
		tag = t
		return nil
	})
	return tag, l.SendBatch(ctx, &b).Close()
}

// Query runs a query and hands its rows to fn, which need not close them.
func (l *lazyTx) Query(ctx context.Context, fn func(pgx.Rows) error, sql string, args ...any) error {
	if l.tx != nil {
		rows, _ := l.tx.Query(ctx, sql, args...) // an error is rows.Err()'s
		defer rows.Close()
		return fn(rows)
	}
	var b pgx.Batch
	b.Queue(sql, args...).Query(fn)
	return l.SendBatch(ctx, &b).Close()
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if l.tx != nil {
		return l.tx.QueryRow(ctx, sql, args...)
	}
	return firstRow{l: l, ctx: ctx, sql: sql, args: args}
}

// firstRow is the row of a transaction's first query, which is sent when it is scanned.
type firstRow struct {
	l    *lazyTx
	ctx  context.Context
	sql  string
	args []any
}

func (r firstRow) Scan(dest ...any) error {
	var b pgx.Batch
	b.Queue(r.sql, r.args...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
	return r.l.SendBatch(r.ctx, &b).Close()
}

func (l *lazyTx) commit(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Commit(ctx)
}

func (l *lazyTx) rollback(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Rollback(ctx)
}

// batch runs b as one write transaction in a single round trip: BEGIN, b, COMMIT. Its queries
// must be read through their callbacks.
func (s *Store) batch(ctx context.Context, b *pgx.Batch) error {
	var all pgx.Batch
	all.BeginTx(writeOptions)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	all.Queue("COMMIT")
	br := s.pool.SendBatch(ctx, &all)
	// After the COMMIT, this only gives the connection back to the pool; after a failure it
	// rolls back first.
	defer func() { _ = br.Tx().Rollback(ctx) }()
	return br.Close()
}
