package serve

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/server/store/sqlite"
)

// TestShutdownDrains: once shutdown starts the server is no longer ready, whatever its store
// says, so that health checks stop sending it traffic.
func TestShutdownDrains(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(t.Context(), Config{Store: st, TimerInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ready(t.Context()); err != nil {
		t.Fatalf("ready before shutdown: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	stop() // shut down at once
	if err := s.Serve(ctx, l, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.ready(t.Context()); !errors.Is(err, errDraining) {
		t.Fatalf("ready after shutdown: %v, want draining", err)
	}
}
