// Package pgtest gives tests PostgreSQL databases of their own: each is a new schema in the
// database that the BATON_TEST_DATABASE_URL environment variable names, dropped when the test
// ends. Without the variable, the tests that ask for one are skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store/postgres"
)

// EnvVar names the environment variable holding the URL of the test database.
const EnvVar = "BATON_TEST_DATABASE_URL"

// Require skips the test unless the test database is configured, and returns its URL.
func Require(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " not set: PostgreSQL tests skipped")
	}
	return base
}

// URL creates an empty schema for the test and returns the database URL with the schema as
// its search_path. Stores opened on it, as many as the test likes (replicas of one
// deployment), share the schema and no other test's. The schema is dropped when the test ends,
// after the cleanups registered later (closing those stores) have run.
func URL(t testing.TB) string {
	t.Helper()
	base := Require(t)
	schema := "baton_test_" + strings.ToLower(rand.Text())
	exec(t.Context(), t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		exec(context.Background(), t, base, "DROP SCHEMA "+schema+" CASCADE")
	})
	return WithParam(t, base, "search_path", schema)
}

// Keys is the keyring tests' stores seal secrets with: the same in every store of a test run, so
// that replicas of one deployment open each other's.
var Keys = func() *secret.Keyring {
	k, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		panic(err)
	}
	return secret.NewKeyring(k)
}()

// Open opens a Store on a new schema (see URL), sealing secrets with Keys, and closes it when
// the test ends.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), URL(t), postgres.WithKeys(Keys))
	if err != nil {
		t.Fatalf("open PostgreSQL store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// WithParam sets a connection parameter in a URL or a key=value connection string. pgx sends
// parameters it does not know of, such as search_path, to the server as settings.
func WithParam(t testing.TB, conn, key, value string) string {
	if !strings.Contains(conn, "://") {
		return conn + " " + key + "=" + value
	}
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(ctx context.Context, t testing.TB, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
