package sqlite

import (
	"context"

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
