package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// TestListen checks events committed through one Store reach Listen on another (a replica
// sharing the database), also after Listen's connection was lost.
func TestListen(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	writer, listener := open(t, url), open(t, url)
	listener.Logger = slog.New(slog.DiscardHandler)

	calls := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- listener.Listen(ctx, func() { calls <- struct{}{} }) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v, want context.Canceled", err)
		}
	}()

	wantCall(t, calls, "once listening")
	appendEvent(t, writer, "e1")
	wantCall(t, calls, "after the other store committed an event")

	terminateListener(t, url, postgres.ListenChannel(listener))
	wantCall(t, calls, "after reconnecting")
	appendEvent(t, writer, "e2")
	wantCall(t, calls, "after the other store committed another")
}

func wantCall(t *testing.T, calls <-chan struct{}, when string) {
	t.Helper()
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatalf("onCommit not called %s", when)
	}
}

// terminateListener ends the server session listening to channel, as a database restart or a
// network failure would.
func terminateListener(t *testing.T, url, channel string) {
	t.Helper()
	var n int
	err := connect(t, url).QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = $1`, `LISTEN "`+channel+`"`).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminating the listening session: %d terminated, error %v", n, err)
	}
}
