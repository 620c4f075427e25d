package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

func createBot(ctx context.Context, tx store.Tx, id string) error {
	return tx.CreateBot(ctx, domain.Bot{ID: id, DisplayName: id, Active: true, CreateTime: time.Now(), UpdateTime: time.Now()})
}

// TestDeadlockedWriteRunsAgain has two Writes each lock a row and then wait for the other's:
// the database fails one of them with a deadlock, and the store runs it again, so both
// succeed, and the deadlock is logged.
func TestDeadlockedWriteRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	logs := pgtest.RecordLogs(s)
	agents := []string{"agent-a", "agent-b"}
	for _, id := range agents {
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.CreateAgent(ctx, domain.Agent{ID: id}) }); err != nil {
			t.Fatal(err)
		}
	}
	held := []chan struct{}{make(chan struct{}), make(chan struct{})}
	var runs [2]atomic.Int32
	results := make(chan error, 2)
	for i := range 2 {
		go func() {
			results <- s.Write(ctx, func(tx store.Tx) error {
				first := runs[i].Add(1) == 1
				if err := tx.TouchAgent(ctx, agents[i], time.Now()); err != nil {
					return err
				}
				if first { // each holds its row before asking for the other's
					close(held[i])
					<-held[1-i]
				}
				return tx.TouchAgent(ctx, agents[1-i], time.Now())
			})
		}()
	}
	for range 2 {
		if err := <-results; err != nil {
			t.Errorf("Write: %v", err)
		}
	}
	// The deadlock's victim runs again. On a busy machine its second run can meet the other
	// Write's lock again and be a victim once more, so more runs than three are no failure.
	if got := runs[0].Load() + runs[1].Load(); got < 3 {
		t.Errorf("%d and %d runs, want a Write run again", runs[0].Load(), runs[1].Load())
	}
	if !strings.Contains(logs.String(), "40P01") {
		t.Errorf("no deadlock logged: %q", logs.String())
	}
}

// TestTerminatedConnectionRunsAgain terminates a Write's server process in the middle of its
// transaction (SQLSTATE 57P01): the Write runs again on a new connection and succeeds. When
// that is terminated too, the Write fails with store.ErrUnavailable, and stores nothing.
func TestTerminatedConnectionRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s := open(t, url)
	pgtest.RecordLogs(s)
	admin := connect(t, url)
	terminating := func(id string, times int) (func(store.Tx) error, *int) {
		runs := 0
		return func(tx store.Tx) error {
			runs++
			if runs <= times {
				pid, err := postgres.BackendPID(ctx, tx)
				if err != nil {
					return err
				}
				var done bool
				if err := admin.QueryRow(ctx, "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&done); err != nil || !done {
					return fmt.Errorf("terminate backend %d: %v, %v", pid, done, err)
				}
			}
			return createBot(ctx, tx, id)
		}, &runs
	}

	fn, runs := terminating("once", 1)
	if err := s.Write(ctx, fn); err != nil || *runs != 2 {
		t.Errorf("Write terminated once: %v after %d runs, want success after 2", err, *runs)
	}
	fn, runs = terminating("always", 10)
	if err := s.Write(ctx, fn); !errors.Is(err, store.ErrUnavailable) || *runs != 2 {
		t.Errorf("Write terminated each time: %v after %d runs, want store.ErrUnavailable after 2", err, *runs)
	}
	for id, kept := range map[string]bool{"once": true, "always": false} {
		err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.GetBot(ctx, id); return err })
		if kept != (err == nil) {
			t.Errorf("bot %q: %v, want kept %v", id, err, kept)
		}
	}
}

// TestUnreachableDatabaseIsUnavailable cuts the store off its database: every call fails at
// once with store.ErrUnavailable; once the database can be reached again, every call succeeds
// at the first attempt.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	proxy := pgtest.NewProxy(t, pgtest.URL(t))
	s := open(t, proxy.URL)
	pgtest.RecordLogs(s)
	if err := s.Write(ctx, func(tx store.Tx) error { return createBot(ctx, tx, "bot") }); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	calls := map[string]func() error{
		"Write": func() error {
			return s.Write(ctx, func(tx store.Tx) error { return createBot(ctx, tx, fmt.Sprint("w", n.Add(1))) })
		},
		"WriteInbound": func() error {
			return s.WriteInbound(ctx, store.InboundQuery{ChannelID: "ch", ContactExternalID: "c"}, func(tx store.Tx) error {
				return createBot(ctx, tx, fmt.Sprint("i", n.Add(1)))
			})
		},
		"Read": func() error {
			return s.Read(ctx, func(tx store.Tx) error { _, err := tx.GetBot(ctx, "bot"); return err })
		},
		"LastSequence": func() error { _, err := s.LastSequence(ctx); return err },
	}
	proxy.Cut()
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the database is out of reach: %v, want store.ErrUnavailable", name, err)
		}
	}
	proxy.Restore()
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s once the database is back: %v", name, err)
		}
	}
}
