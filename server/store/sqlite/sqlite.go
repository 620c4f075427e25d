// Package sqlite is Baton's embedded storage: one database file, a pure Go driver, WAL.
//
// Writes go through a pool of one connection whose transactions begin IMMEDIATE, so they are
// serialised in this process and, through SQLite's write lock, across processes. Reads use a
// separate pool of read-only connections that never block on the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a SQLite database. It implements store.Store.
type Store struct {
	writerDB, readerDB *sql.DB
	writer             *session // used by the batch running only
	writes             store.Batcher[*writeRequest]
	readers            readers
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it when missing, migrates it to the latest
// schema, checks that every sealed secret opens with the keys (WithKeys, or else the key file
// beside the database, created when missing) and seals the secrets still in the clear.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	writer, err := openWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, err
	}
	keys := o.keys
	if keys == nil {
		if keys, err = keyFileKeys(ctx, writer, path); err != nil {
			writer.Close()
			return nil, err
		}
	}
	// The reader pool opens after migrating: by then the file is in WAL mode and has its schema.
	reader, err := sql.Open("sqlite", dsn(path, url.Values{
		"_pragma": {"busy_timeout(10000)", "query_only(1)"},
	}))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A batch's size bounds how long its writes hold the others.
	st := &Store{writerDB: writer, readerDB: reader, writes: store.Batcher[*writeRequest]{Max: 64}}
	if err := st.connect(ctx, max(4, runtime.GOMAXPROCS(0)), keys); err != nil {
		st.Close()
		return nil, err
	}
	if _, err := st.Reseal(ctx, false); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// connect opens the writer session and n reader sessions, which seal and open with keys.
func (s *Store) connect(ctx context.Context, n int, keys *secret.Keyring) error {
	var err error
	if s.writer, err = newSession(ctx, s.writerDB); err != nil {
		return err
	}
	s.writer.uncancelable, s.writer.keys = true, keys
	s.readers = make(readers, n)
	for range n {
		r, err := newSession(ctx, s.readerDB)
		if err != nil {
			return err
		}
		r.keys = keys
		r.startGoroutine()
		s.readers <- r
	}
	return nil
}

// Migrate applies the pending migrations to the database at path, creating it when missing.
func Migrate(ctx context.Context, path string) error {
	db, err := openWriter(ctx, path)
	if err != nil {
		return err
	}
	return errors.Join(migrate(ctx, db), db.Close())
}

// openWriter opens the single-connection pool every write goes through.
func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, url.Values{
		// Each write of a batch runs in a savepoint, whose undo log (the statement journal)
		// would otherwise be a temporary file written on every change: keep it in memory.
		"_pragma": {"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(wal)", "synchronous(normal)", "temp_store(memory)"},
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads then
		// writes never fails half-way with SQLITE_BUSY and sees the latest committed state.
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// dsn builds a modernc.org/sqlite data source name: the file path, then the driver's query
// parameters (each _pragma is run on every new connection).
func dsn(path string, params url.Values) string {
	return path + "?" + params.Encode()
}

// Ready implements store.Store.
func (s *Store) Ready(ctx context.Context) error {
	p, err := provider(s.readerDB)
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: ready: %w", err)
	}
	if pending {
		return store.ErrMigrationsPending
	}
	return nil
}

// provider returns the embedded migrations, to apply to db.
func provider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Write runs fn in an IMMEDIATE transaction on the writer session. Having one writer is what
// serialises Write calls (and SQLite's write lock, across processes); so fn must not call
// Write itself, which would wait for the writer forever.
//
// Writes that arrive while another is running are committed together (group commit): the
// first waiting caller runs a batch of them in one transaction, each in a savepoint of its own,
// so each is still all or nothing and sees the ones before it, while the batch pays for one
// BEGIN and one COMMIT. A caller's Write returns once its batch has committed.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	req := &writeRequest{ctx: ctx, fn: fn}
	if err := s.writes.Do(req, s.writer.runBatch); err != nil {
		return err
	}
	return failure(req.err)
}

// WriteInbound is Write: every write is grouped here already.
func (s *Store) WriteInbound(ctx context.Context, _ store.InboundQuery, fn func(store.Tx) error) error {
	return s.Write(ctx, fn)
}

// Read runs fn in a read transaction on a reader session (whose connection is query-only).
// In WAL mode its snapshot is fixed by its first query and writers go on committing meanwhile.
func (s *Store) Read(ctx context.Context, fn func(store.Tx) error) error {
	return failure(s.readers.run(ctx, fn))
}

// LastSequence reads the highest sequence: with one writer, events are numbered in commit
// order as they are stored.
func (s *Store) LastSequence(ctx context.Context) (uint64, error) {
	var seq uint64
	err := s.Read(ctx, func(tx store.Tx) error {
		var err error
		seq, err = tx.LastSequence(ctx)
		return err
	})
	return seq, err
}

// Close closes the sessions and both pools. No transaction may be running.
func (s *Store) Close() error {
	var errs []error
	if s.writer != nil {
		errs = append(errs, s.writer.close())
	}
	for len(s.readers) > 0 {
		r := <-s.readers
		r.stopGoroutine()
		errs = append(errs, r.close())
	}
	return errors.Join(append(errs, s.readerDB.Close(), s.writerDB.Close())...)
}

// failure wraps store.ErrUnavailable around SQLITE_BUSY and SQLITE_LOCKED: another process
// held the database for longer than the busy timeout, which SQLite spent retrying already.
func failure(err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
	}
	return err
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// PoolStats reads the figures of the writer's connection and of the readers' pool.
func (s *Store) PoolStats() []store.PoolStats {
	stats := func(pool string, db *sql.DB) store.PoolStats {
		st := db.Stats()
		return store.PoolStats{Pool: pool, Max: st.MaxOpenConnections, InUse: st.InUse, Idle: st.Idle,
			Waits: st.WaitCount, WaitTime: st.WaitDuration}
	}
	return []store.PoolStats{stats("sqlite_writer", s.writerDB), stats("sqlite_reader", s.readerDB)}
}
