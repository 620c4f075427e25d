package postgres

import (
	"context"

	"github.com/batonhq/baton/server/store"
)

// What the external tests need to see of a Store's internals.

// PublishLock returns the key of the advisory lock Publish takes.
func PublishLock(s *Store) int64 { return s.publishLock }

// ListenChannel returns the channel Publish notifies.
func ListenChannel(s *Store) string { return s.channel }

// TxID returns the id of the database transaction tx runs in.
func TxID(ctx context.Context, t store.Tx) (int64, error) {
	var id int64
	err := t.(*tx).tx.QueryRow(ctx, "SELECT txid_current()").Scan(&id)
	return id, err
}

// Queued returns how many grouped writes wait for a group.
func Queued(s *Store) int {
	n := 0
	for i := range s.lanes.all {
		n += s.lanes.all[i].Queued()
	}
	return n
}

// Prefetched reports whether a group read tx's LoadInbound beforehand.
func Prefetched(t store.Tx) bool { return t.(*tx).pre != nil }
