package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// The conformance suite checks publication under load; these tests set up, step by step, the
// interleavings it can only hope for.

func appendEvent(t *testing.T, s store.Store, id string) {
	t.Helper()
	err := s.Write(t.Context(), func(tx store.Tx) error {
		_, err := tx.AppendEvents(t.Context(), []domain.Event{{ID: id, Type: domain.EventBotMuted}})
		return err
	})
	if err != nil {
		t.Fatalf("append %s: %v", id, err)
	}
}

func publish(t *testing.T, s store.Store) uint64 {
	t.Helper()
	seq, err := s.Publish(t.Context())
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return seq
}

// wantEvents checks the events published after after are the given ones, in that order, with
// the given sequences.
func wantEvents(t *testing.T, s store.Store, after uint64, ids []string, seqs []uint64) {
	t.Helper()
	var events []domain.Event
	err := s.Read(t.Context(), func(tx store.Tx) error {
		var err error
		events, err = tx.ListEvents(t.Context(), after, store.EventFilter{}, 10)
		return err
	})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(events) != len(ids) {
		t.Fatalf("events after %d: got %d, want %v", after, len(events), ids)
	}
	for i, e := range events {
		if e.ID != ids[i] || e.Sequence != seqs[i] {
			t.Errorf("event %d after %d = %s at %d, want %s at %d", i, after, e.ID, e.Sequence, ids[i], seqs[i])
		}
	}
}

// TestPublishLaterCommit has an event inserted first and committed last: it is numbered after
// the one that committed before it, and a reader who has seen that one still gets it.
func TestPublishLaterCommit(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	appended, release := make(chan struct{}), make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	defer releaseOnce() // before the store closes, which waits for the first Write
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.Write(context.Background(), func(tx store.Tx) error {
			_, err := tx.AppendEvents(context.Background(), []domain.Event{{ID: "inserted-first", Type: domain.EventBotMuted}})
			close(appended)
			<-release
			return err
		})
	}()
	<-appended
	appendEvent(t, s, "inserted-second")
	if got := publish(t, s); got != 1 {
		t.Errorf("Publish with one event committed = %d, want 1", got)
	}
	wantEvents(t, s, 0, []string{"inserted-second"}, []uint64{1})

	releaseOnce()
	if err := <-firstDone; err != nil {
		t.Fatalf("first Write: %v", err)
	}
	if got := publish(t, s); got != 2 {
		t.Errorf("Publish after the first commit = %d, want 2", got)
	}
	wantEvents(t, s, 1, []string{"inserted-first"}, []uint64{2})
}

// TestPublishWaitsForPublisher has Publish called while another publisher, whose snapshot
// may predate the caller's commit, holds the lock: Publish waits for it, then numbers the
// caller's event rather than return without it.
func TestPublishWaitsForPublisher(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := open(t, url)
	other := connect(t, url)
	lock := postgres.PublishLock(s)
	otherTx, err := other.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherTx.Exec(t.Context(), "SELECT pg_advisory_xact_lock($1)", lock); err != nil {
		t.Fatal(err)
	}

	appendEvent(t, s, "e1")
	published := make(chan error, 1)
	go func() { _, err := s.Publish(context.Background()); published <- err }()
	waitForLockWaiter(t, other, lock, published)
	if err := otherTx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-published; err != nil {
		t.Fatalf("Publish: %v", err)
	}
	wantEvents(t, s, 0, []string{"e1"}, []uint64{1})
}

// waitForLockWaiter returns once a session waits for the advisory lock, by asking the server
// until one does. It fails the test if Publish returns first.
func waitForLockWaiter(t *testing.T, conn *pgx.Conn, key int64, published <-chan error) {
	t.Helper()
	for {
		select {
		case err := <-published:
			t.Fatalf("Publish returned (error %v) while another publisher held the lock", err)
		default:
		}
		var waiting bool
		err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND (classid::bigint << 32 | objid::bigint) = $1)`, key).Scan(&waiting)
		if err != nil {
			t.Fatalf("pg_locks: %v", err)
		}
		if waiting {
			return
		}
	}
}

// TestPublishConcurrently has several publishers racing: they take turns, and number every
// event once.
func TestPublishConcurrently(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	const events = 20
	errs := make(chan error, events)
	for i := range events {
		go func() {
			err := s.Write(context.Background(), func(tx store.Tx) error {
				_, err := tx.AppendEvents(context.Background(), []domain.Event{{Type: domain.EventBotMuted, Epoch: uint64(i)}})
				return err
			})
			if err == nil {
				_, err = s.Publish(context.Background())
			}
			errs <- err
		}()
	}
	var failed error
	for range events {
		failed = errors.Join(failed, <-errs)
	}
	if failed != nil {
		t.Fatal(failed)
	}
	if got := publish(t, s); got != events {
		t.Errorf("Publish after %d events = %d", events, got)
	}
}
