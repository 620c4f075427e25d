package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The statements that begin Write and Read transactions.
const (
	beginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED"
	beginRead  = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
)

// lazyTx is a transaction on a connection of the pool that spends as few round trips as it
// can: on a busy server every round trip costs CPU on both ends. BEGIN goes out with the first
// statement, and statements whose results are not needed (deferred) go out with the next
// statement or with the COMMIT. A transaction that sends nothing takes no connection.
type lazyTx struct {
	pool  *pgxpool.Pool
	begin string        // beginWrite or beginRead
	conn  *pgxpool.Conn // nil until the first statement is sent
	// pending holds the deferred statements not sent yet, which read their own results.
	pending pgx.Batch
	// sent counts the statements sent by themselves or in batches (Send), whichever way.
	sent int
	// lost is why deferred statements may not have run: a batch that carried them failed. The
	// transaction may still be usable (the failure was, say, a canceled context before sending),
	// so commit refuses to commit without them.
	lost error
	// events are the events the transaction stores, held back until its commit, which numbers
	// them as numbering (nil in a Read) says.
	events    eventRows
	numbering *numbering
}

// Defer queues a statement to be sent with the next one, or with the COMMIT: its error, as
// fail maps it, is then the next statement's or the commit's. Statements are still run in the
// order they are given, so the next one sees what a deferred one wrote.
func (l *lazyTx) Defer(fail func(error) error, sql string, args ...any) {
	l.pending.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fail(err)
		}
		return nil
	}
}

// Send sends b in one round trip, after the BEGIN if it begins the transaction and after the
// deferred statements. b's queries must be read through their callbacks (QueuedQuery.Query,
// QueryRow, Exec): Send returns the first error of any.
func (l *lazyTx) Send(ctx context.Context, b *pgx.Batch) error {
	var all pgx.Batch
	if l.conn == nil {
		conn, err := l.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		l.conn = conn
		all.Queue(l.begin)
	}
	deferred := l.pending.Len() > 0
	all.QueuedQueries = append(all.QueuedQueries, l.pending.QueuedQueries...)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	l.pending = pgx.Batch{}
	l.sent++
	err := l.conn.SendBatch(ctx, &all).Close()
	if err != nil && deferred && l.lost == nil {
		l.lost = err
	}
	return err
}

// mark is where a transaction stands: how much it has sent, and the statements and events it
// holds back.
type mark struct{ sent, pending, events int }

func (l *lazyTx) mark() mark { return mark{l.sent, l.pending.Len(), l.events.len()} }

// undo forgets the statements deferred and the events held back since m, if nothing was sent
// since: then the database has seen nothing of them. It reports whether it could.
func (l *lazyTx) undo(m mark) bool {
	if l.sent != m.sent {
		return false
	}
	l.pending.QueuedQueries = l.pending.QueuedQueries[:m.pending]
	l.events.truncate(m.events)
	return true
}

// direct reports whether a statement can go out by itself: the transaction is begun and
// nothing is deferred.
func (l *lazyTx) direct() bool { return l.conn != nil && l.pending.Len() == 0 }

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.direct() {
		l.sent++
		return l.conn.Exec(ctx, sql, args...)
	}
	var b pgx.Batch
	var tag pgconn.CommandTag
	b.Queue(sql, args...).Exec(func(t pgconn.CommandTag) error {
		tag = t
		return nil
	})
	return tag, l.Send(ctx, &b)
}

// Query runs a query and hands its rows to fn, which need not close them.
func (l *lazyTx) Query(ctx context.Context, fn func(pgx.Rows) error, sql string, args ...any) error {
	if l.direct() {
		l.sent++
		rows, _ := l.conn.Query(ctx, sql, args...) // an error is rows.Err()'s
		defer rows.Close()
		return fn(rows)
	}
	var b pgx.Batch
	b.Queue(sql, args...).Query(fn)
	return l.Send(ctx, &b)
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if l.direct() {
		l.sent++
		return l.conn.QueryRow(ctx, sql, args...)
	}
	return batchRow{l: l, ctx: ctx, sql: sql, args: args}
}

// batchRow is the row of a query that goes out with others: it is sent when it is scanned.
type batchRow struct {
	l    *lazyTx
	ctx  context.Context
	sql  string
	args []any
}

// Scan reports no row (pgx.ErrNoRows) apart from failures: pgx forgets the statements of a
// batch that fails, and would prepare them again.
func (r batchRow) Scan(dest ...any) error {
	var b pgx.Batch
	var noRow error
	b.Queue(r.sql, r.args...).QueryRow(func(row pgx.Row) error {
		err := row.Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			noRow, err = err, nil
		}
		return err
	})
	if err := r.l.Send(r.ctx, &b); err != nil {
		return err
	}
	return noRow
}

// commit sends the deferred statements, the events (numbered under the numbering lock) and
// COMMIT, in one round trip. It fails as the first of them that fails.
func (l *lazyTx) commit(ctx context.Context) error {
	if l.lost != nil {
		return fmt.Errorf("postgres: commit: deferred writes failed: %w", l.lost)
	}
	if l.events.len() > 0 {
		l.pending.Queue(takeNumberingLock, l.numbering.lock)
		l.Defer(func(err error) error { return writeErr("create", "event", err) }, l.numbering.insert, l.events.args()...)
		l.events = eventRows{}
	}
	if l.conn == nil && l.pending.Len() == 0 {
		return nil
	}
	var b pgx.Batch
	b.Queue("COMMIT").Fn = func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err == nil && tag.String() == "ROLLBACK" { // a failed statement had aborted the transaction
			err = pgx.ErrTxCommitRollback
		}
		if err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		return nil
	}
	err := l.Send(ctx, &b)
	// The deferred statements went with the COMMIT, so the error says what became of them: a
	// broken connection leaves the commit's outcome unknown, which lost must not hide.
	l.lost = nil
	return err
}

// close gives the connection back to the pool, rolling the transaction back unless it ended:
// even once ctx is done (a caller that gave up should not cost the pool a connection), but
// without waiting long on a broken network. (A connection that cannot roll back is not idle,
// and the pool closes it.)
func (l *lazyTx) close(ctx context.Context) {
	if l.conn == nil {
		return
	}
	if l.conn.Conn().PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_, _ = l.conn.Exec(ctx, "ROLLBACK")
		cancel()
	}
	l.conn.Release()
	l.conn = nil
}
