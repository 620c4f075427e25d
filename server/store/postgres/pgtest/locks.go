package pgtest

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/store/postgres"
)

// What tests of locking use: a transaction of the test's own that holds a row, a wait until a
// store's connection waits for a lock, and a check that a row is free. A test holds the row a
// Write locks first, waits until the Write waits for it, and checks the Write holds none of the
// rows it would lock after: a Write that takes its locks in the store's order cannot.

// HoldRow begins a transaction on a connection of its own to the database at url and locks the
// row of table with the given id, as a Write locks it. The transaction is rolled back when the
// test ends, unless the test ended it first.
func HoldRow(t testing.TB, url, table, id string) (*pgx.Conn, pgx.Tx) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, "SELECT FROM "+table+" WHERE id = $1 FOR NO KEY UPDATE", id); err != nil {
		t.Fatal(err)
	}
	return conn, tx
}

// WaitBlocked returns once a connection whose application_name is name waits for a lock (a test
// names a store's connections with WithParam). Nothing tells when: it polls, until ctx ends.
func WaitBlocked(ctx context.Context, conn *pgx.Conn, name string) error {
	for {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, name).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		runtime.Gosched()
	}
}

// MustNotHold checks, from tx, that no other transaction holds the row of table with the given
// id (why says why it must not).
func MustNotHold(t testing.TB, tx pgx.Tx, table, id, why string) {
	t.Helper()
	if _, err := tx.Exec(t.Context(), "SELECT FROM "+table+" WHERE id = $1 FOR NO KEY UPDATE NOWAIT", id); err != nil {
		t.Errorf("%s %s is locked (%s): %v", table, id, why, err)
	}
}

// Logs is what a store logged: the transactions it ran again, among others.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// RecordLogs makes s log to the returned Logs. Call it before using s.
func RecordLogs(s *postgres.Store) *Logs {
	l := &Logs{}
	s.Logger = slog.New(slog.NewTextHandler(l, nil))
	return l
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
