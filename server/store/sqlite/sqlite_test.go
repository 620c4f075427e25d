package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
	"github.com/batonhq/baton/server/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestMigrateThenReopen checks migrating is idempotent and that data outlives the store.
func TestMigrateThenReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "baton.db")
	for range 2 {
		if err := sqlite.Migrate(ctx, path); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	ch := domain.Channel{ID: "ch-1", Kind: domain.ChannelGeneric, ExternalID: "x", Revision: 1}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.CreateChannel(ctx, ch) }); err != nil {
		t.Fatalf("CreateChannel: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s.Close()
	err = s.Read(ctx, func(tx store.Tx) error {
		_, err := tx.GetChannel(ctx, ch.ID)
		return err
	})
	if err != nil {
		t.Errorf("channel after reopening: %v", err)
	}
}

// TestCanceledTransactionsDoNotPoisonSessions cancels transactions in the middle of a query,
// which can make the driver drop the connection, and checks the next transactions on every
// session still work.
func TestCanceledTransactionsDoNotPoisonSessions(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 40 {
		ctx, cancel := context.WithCancel(t.Context())
		run := s.Read
		if i%2 == 0 {
			run = s.Write
		}
		if i%4 < 2 {
			cancel() // canceled before the transaction begins
		}
		_ = run(ctx, func(tx store.Tx) error {
			cancel() // canceled in the middle of it
			_, err := tx.LastSequence(ctx)
			return err
		})
		if err := s.Read(t.Context(), func(tx store.Tx) error { _, err := tx.LastSequence(t.Context()); return err }); err != nil {
			t.Fatalf("read after a canceled transaction: %v", err)
		}
		if err := s.Write(t.Context(), func(tx store.Tx) error { _, err := tx.LastSequence(t.Context()); return err }); err != nil {
			t.Fatalf("write after a canceled transaction: %v", err)
		}
	}
}

// TestGroupCommitKeepsWritesApart runs many concurrent writes, which commit in shared
// batches, half of them failing after writing: the failed ones leave nothing behind and the
// others all commit.
func TestGroupCommitKeepsWritesApart(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	errBoom := errors.New("boom")
	const writes = 200
	var wg sync.WaitGroup
	results := make([]error, writes)
	for i := range writes {
		wg.Go(func() {
			results[i] = s.Write(t.Context(), func(tx store.Tx) error {
				q := domain.Queue{ID: fmt.Sprintf("q-%03d", i), Revision: 1}
				if err := tx.CreateQueue(t.Context(), q); err != nil {
					return err
				}
				if i%2 == 1 {
					return errBoom
				}
				return nil
			})
		})
	}
	wg.Wait()
	var queues []domain.Queue
	if err := s.Read(t.Context(), func(tx store.Tx) error {
		queues, _, err = tx.ListQueues(t.Context(), store.Page{Size: 1000})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		if want := i%2 == 1; errors.Is(err, errBoom) != want || (!want && err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if len(queues) != writes/2 {
		t.Fatalf("%d queues stored, want %d", len(queues), writes/2)
	}
	for _, q := range queues {
		var n int
		fmt.Sscanf(q.ID, "q-%d", &n)
		if n%2 == 1 {
			t.Fatalf("failed write %s left its queue behind", q.ID)
		}
	}
}

// TestLostBatchTransaction has a write of a batch end the batch's transaction, as SQLite does
// itself on some errors: the writes before it in the batch fail (their writes are gone), and
// the writes after it run in a new transaction and succeed.
func TestLostBatchTransaction(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold, held := make(chan struct{}), make(chan struct{})
	go s.Write(ctx, func(store.Tx) error { close(held); <-hold; return nil })
	<-held

	bot := func(id string) domain.Bot { return domain.Bot{ID: id, DisplayName: id, Active: true} }
	writes := map[string]func(store.Tx) error{
		"a": func(tx store.Tx) error { return tx.CreateBot(ctx, bot("a")) },
		"b": func(tx store.Tx) error {
			if err := tx.CreateBot(ctx, bot("b")); err != nil {
				return err
			}
			return sqlite.Exec(tx, "ROLLBACK")
		},
		"c": func(tx store.Tx) error { return tx.CreateBot(ctx, bot("c")) },
	}
	results := map[string]chan error{}
	for i, id := range []string{"a", "b", "c"} { // queued in this order: one batch, a first
		results[id] = make(chan error, 1)
		go func() { results[id] <- s.Write(ctx, writes[id]) }()
		for sqlite.Queued(s) < i+1 { // no event says so: poll, within the test's timeout
			runtime.Gosched()
		}
	}
	close(hold)
	for id, kept := range map[string]bool{"a": false, "b": false, "c": true} {
		err := <-results[id]
		if kept != (err == nil) {
			t.Errorf("write %s: %v, want success %v", id, err, kept)
		}
		_, err = readBot(ctx, s, id)
		var nf *domain.NotFoundError
		if kept && err != nil || !kept && !errors.As(err, &nf) {
			t.Errorf("bot %s: %v, kept should be %v", id, err, kept)
		}
	}
}

func readBot(ctx context.Context, s store.Store, id string) (domain.Bot, error) {
	var b domain.Bot
	err := s.Read(ctx, func(tx store.Tx) error {
		var err error
		b, err = tx.GetBot(ctx, id)
		return err
	})
	return b, err
}

// TestBusyIsUnavailable makes SQLite answer SQLITE_BUSY, as it does to a Write when another
// process holds the database past the busy timeout: the store reports it as
// store.ErrUnavailable.
func TestBusyIsUnavailable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "baton.db")
	if err := sqlite.Migrate(ctx, path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	_, busy := db.ExecContext(ctx, "BEGIN IMMEDIATE")
	if busy == nil {
		t.Fatal("a second writer began while the first held the database")
	}
	if err := sqlite.Failure(busy); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%v: not store.ErrUnavailable", err)
	}
	if err := sqlite.Failure(sql.ErrNoRows); errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%v: store.ErrUnavailable", err)
	}
}

// TestReadyWantsEveryMigration: a migrated database is ready; one that lacks the last
// migration of this binary (an older schema) is not.
func TestReadyWantsEveryMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "baton.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after migrating: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); !errors.Is(err, store.ErrMigrationsPending) {
		t.Fatalf("Ready with a migration missing: %v, want ErrMigrationsPending", err)
	}
}

// TestLongLivedReadsRunOnTheirSessionsGoroutines: a long-lived caller's read runs on a goroutine
// of its session's, so that SQLite's deep stack grows that goroutine's and not the caller's (an
// event stream's, which then stays open for days); a panic or a runtime.Goexit in it happens on
// the caller's goroutine, and every session goes on reading. Other reads run on their caller's.
func TestLongLivedReadsRunOnTheirSessionsGoroutines(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := store.LongLived(t.Context())
	read := func() error {
		return s.Read(ctx, func(tx store.Tx) error { _, err := tx.LastSequence(ctx); return err })
	}
	caller := goroutineID()
	var reader uint64
	if err := s.Read(ctx, func(tx store.Tx) error { reader = goroutineID(); return nil }); err != nil {
		t.Fatal(err)
	}
	if reader == caller {
		t.Fatal("a long-lived caller's read ran on the caller's goroutine")
	}
	if err := s.Read(t.Context(), func(tx store.Tx) error { reader = goroutineID(); return nil }); err != nil {
		t.Fatal(err)
	}
	if reader != caller {
		t.Fatal("a read ran off its caller's goroutine")
	}
	for i := range 2 * runtime.GOMAXPROCS(0) * 4 { // every session, more than once
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("read %d: recovered %v, want the read's panic", i, p)
				}
			}()
			_ = s.Read(ctx, func(store.Tx) error { panic("boom") })
		}()
		if err := read(); err != nil {
			t.Fatalf("read after a panic: %v", err)
		}
		went := make(chan bool, 1)
		go func() {
			defer close(went)
			_ = s.Read(ctx, func(store.Tx) error { runtime.Goexit(); return nil })
			went <- true
		}()
		if <-went {
			t.Fatal("the caller went on after its read called runtime.Goexit")
		}
		if err := read(); err != nil {
			t.Fatalf("read after a Goexit: %v", err)
		}
	}
}

// goroutineID returns the id of the calling goroutine, from its stack trace.
func goroutineID() uint64 {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := strings.Fields(string(b)) // "goroutine 18 [running]: ..."
	id, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		panic(err)
	}
	return id
}

// TestLimitsAreExpressions checks no statement of the store has a bare LIMIT parameter, which
// SQLite prepares again on every run (see limitOr).
func TestLimitsAreExpressions(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	bare := regexp.MustCompile(`LIMIT \?\d*\s*[^ +\d]|LIMIT \?\d*$`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "//") && bare.MatchString(line) {
				t.Errorf("%s:%d: a bare LIMIT parameter: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
