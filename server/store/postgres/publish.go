package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// publishEvents gives every unnumbered event the statement can see a position, in insertion
// order, above the highest position given so far. It returns the highest position after it and
// how many events it numbered, and when it numbered any, notifies the channel (%s, a quoted
// literal) of the highest. The channel is written into the statement rather than passed: a
// statement without parameters is planned once per connection, not on every call.
const publishEvents = `WITH last AS (
		SELECT coalesce(max(position), 0) AS position FROM events
	), unpublished AS (
		SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM events WHERE position IS NULL
	), published AS (
		UPDATE events e SET position = last.position + u.n
		FROM last, unpublished u WHERE e.seq = u.seq
		RETURNING e.position
	), result AS (
		SELECT coalesce(max(position), (SELECT position FROM last)) AS last, count(*) AS n FROM published
	), notified AS (
		SELECT pg_notify(%s, last::text) FROM result WHERE n > 0
	)
	SELECT last, n, (SELECT count(*) FROM notified) FROM result`

// lockPublication takes the publishers' lock. It also makes the numbering statement walk the
// index of unpublished events in order: a bitmap scan, which PostgreSQL would rather choose, does
// not mark the entries of events numbered before as dead, so it would visit them all, again and
// again, until vacuum. And the statement is planned once per connection, maybe while the table
// is nearly empty, when a sequential scan looks cheapest: that plan would then read the whole
// table on every Publish as it grows.
const lockPublication = "SELECT pg_advisory_xact_lock($1), set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)"

// Publish numbers the committed events that have no sequence yet, and returns the highest
// sequence.
//
// Numbering events as they are inserted would not do: writers commit concurrently, so a later
// number can commit before an earlier one, and a reader that has already moved past the
// earlier number would skip its event. So events are numbered here, after they commit, by one
// publisher at a time (an advisory lock per schema):
//   - The numbering statement starts after the lock is held, so under READ COMMITTED it sees
//     every event committed before, numbered ones included. New numbers go above all of them,
//     and all numbers of one publisher become visible together, at its commit: a reader
//     following the sequence never skips an event.
//   - Events are numbered in insertion order, and a conversation's Writes insert in commit
//     order (each holds the conversation's row lock), so its events keep their order.
//   - A publisher waits for the lock rather than give up when another holds it: the other's
//     snapshot may predate our caller's commit, and Publish promises that every event committed
//     before the call is readable when it returns.
//
// When it numbered any event, Publish notifies Listen's channel in the same transaction: the
// notification goes out at commit, once the numbers are visible. The whole transaction is one
// round trip.
func (s *Store) Publish(ctx context.Context) (uint64, error) {
	var last uint64
	l := &lazyTx{pool: s.pool, begin: beginWrite}
	defer l.close(ctx)
	l.pending.Queue(lockPublication, s.publishLock)
	l.pending.Queue(s.publishSQL).QueryRow(func(row pgx.Row) error {
		var n, notified int64
		return row.Scan(&last, &n, &notified)
	})
	if err := l.commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: publish: %w", err)
	}
	return last, nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
