package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
	"github.com/batonhq/baton/server/store/storetest"
)

// The tests need a database: see pgtest. Each gets a schema of its own, so they run in
// parallel on one database.

func TestStore(t *testing.T) {
	pgtest.Require(t) // one skip for the whole suite
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), pgtest.URL(t), postgres.WithKeys(pgtest.Keys))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// open opens a Store on url and closes it when the test ends.
func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestMigrateThenReopen checks migrating is idempotent and that data outlives the store.
func TestMigrateThenReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	for range 2 {
		if err := postgres.Migrate(ctx, url); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	ch := domain.Channel{ID: "ch-1", Kind: domain.ChannelGeneric, ExternalID: "x", Revision: 1}
	s := open(t, url)
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.CreateChannel(ctx, ch) }); err != nil {
		t.Fatalf("CreateChannel: %v", err)
	}
	s.Close()

	s = open(t, url)
	err := s.Read(ctx, func(tx store.Tx) error {
		_, err := tx.GetChannel(ctx, ch.ID)
		return err
	})
	if err != nil {
		t.Errorf("channel after reopening: %v", err)
	}
}

// TestOpenTogether has replicas open a new schema at the same time: they take turns to
// migrate it, and all succeed.
func TestOpenTogether(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	const replicas = 4
	errs := make(chan error, replicas)
	for range replicas {
		go func() {
			s, err := postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	var failed error
	for range replicas {
		failed = errors.Join(failed, <-errs)
	}
	if failed != nil {
		t.Fatalf("Open: %v", failed)
	}
}

// TestReadyWantsEveryMigration: a migrated schema is ready; one that lacks the last migration
// of this binary is not, and an unreachable database is unavailable.
func TestReadyWantsEveryMigration(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url, postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after migrating: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); !errors.Is(err, store.ErrMigrationsPending) {
		t.Fatalf("Ready with a migration missing: %v, want ErrMigrationsPending", err)
	}
}
