package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// maxStatements bounds a session's prepared statements; list filters make a few hundred
// distinct queries at most, so reaching it means something is building queries it shouldn't.
const maxStatements = 512

// session is one database connection and the statements prepared on it. SQLite spends more
// time parsing and planning a statement than running one of ours, so statements are prepared
// once per connection and reused by every transaction on it. A session is used by one
// transaction at a time.
type session struct {
	db    *sql.DB // where a replacement connection comes from
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	// uncancelable makes statements ignore their callers' cancellation, as the writer's must: the
	// driver interrupts a canceled statement, and SQLite then rolls back the whole transaction,
	// which a batch shares with other callers.
	uncancelable bool
	// keys seal and open secrets (store.SealCredentials); nil when none are configured.
	keys *secret.Keyring
	// A reader's transactions run on a goroutine of its own (serve): work starts one, call is
	// what it runs, and done tells the caller it ran, with result, or how it ended otherwise.
	work     chan struct{}
	done     chan struct{}
	call     func() error
	result   error
	abnormal bool // call panicked (with panicked) or called runtime.Goexit
	panicked any
}

// statementContext is the context a statement of the session runs with.
func (s *session) statementContext(ctx context.Context) context.Context {
	if s.uncancelable {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func newSession(ctx context.Context, db *sql.DB) (*session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: connect: %w", err)
	}
	return &session{db: db, conn: conn, stmts: map[string]*sql.Stmt{}}, nil
}

// stmt returns the statement for query, preparing it on first use.
func (s *session) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	if len(s.stmts) >= maxStatements {
		s.closeStatements()
	}
	st, err := s.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}

func (s *session) closeStatements() {
	for q, st := range s.stmts {
		st.Close()
		delete(s.stmts, q)
	}
}

func (s *session) close() error {
	s.closeStatements()
	return s.conn.Close()
}

// run runs fn in one transaction opened with begin ("BEGIN IMMEDIATE" or "BEGIN"), committing
// when fn returns nil. When the connection itself fails, the session swaps in a new one, so one
// broken connection does not poison every later transaction.
func (s *session) run(ctx context.Context, begin string, fn func(store.Tx) error) error {
	if err := s.begin(ctx, begin); err != nil {
		return err
	}
	// Ending the transaction must happen even when ctx was canceled meanwhile.
	end := context.WithoutCancel(ctx)
	if err := fn(&tx{s: s}); err != nil {
		if _, rerr := s.conn.ExecContext(end, "ROLLBACK"); rerr != nil {
			return errors.Join(err, s.repair(end))
		}
		return err
	}
	if _, err := s.conn.ExecContext(end, "COMMIT"); err != nil {
		return errors.Join(fmt.Errorf("sqlite: commit: %w", err), s.repair(end)) // a failed COMMIT may leave it open
	}
	return nil
}

// writeRequest is one Write waiting to run in a batch.
type writeRequest struct {
	ctx context.Context
	fn  func(store.Tx) error
	err error // the outcome, once the batch has committed
}

// runBatch runs the writes in one IMMEDIATE transaction, each in a savepoint so that a failed
// one leaves no trace, and reports every outcome after the commit.
func (s *session) runBatch(batch []*writeRequest) {
	if len(batch) == 1 { // nothing to share: no savepoint needed
		batch[0].err = s.run(batch[0].ctx, "BEGIN IMMEDIATE", batch[0].fn)
		return
	}
	ctx := context.Background() // the batch outlives any one caller's context
	if err := s.begin(ctx, "BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	for i, r := range batch {
		var lost bool
		if lost, r.err = s.savepoint(r.ctx, r.fn); lost {
			// The transaction is gone, and the writes before this one with it: they fail, and
			// the rest run in a new transaction.
			gone := fmt.Errorf("sqlite: the batch's transaction was rolled back: %w", r.err)
			for _, done := range batch[:i+1] {
				if done.err == nil {
					done.err = gone
				}
			}
			_ = s.repair(ctx)
			if rest := batch[i+1:]; len(rest) > 0 {
				s.runBatch(rest)
			}
			return
		}
	}
	if _, err := s.exec(ctx, "COMMIT"); err != nil {
		err = errors.Join(fmt.Errorf("sqlite: commit: %w", err), s.repair(ctx))
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
}

// savepoint runs fn inside the open transaction, undoing its writes when it fails. lost
// reports that the savepoint could not be rolled back to or released: SQLite has rolled back
// the whole transaction (as it does on some errors).
func (s *session) savepoint(ctx context.Context, fn func(store.Tx) error) (lost bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	end := context.WithoutCancel(ctx)
	if _, err := s.exec(end, "SAVEPOINT write"); err != nil {
		return true, fmt.Errorf("sqlite: savepoint: %w", err)
	}
	err = fn(&tx{s: s})
	if err != nil {
		if _, rerr := s.exec(end, "ROLLBACK TO write"); rerr != nil {
			return true, errors.Join(err, fmt.Errorf("sqlite: rollback to savepoint: %w", rerr))
		}
	}
	if _, rerr := s.exec(end, "RELEASE write"); rerr != nil {
		return true, errors.Join(err, fmt.Errorf("sqlite: release savepoint: %w", rerr))
	}
	return false, err
}

// exec runs a statement through the session's prepared statements.
func (s *session) exec(ctx context.Context, query string) (sql.Result, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx)
}

// begin opens a transaction. When that fails with ctx still alive, the connection may have
// died (a canceled query can make the driver drop it) or hold a transaction left open: it is
// cleaned up or replaced once, so the caller does not inherit the failure.
func (s *session) begin(ctx context.Context, begin string) error {
	_, err := s.conn.ExecContext(ctx, begin)
	if err == nil || ctx.Err() != nil {
		return err // a canceled caller says nothing about the connection
	}
	if err := s.repair(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, begin); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	return nil
}

// repair makes the session usable again: it rolls back whatever is open and replaces a
// connection that no longer answers. ctx must not be canceled.
func (s *session) repair(ctx context.Context) error {
	_, _ = s.conn.ExecContext(ctx, "ROLLBACK")
	if err := s.conn.PingContext(ctx); err == nil {
		return nil
	}
	s.close()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: reconnect: %w", err)
	}
	s.conn = conn
	return nil
}

// readers is a fixed set of read sessions handed out one at a time. Each has a goroutine of its
// own, which runs the transactions of long-lived callers (store.LongLived): run on the caller's
// goroutine, the reads that open an event stream left each idle stream's stack at 16–32 KB until
// the next collections (measured: 18 MB of stacks for 1,000 streams just opened, against 9.6 MB
// with their reads on the sessions' goroutines). The hand-off costs about 4 µs a read on 2 cores
// (17–28 against 13–16 µs for the shortest read), which other callers are spared.
type readers chan *session

func (r readers) run(ctx context.Context, fn func(store.Tx) error) error {
	var s *session
	select {
	case s = <-r:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { r <- s }()
	if store.IsLongLived(ctx) {
		return s.onOwnGoroutine(func() error { return s.run(ctx, "BEGIN", fn) })
	}
	return s.run(ctx, "BEGIN", fn)
}

// startGoroutine starts the goroutine the session's transactions run on (onOwnGoroutine), until
// stopGoroutine.
func (s *session) startGoroutine() {
	s.work, s.done = make(chan struct{}), make(chan struct{})
	go s.serve(s.work)
}

func (s *session) stopGoroutine() { close(s.work) }

func (s *session) serve(work <-chan struct{}) {
	for range work {
		s.runCall(work)
	}
}

// runCall runs s.call for onOwnGoroutine.
func (s *session) runCall(work <-chan struct{}) {
	s.abnormal, s.panicked = true, nil
	defer func() {
		if s.abnormal {
			if s.panicked = recover(); s.panicked == nil {
				go s.serve(work) // runtime.Goexit ends this goroutine: another takes its place
			}
		}
		s.done <- struct{}{}
	}()
	s.result = s.call()
	s.abnormal = false
}

// onOwnGoroutine runs f on the session's goroutine, and returns its error; a panic, or a
// runtime.Goexit (a test's t.Fatal), in f happens again on the caller's goroutine.
func (s *session) onOwnGoroutine(f func() error) error {
	s.call = f
	s.work <- struct{}{}
	<-s.done
	s.call = nil
	if s.abnormal {
		if s.panicked != nil {
			panic(s.panicked)
		}
		runtime.Goexit()
	}
	return s.result
}
