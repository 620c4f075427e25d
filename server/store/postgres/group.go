package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// Group commit: concurrent WriteInbound calls share a transaction, so that a busy server pays
// for one BEGIN, one COMMIT and one WAL flush per group rather than per write, and one round trip
// for the reads of the whole group: the group locks and reads what every write's LoadInbound
// needs in one statement each, before the writes run. (Their deferred writes travel with the
// next write's statement, or the COMMIT.)
//
// A server runs one group at a time. Groups commit one at a time anyway, since they number
// their events under one lock; a second group running meanwhile overlaps only its reads, and
// costs more than it saves: smaller groups, each with a commit of its own, and two backends
// taking turns at the lock and at the same pages. On 2 cores, at 3,000 msg/s offered, one group
// at a time took 58 % of the machine and two 76 %, for a p99 as high or higher. A group locks
// the conversations that exist first, in id order, as every Write that locks several does
// (lock.go), and its writes run in key order: groups of different servers then create contacts
// and conversations in one order too, and cannot deadlock.

// maxGroup bounds a group: how long its first write waits for its commit.
const maxGroup = 32

// errAlone tells a grouped write that its group failed, and that it must run by itself.
var errAlone = errors.New("postgres: group failed, run alone")

// groupedWrite is one WriteInbound call waiting for its group.
type groupedWrite struct {
	ctx context.Context
	q   store.InboundQuery
	key string // q.Key()
	fn  func(store.Tx) error
	err error // the outcome, once the group has ended
}

// WriteInbound runs fn in a transaction shared with the other writes waiting meanwhile. When
// the group fails, fn runs again by itself.
func (s *Store) WriteInbound(ctx context.Context, q store.InboundQuery, fn func(store.Tx) error) error {
	w := &groupedWrite{ctx: ctx, q: q, key: q.Key(), fn: fn}
	if err := s.groups.Do(w, s.runGroup); err != nil {
		return err
	}
	if !errors.Is(w.err, errAlone) {
		return failure(w.err)
	}
	return s.Write(ctx, fn)
}

// runGroup runs the writes of a group in one transaction, in key order. A write whose caller
// has given up already is not run, and a group of one is an ordinary Write.
func (s *Store) runGroup(group []*groupedWrite) {
	live := group[:0:0]
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			continue
		}
		live = append(live, w)
	}
	if len(live) <= 1 {
		for _, w := range live {
			w.err = s.Write(w.ctx, w.fn)
		}
		return
	}
	slices.SortStableFunc(live, func(a, b *groupedWrite) int { return cmp.Compare(a.key, b.key) })
	s.runShared(live)
}

// groupTimeout bounds the statements a group sends for all its writes (its reads, its COMMIT):
// a hung connection must not hold the callers of the group, and of the groups after it, forever.
const groupTimeout = 30 * time.Second

// groupPlans makes the group's statements run on generic plans that never scan a whole table.
// They find their rows by key (the group's reads by contact, its writes by id) or walk an index
// in order (routing's online agents, by id). PostgreSQL would otherwise plan the group's read
// anew, again and again, at a cost above running it; and a generic plan made while a table was
// small must not scan it whole once it has grown. (plan_cache_mode needs PostgreSQL 12.)
const groupPlans = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)"

// runShared runs the writes in one transaction and commits it, and gives each its outcome.
//   - A write that fails before it sends anything (refused on what the group read ahead, say)
//     leaves nothing behind: its deferred statements are dropped, it gets its own error, and
//     the others go on without it. One caller's bad request does not cost the others a rerun.
//   - When a write fails after sending statements, or the commit certainly failed, nothing is
//     kept, and the other writes are told to run alone (errAlone), where each meets its own
//     outcome.
//   - When the commit's outcome is unknown (the connection broke after it was sent), running the
//     writes again could apply them twice: each gets the error instead, as from an ordinary
//     Write.
func (s *Store) runShared(group []*groupedWrite) {
	// The group's own statements serve every caller: no one caller's context bounds them.
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	shared := &lazyTx{pool: s.pool, begin: beginWrite, numbering: s.numbering}
	defer shared.close(ctx)
	shared.pending.Queue(groupPlans)
	pre, err := prefetchGroup(ctx, group, shared, s.keys)
	if err != nil {
		runAlone(group)
		return
	}
	kept := group[:0:0]
	for i, w := range group {
		m := shared.mark()
		// Each write gets its own tx: what one LoadInbound learnt is not another's.
		if err := w.fn(&tx{tx: shared, write: true, pre: pre[i], keys: s.keys}); err != nil {
			if !shared.undo(m) {
				runAlone(append(kept, group[i:]...)) // the transaction is rolled back: it was never committed
				return
			}
			w.err = err
			continue
		}
		kept = append(kept, w)
	}
	err = shared.commit(ctx)
	var pgErr *pgconn.PgError
	if err != nil && (shared.lost != nil || errors.Is(err, pgx.ErrTxCommitRollback) || errors.As(err, &pgErr) || pgconn.SafeToRetry(err)) {
		runAlone(kept) // refused before it was sent, rolled back, or never sent
		return
	}
	for _, w := range kept {
		w.err = err
	}
}

// runAlone tells writes that their group failed, and that each must run by itself.
func runAlone(writes []*groupedWrite) {
	for _, w := range writes {
		w.err = errAlone
	}
}

// prefetchGroup reads what the group's writes will read, for each write (sorted by key) whose
// key no write before it has: a later write of the same conversation must read what the earlier
// one wrote, so it reads for itself.
func prefetchGroup(ctx context.Context, group []*groupedWrite, l *lazyTx, keys *secret.Keyring) ([]*prefetch, error) {
	pre := make([]*prefetch, len(group))
	var qs []store.InboundQuery
	var at []int
	for i, w := range group {
		if i == 0 || w.key != group[i-1].key {
			qs, at = append(qs, w.q), append(at, i)
		}
	}
	loaded, err := loadInbounds(ctx, l, qs, keys)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		pre[i] = loaded[j]
	}
	return pre, nil
}
