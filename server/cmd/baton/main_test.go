package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store/sqlite"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func TestKeysCreateListDelete(t *testing.T) {
	dir := t.TempDir()
	secret, err := runCmd(t, "keys", "create", "--data-dir", dir, "--role", "admin", "--name", "ops")
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.Authenticate(context.Background(), st, secret)
	st.Close()
	if err != nil || p.Role != domain.PrincipalAdmin {
		t.Fatalf("the printed secret authenticates as %+v, %v; want an admin", p, err)
	}

	list, err := runCmd(t, "keys", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(list, p.KeyID) || !strings.Contains(list, "ops") || strings.Contains(list, secret) {
		t.Fatalf("keys list = %q, %v; want the key id and name, never the secret", list, err)
	}
	if _, err := runCmd(t, "keys", "delete", p.KeyID, "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if list, _ := runCmd(t, "keys", "list", "--data-dir", dir); strings.Contains(list, p.KeyID) {
		t.Fatalf("deleted key still listed: %q", list)
	}
}

func TestKeysCreateRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--role", "root"},
		{"--role", "bot"},                     // a bot key needs its bot
		{"--role", "admin", "--subject", "x"}, // admins have no subject
		{"--role", "bot", "--subject", "bot_missing"},
	} {
		if _, err := runCmd(t, append([]string{"keys", "create", "--data-dir", dir}, args...)...); err == nil {
			t.Errorf("keys create %v succeeded", args)
		}
	}
}

func TestMigrateCreatesTheDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	if _, err := runCmd(t, "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "baton.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "migrate", "--data-dir", dir); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

func TestKeysDeleteNeedsAnID(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, "keys", "delete", "--data-dir", dir); err == nil {
		t.Fatal("keys delete without an id succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "baton.db")); !os.IsNotExist(err) {
		t.Fatalf("a refused command created the database: %v", err)
	}
}

func TestUsage(t *testing.T) {
	if out, err := runCmd(t, "help"); err != nil || !strings.Contains(out, "baton serve") {
		t.Fatalf("help = %q, %v", out, err)
	}
	if _, err := runCmd(t, "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
	if _, err := runCmd(t); err == nil {
		t.Fatal("no command accepted")
	}
}

func TestDataDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BATON_DATA_DIR", dir)
	if _, err := runCmd(t, "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "baton.db")); err != nil {
		t.Fatalf("BATON_DATA_DIR ignored: %v", err)
	}
}

func TestWebhookFlags(t *testing.T) {
	cfg, err := webhookConfig("127.0.0.0/8, 10.1.0.0/16", 3*time.Second, "30s,2m")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.AllowNetworks) != 2 || cfg.AllowNetworks[1].String() != "10.1.0.0/16" || cfg.Timeout != 3*time.Second ||
		!slices.Equal(cfg.Retry.Schedule, []time.Duration{30 * time.Second, 2 * time.Minute}) || cfg.Retry.Jitter == 0 {
		t.Errorf("config = %+v", cfg)
	}
	for _, bad := range [][2]string{{"127.0.0.1", "1m"}, {"", "1m,soon"}, {"", "-1m"}, {"", ""}} {
		if _, err := webhookConfig(bad[0], time.Second, bad[1]); err == nil {
			t.Errorf("networks %q, schedule %q: accepted", bad[0], bad[1])
		}
	}
}
