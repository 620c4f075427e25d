package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// TestPgbenchCeilingsRun runs each pgbench ceiling (scripts/ceiling) for a few transactions on a
// schema of its own, as scripts/bench does: they must keep running against the schema Baton's
// migrations create, and commit every transaction.
func TestPgbenchCeilingsRun(t *testing.T) {
	pgtest.Require(t)
	if _, err := exec.LookPath("pgbench"); err != nil {
		t.Skip("pgbench not installed: PostgreSQL ceilings not checked")
	}
	dir := filepath.Join("..", "..", "scripts", "ceiling")
	for name, setup := range map[string]string{"baton": "baton", "baton-unordered": "baton", "minimal": "minimal"} {
		t.Run(name, func(t *testing.T) {
			withSchema := pgtest.URL(t)
			if setup == "baton" {
				s, err := postgres.Open(t.Context(), withSchema, postgres.WithKeys(pgtest.Keys)) // migrates
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
			}
			sql, err := os.ReadFile(filepath.Join(dir, setup+"-setup.sql"))
			if err != nil {
				t.Fatal(err)
			}
			conn, err := pgx.Connect(t.Context(), withSchema)
			if err != nil {
				t.Fatal(err)
			}
			_, err = conn.Exec(t.Context(), string(sql)) // no arguments: the simple protocol, several statements
			conn.Close(t.Context())
			if err != nil {
				t.Fatalf("%s-setup.sql: %v", setup, err)
			}

			// pgbench (libpq) takes the schema as an option, and the connection string as given.
			cfg, err := pgx.ParseConfig(withSchema)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), "pgbench", pgtest.Require(t), "-n", "-M", "prepared", "-c", "2", "-t", "20",
				"-f", filepath.Join(dir, name+".pgbench"))
			cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+cfg.RuntimeParams["search_path"])
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "number of transactions actually processed: 40/40") {
				t.Fatalf("pgbench: %v\n%s", err, out)
			}
		})
	}
}
