package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/batonhq/baton/server/store"
)

// What the external tests need to see of a Store's internals.

// NumberingLock returns the key of the advisory lock committing events takes.
func NumberingLock(s *Store) int64 { return s.numbering.lock }

// ListenChannel returns the channel committing events notifies.
func ListenChannel(s *Store) string { return s.channel }

// TxID returns the id of the database transaction tx runs in.
func TxID(ctx context.Context, t store.Tx) (int64, error) {
	var id int64
	err := t.(*tx).tx.QueryRow(ctx, "SELECT txid_current()").Scan(&id)
	return id, err
}

// BackendPID returns the process id of the server backend tx runs on.
func BackendPID(ctx context.Context, t store.Tx) (uint32, error) {
	var pid uint32
	err := t.(*tx).tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	return pid, err
}

// Queued returns how many grouped writes wait for a group.
func Queued(s *Store) int { return s.groups.Queued() }

// Prefetched reports whether a group read tx's LoadInbound beforehand.
func Prefetched(t store.Tx) bool { return t.(*tx).pre != nil }

// MigrateTo applies the migrations up to version, as an older Baton would have.
func MigrateTo(ctx context.Context, url string, version int64) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := migrations(db)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// Dump returns every row of every table of the store's schema as text, byte strings as they
// are and in hex.
func Dump(ctx context.Context, s *Store) (string, error) {
	rows, err := s.pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
	if err != nil {
		return "", err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := s.pool.Query(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			return "", err
		}
		for rows.Next() {
			values, err := rows.Values()
			if err != nil {
				rows.Close()
				return "", err
			}
			fmt.Fprintf(&b, "%s:", table)
			for _, v := range values {
				if raw, ok := v.([]byte); ok {
					fmt.Fprintf(&b, " %s %x", raw, raw)
				} else {
					fmt.Fprintf(&b, " %v", v)
				}
			}
			b.WriteString("\n")
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// Exec runs a statement on the store's pool, outside any transaction of the store.
func Exec(ctx context.Context, s *Store, sql string) error {
	_, err := s.pool.Exec(ctx, sql)
	return err
}
