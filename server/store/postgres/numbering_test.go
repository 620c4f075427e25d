package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// The conformance suite checks the numbering of events under load; these tests set up, step by
// step, the interleavings it can only hope for.

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

func lastSequence(t *testing.T, s store.Store) uint64 {
	t.Helper()
	seq, err := s.LastSequence(t.Context())
	if err != nil {
		t.Fatalf("LastSequence: %v", err)
	}
	return seq
}

// wantEvents checks the events numbered after after are the given ones, in that order, with
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

// TestEventsNumberedAtCommit has an event inserted first and committed last: it is numbered
// after the one that committed before it, and a reader who has seen that one still gets it.
func TestEventsNumberedAtCommit(t *testing.T) {
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
	if got := lastSequence(t, s); got != 1 {
		t.Errorf("LastSequence with one event committed = %d, want 1", got)
	}
	wantEvents(t, s, 0, []string{"inserted-second"}, []uint64{1})

	releaseOnce()
	if err := <-firstDone; err != nil {
		t.Fatalf("first Write: %v", err)
	}
	if got := lastSequence(t, s); got != 2 {
		t.Errorf("LastSequence after the first commit = %d, want 2", got)
	}
	wantEvents(t, s, 1, []string{"inserted-first"}, []uint64{2})
}

// TestCommitWaitsForNumberingLock has a Write commit an event while another transaction holds
// the numbering lock and has numbered an event of its own: the commit waits for it, then
// numbers its event above the other's, which it could not see when it began.
func TestCommitWaitsForNumberingLock(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := open(t, url)
	other := connect(t, url)
	lock := postgres.NumberingLock(s)
	otherTx, err := other.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherTx.Exec(t.Context(), "SELECT pg_advisory_xact_lock($1)", lock); err != nil {
		t.Fatal(err)
	}
	_, err = otherTx.Exec(t.Context(), `INSERT INTO events (position, id, type, conversation_id, channel_id, bot_id, create_time, payload)
		VALUES (1, 'numbered-by-other', 'bot.muted', '', '', '', now(), '{"id":"numbered-by-other","type":"bot.muted"}')`)
	if err != nil {
		t.Fatal(err)
	}

	committed := make(chan error, 1)
	go func() {
		committed <- s.Write(context.Background(), func(tx store.Tx) error {
			_, err := tx.AppendEvents(context.Background(), []domain.Event{{ID: "e1", Type: domain.EventBotMuted}})
			return err
		})
	}()
	waitForLockWaiter(t, other, lock, committed)
	if err := otherTx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-committed; err != nil {
		t.Fatalf("Write: %v", err)
	}
	wantEvents(t, s, 0, []string{"numbered-by-other", "e1"}, []uint64{1, 2})
}

// waitForLockWaiter returns once a session waits for the advisory lock, by asking the server
// until one does. It fails the test if the Write commits first, or if none waits within 30s.
func waitForLockWaiter(t *testing.T, conn *pgx.Conn, key int64, committed <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-committed:
			t.Fatalf("the Write returned (error %v) while another transaction held the numbering lock", err)
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
	t.Fatal("no session waits for the numbering lock")
}

// TestNumberingConcurrently has many writers commit events at once: they take turns, and
// every event gets its own number, with no gap.
func TestNumberingConcurrently(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	const events = 20
	errs := make(chan error, events)
	for i := range events {
		go func() {
			errs <- s.Write(context.Background(), func(tx store.Tx) error {
				_, err := tx.AppendEvents(context.Background(), []domain.Event{{Type: domain.EventBotMuted, Epoch: uint64(i)}})
				return err
			})
		}()
	}
	var failed error
	for range events {
		failed = errors.Join(failed, <-errs)
	}
	if failed != nil {
		t.Fatal(failed)
	}
	if got := lastSequence(t, s); got != events {
		t.Errorf("LastSequence after %d events = %d", events, got)
	}
	var listed []domain.Event
	err := s.Read(t.Context(), func(tx store.Tx) error {
		var err error
		listed, err = tx.ListEvents(t.Context(), 0, store.EventFilter{}, events+1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range listed {
		if e.Sequence != uint64(i+1) {
			t.Errorf("event %d of %d listed has sequence %d", i, len(listed), e.Sequence)
		}
	}
}

// TestMigrationNumbersUnpublishedEvents upgrades a database an older Baton left with events its
// publisher had not numbered yet: the migration numbers them after the others, in the order
// they were inserted, and the next event committed comes after them.
func TestMigrationNumbersUnpublishedEvents(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	if err := postgres.MigrateTo(t.Context(), url, 5); err != nil {
		t.Fatalf("migrate to version 5: %v", err)
	}
	_, err := connect(t, url).Exec(t.Context(), `INSERT INTO events (position, id, type, conversation_id, channel_id, bot_id, create_time, payload)
		SELECT p, id, 'bot.muted', '', '', '', now(), json_build_object('id', id, 'type', 'bot.muted')
		FROM (VALUES (1, 'published-1'), (NULL, 'unpublished-1'), (2, 'published-2'), (NULL, 'unpublished-2')) AS v (p, id)`)
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, url) // migrates to the latest version
	appendEvent(t, s, "committed-after")
	wantEvents(t, s, 0, []string{"published-1", "published-2", "unpublished-1", "unpublished-2", "committed-after"},
		[]uint64{1, 2, 3, 4, 5})
}
