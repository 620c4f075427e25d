// Package postgres is Baton's storage on PostgreSQL, through pgx, for production and for
// several server replicas sharing one database.
//
// Write transactions run at READ COMMITTED, so each statement sees what was committed before it
// began. Reading a conversation in a Write locks its row, so Writes on one conversation queue
// behind each other and each reads what the one before committed; Writes lock rows in one order
// (lock.go). Reads run in a read-only REPEATABLE READ transaction: one snapshot, no lock. A
// transaction that lost a race or its connection runs again; a database out of reach is
// store.ErrUnavailable (retry.go).
//
// Inserts do nothing on a unique-key clash (ON CONFLICT DO NOTHING) rather than fail, which
// would abort the transaction: Create* return store.ErrDuplicate and the transaction goes on.
//
// Round trips cost CPU on both ends, so a transaction spends few (lazyTx): BEGIN goes with its
// first statement, the writes whose answer the callers only pass on (the conversation's update,
// the message LoadInbound found new) go with the next statement or the COMMIT, and events with
// the COMMIT; their failure is that statement's. Ingest takes two round trips.
//
// Events are numbered as they commit, one committing transaction at a time (numbering.go);
// Listen hears about them from any process. All tables live in the first schema of the
// connection's search_path, so deployments (and tests) can share a database, one schema each.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a PostgreSQL database. It implements store.Store.
type Store struct {
	pool *pgxpool.Pool
	// channel is what committing events notifies and Listen listens to: one per schema.
	channel string
	// numbering numbers the events of Writes as they commit.
	numbering *numbering
	// groups queue grouped writes (WriteInbound).
	groups store.Batcher[*groupedWrite]
	// Logger receives the connection errors Listen recovers from, and the transactions run
	// again (retry.go); nil means slog.Default(). Set it before using the store.
	Logger *slog.Logger
	// keys seal and open secrets; nil when none are configured (WithKeys).
	keys *secret.Keyring
}

var _ store.Store = (*Store)(nil)

// Advisory locks are taken per schema: a key is what the lock is for in the high 32 bits and
// the schema's OID in the low ones.
const (
	lockMigrate   = 0x42610001 // "Ba", 1
	lockNumbering = 0x42610002
)

func lockKey(purpose int64, schema uint32) int64 { return purpose<<32 | int64(schema) }

// Open connects to the database at url (a PostgreSQL URL or key=value string; pool settings
// such as pool_max_conns are accepted), migrates it to the latest schema, checks that every
// sealed secret opens with the keys (WithKeys) and seals the secrets still in the clear.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	s, err := open(ctx, url)
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		opt(s)
	}
	if _, err := s.Reseal(ctx, false); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// open connects to the database at url and migrates it.
func open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default, one connection per CPU, leaves requests queueing for a connection
		// while others wait on the network; a few per CPU keep the database busy.
		cfg.MaxConns = int32(4 * runtime.GOMAXPROCS(0))
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "baton" // as pg_stat_activity shows it
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// Times come back in UTC, as from SQLite, rather than in the local zone.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	schema, err := schemaOID(ctx, pool)
	if err == nil {
		err = migrate(ctx, pool, schema)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	channel := "baton_events_" + strconv.FormatUint(uint64(schema), 10)
	return &Store{
		pool:      pool,
		channel:   channel,
		numbering: newNumbering(lockKey(lockNumbering, schema), channel),
		groups:    store.Batcher[*groupedWrite]{Max: maxGroup},
	}, nil
}

// Migrate applies the pending migrations to the database at url.
func Migrate(ctx context.Context, url string) error {
	s, err := open(ctx, url)
	if err != nil {
		return err
	}
	return s.Close()
}

// schemaOID returns the OID of the schema the tables live in: the first schema of the
// search_path that exists, where CREATE TABLE puts them.
func schemaOID(ctx context.Context, pool *pgxpool.Pool) (uint32, error) {
	var oid uint32
	err := pool.QueryRow(ctx, "SELECT oid FROM pg_namespace WHERE nspname = current_schema()").Scan(&oid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errors.New("postgres: no schema of the search_path exists")
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	return oid, nil
}

// migrate applies the pending migrations. Replicas starting together take turns: each holds
// an advisory lock for the whole of goose's work, on a connection of its own whose end
// releases it. (goose's session locker would leave goose's first checks unguarded, and
// replicas would race to create its version table.)
func migrate(ctx context.Context, pool *pgxpool.Pool, schema uint32) error {
	lockConn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer closeConn(ctx, lockConn)
	if _, err := lockConn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey(lockMigrate, schema)); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}

	db := stdlib.OpenDBFromPool(pool) // goose speaks database/sql
	defer db.Close()
	p, err := migrations(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Ready implements store.Store.
func (s *Store) Ready(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := migrations(db)
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("postgres: ready: %w", failure(err))
	}
	if pending {
		return store.ErrMigrationsPending
	}
	return nil
}

// migrations returns the embedded migrations, to apply to db.
func migrations(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

// closeConn closes a connection of its own, even once ctx is done, and without waiting long
// on a broken network.
func closeConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// Write runs fn in a READ COMMITTED transaction, in which reading a conversation locks it
// until commit.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, beginWrite, true, fn)
}

// Read runs fn in a read-only REPEATABLE READ transaction: its snapshot is fixed by its first
// query, and writers go on committing meanwhile.
func (s *Store) Read(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, beginRead, false, fn)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// run runs fn in a transaction begun with begin, and again when it failed for others' doing
// (retry.go).
func (s *Store) run(ctx context.Context, begin string, write bool, fn func(store.Tx) error) error {
	for n := 1; ; n++ {
		committing, err := s.runOnce(ctx, begin, write, fn)
		if err == nil || !s.again(ctx, err, n, committing) {
			return failure(err)
		}
	}
}

// runOnce runs fn in a transaction and commits it; committing says the COMMIT of a write was
// sent, after which the transaction may have committed.
func (s *Store) runOnce(ctx context.Context, begin string, write bool, fn func(store.Tx) error) (committing bool, err error) {
	t := &tx{tx: &lazyTx{pool: s.pool, begin: begin}, write: write, keys: s.keys}
	if write {
		t.tx.numbering = s.numbering
	}
	defer t.tx.close(ctx) // after a failure or a panic, this rolls back
	if err := fn(t); err != nil {
		return false, err
	}
	return write, t.tx.commit(ctx)
}
