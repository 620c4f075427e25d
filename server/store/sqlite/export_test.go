package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/batonhq/baton/server/store"
)

// Queued returns how many writes wait for a batch.
func Queued(s *Store) int { return s.writes.Queued() }

// Exec runs a statement in a Write's transaction.
func Exec(t store.Tx, query string) error {
	_, err := t.(*tx).exec(context.Background(), query)
	return err
}

// Failure is the error a Write or Read returns for err.
var Failure = failure

// Dump returns every row of every table as text, byte strings as they are and in hex.
func Dump(ctx context.Context, s *Store) (string, error) {
	var tables []string
	rows, err := s.readerDB.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", err
		}
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rows, err := s.readerDB.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			values := make([]any, len(cols))
			dest := make([]any, len(cols))
			for i := range values {
				dest[i] = &values[i]
			}
			if err := rows.Scan(dest...); err != nil {
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
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
