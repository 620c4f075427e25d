package postgres

import (
	"context"
	"fmt"
	"strings"
)

// Events are numbered as their transaction commits, one committing transaction at a time.
//
// Numbering events as soon as they are inserted would not do: writers commit concurrently, so
// a later number could commit before an earlier one, and a reader that had already moved past
// the earlier number would skip its event. Instead a transaction holds its events back
// (lazyTx.events) and sends them with its COMMIT, in one round trip, after taking the
// numbering lock (an advisory lock per schema):
//   - The insert starts after the lock is held, so under READ COMMITTED it sees every event
//     committed before, and numbers its events above all of them.
//   - The lock is held until the transaction has committed and is visible: every later number
//     becomes visible after every earlier one, so a reader following the sequence never skips
//     an event, and the numbers have no gaps (a transaction that fails numbers nothing).
//   - Events are numbered in insertion order, and a conversation's Writes insert in commit
//     order (each holds the conversation's row lock until it commits), so its events keep
//     their order.
//   - While it holds the lock, a transaction takes no row lock (the events and deliveries it
//     inserts have no foreign keys), so it never waits on a transaction waiting for the lock.
//
// The insert also notifies Listen's channel, which the commit sends once the numbers are
// visible. Committing transactions that store events queue for the lock, so it is held as
// briefly as a commit: one statement and the flush of the commit record (and, with synchronous
// replication, the standby's answer), which on a busy server commits a group of writes at once
// (WriteInbound). PostgreSQL commits NOTIFYs one at a time across the whole cluster, so these
// commits also take turns with other schemas' and databases' notifying transactions.
type numbering struct {
	lock   int64  // the advisory lock's key
	insert string // insertEvents, notifying the schema's channel
}

func newNumbering(lock int64, channel string) *numbering {
	return &numbering{lock: lock, insert: fmt.Sprintf(insertEvents, quoteLiteral(channel))}
}

// takeNumberingLock takes the numbering lock until the transaction ends.
const takeNumberingLock = "SELECT pg_advisory_xact_lock($1)"

// LastSequence returns the highest sequence: every committed event is numbered already.
func (s *Store) LastSequence(ctx context.Context) (uint64, error) {
	var last uint64
	if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(position), 0) FROM events").Scan(&last); err != nil {
		return 0, failure(fmt.Errorf("postgres: last sequence: %w", err))
	}
	return last, nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
