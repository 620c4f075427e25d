package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
	"github.com/batonhq/baton/server/store/sqlite"
)

// storeWebhook stores a webhook with a secret in the embedded database of dir, sealed with
// keys (the data directory's key file when nil).
func storeWebhook(t *testing.T, dir string, keys *secret.Keyring, hookSecret string) {
	t.Helper()
	var opts []sqlite.Option
	if keys != nil {
		opts = append(opts, sqlite.WithKeys(keys))
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "baton.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := domain.Webhook{ID: "hook-1", URL: "https://bot.example.com/hook", State: domain.WebhookActive, Secret: hookSecret, Revision: 1}
	if err := st.Write(t.Context(), func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) }); err != nil {
		t.Fatal(err)
	}
}

// readWebhookSecret reads the webhook's secret back, with keys (the key file when nil).
func readWebhookSecret(t *testing.T, dir string, keys *secret.Keyring) (string, error) {
	t.Helper()
	var opts []sqlite.Option
	if keys != nil {
		opts = append(opts, sqlite.WithKeys(keys))
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "baton.db"), opts...)
	if err != nil {
		return "", err
	}
	defer st.Close()
	var s string
	err = st.Read(t.Context(), func(tx store.Tx) error {
		w, err := tx.GetWebhook(t.Context(), "hook-1")
		s = w.Secret
		return err
	})
	return s, err
}

func newKey(t *testing.T) (string, *secret.Key) {
	t.Helper()
	text := secret.NewKey()
	k, err := secret.ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return text, k
}

// serveLog is stderr for a serve run: ready is closed once it logs that it serves.
type serveLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func (s *serveLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if strings.Contains(s.buf.String(), "baton serving") {
		s.once.Do(func() { close(s.ready) })
	}
	return len(p), nil
}

// serve runs "baton serve" until it serves, then stops it; or returns the error it refused
// to start with.
func serveUntilReady(t *testing.T, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &serveLog{ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), &bytes.Buffer{}, stderr)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("serve ended by itself without an error")
		}
		return err
	case <-stderr.ready:
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve, stopped: %v", err)
		}
		return nil
	}
}

// TestServeRefusesWithoutItsKey runs the real serve command on a database whose secrets were
// sealed with one key: with another key, or with none, it refuses to start, saying which
// setting gives the key; with the key, it starts.
func TestServeRefusesWithoutItsKey(t *testing.T) {
	dir := t.TempDir()
	text, k := newKey(t)
	storeWebhook(t, dir, secret.NewKeyring(k), "whsec_serve")

	otherText, other := newKey(t)
	t.Setenv("BATON_SECRET_KEY", otherText)
	err := serveUntilReady(t, "--data-dir", dir)
	if !errors.Is(err, store.ErrSecretKeyWrong) {
		t.Fatalf("serve with another key: %v; want ErrSecretKeyWrong", err)
	}
	for _, want := range []string{"refusing to start", "BATON_SECRET_KEY", "--secret-key-file", k.ID(), other.ID()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), otherText) {
		t.Error("the refusal shows the key given")
	}

	t.Setenv("BATON_SECRET_KEY", "")
	err = serveUntilReady(t, "--data-dir", dir)
	if !errors.Is(err, store.ErrSecretKeyMissing) {
		t.Fatalf("serve without a key: %v; want ErrSecretKeyMissing", err)
	}
	for _, want := range []string{"BATON_SECRET_KEY", "--secret-key-file", filepath.Join(dir, "secret.key")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}

	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := serveUntilReady(t, "--data-dir", dir, "--secret-key-file", file); err != nil {
		t.Fatalf("serve with its key: %v", err)
	}
	t.Setenv("BATON_SECRET_KEY", text)
	if err := serveUntilReady(t, "--data-dir", dir, "--secret-key-file", file); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("serve with the key given twice: %v; want a refusal", err)
	}
	if err := serveUntilReady(t, "--data-dir", dir); err != nil {
		t.Fatalf("serve with its key in BATON_SECRET_KEY: %v", err)
	}
}

// TestSecretsRotateKeyFile: on the embedded database with no key given, rotate makes a new
// key, seals every secret under it and leaves it alone in the key file.
func TestSecretsRotateKeyFile(t *testing.T) {
	dir := t.TempDir()
	storeWebhook(t, dir, nil, "whsec_rotate")
	file := filepath.Join(dir, "secret.key")
	before, err := secret.ReadKeyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "secrets", "rotate", "--data-dir", dir)
	if err != nil {
		t.Fatalf("secrets rotate: %v", err)
	}
	after, err := secret.ReadKeyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if ids := after.IDs(); len(ids) != 1 || ids[0] == before.Primary().ID() {
		t.Fatalf("the key file holds %v after the rotation, want one new key (was %s)", ids, before.Primary().ID())
	}
	if !strings.Contains(out, "sealed 1 rows") || !strings.Contains(out, after.Primary().ID()) {
		t.Errorf("rotate said %q", out)
	}
	if s, err := readWebhookSecret(t, dir, nil); err != nil || s != "whsec_rotate" {
		t.Fatalf("after the rotation the secret reads %q, %v", s, err)
	}
	if _, err := readWebhookSecret(t, dir, before); !errors.Is(err, store.ErrSecretKeyWrong) {
		t.Errorf("the old key still opens the database: %v", err)
	}
}

// TestSecretsRotateGivenKeys: with keys given, rotate seals under the first, after which the
// new key alone opens the database.
func TestSecretsRotateGivenKeys(t *testing.T) {
	dir := t.TempDir()
	oldText, old := newKey(t)
	newText, _ := newKey(t)
	storeWebhook(t, dir, secret.NewKeyring(old), "whsec_given")

	t.Setenv("BATON_SECRET_KEY", newText)
	if _, err := runCmd(t, "secrets", "rotate", "--data-dir", dir); !errors.Is(err, store.ErrSecretKeyWrong) {
		t.Fatalf("rotate without the old key: %v; want ErrSecretKeyWrong", err)
	}
	t.Setenv("BATON_SECRET_KEY", newText+","+oldText)
	if _, err := runCmd(t, "secrets", "rotate", "--data-dir", dir); err != nil {
		t.Fatalf("secrets rotate: %v", err)
	}
	t.Setenv("BATON_SECRET_KEY", newText)
	if _, err := runCmd(t, "keys", "list", "--data-dir", dir); err != nil {
		t.Fatalf("the new key alone does not open the database: %v", err)
	}
	t.Setenv("BATON_SECRET_KEY", oldText)
	if _, err := runCmd(t, "keys", "list", "--data-dir", dir); !errors.Is(err, store.ErrSecretKeyWrong) {
		t.Fatalf("the old key alone: %v; want ErrSecretKeyWrong", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); err == nil {
		t.Error("a key file was made although keys were given")
	}
}

func TestSecretsNewKey(t *testing.T) {
	out, err := runCmd(t, "secrets", "new-key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secret.ParseKey(out); err != nil {
		t.Fatalf("new-key printed %q: %v", out, err)
	}
}

// TestSecretsOnPostgres: on PostgreSQL the keys must be given; serve refuses to start without
// them once secrets exist, and rotate seals under the first key given.
func TestSecretsOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	oldText, old := newKey(t)
	newText, _ := newKey(t)
	st, err := postgres.Open(t.Context(), url, postgres.WithKeys(secret.NewKeyring(old)))
	if err != nil {
		t.Fatal(err)
	}
	w := domain.Webhook{ID: "hook-1", URL: "https://bot.example.com/hook", State: domain.WebhookActive, Secret: "whsec_pg", Revision: 1}
	err = st.Write(t.Context(), func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) })
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	err = serveUntilReady(t, "--database-url", url)
	if !errors.Is(err, store.ErrSecretKeyMissing) || !strings.Contains(err.Error(), "BATON_SECRET_KEY") {
		t.Fatalf("serve without a key: %v; want ErrSecretKeyMissing naming BATON_SECRET_KEY", err)
	}
	if _, err := runCmd(t, "secrets", "rotate", "--database-url", url); err == nil || !strings.Contains(err.Error(), "BATON_SECRET_KEY") {
		t.Fatalf("rotate without a key: %v; want a refusal naming BATON_SECRET_KEY", err)
	}
	t.Setenv("BATON_SECRET_KEY", newText+","+oldText)
	if out, err := runCmd(t, "secrets", "rotate", "--database-url", url); err != nil || !strings.Contains(out, "sealed 1 rows") {
		t.Fatalf("secrets rotate = %q, %v", out, err)
	}
	t.Setenv("BATON_SECRET_KEY", newText)
	if err := serveUntilReady(t, "--database-url", url); err != nil {
		t.Fatalf("serve with the new key alone: %v", err)
	}
	t.Setenv("BATON_SECRET_KEY", oldText)
	if err := serveUntilReady(t, "--database-url", url); !errors.Is(err, store.ErrSecretKeyWrong) {
		t.Fatalf("serve with the old key alone: %v; want ErrSecretKeyWrong", err)
	}
}

func TestSecretsHelp(t *testing.T) {
	for _, args := range [][]string{{"secrets", "-h"}, {"secrets", "rotate", "-h"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String()+errOut.String(), "Usage") {
			t.Errorf("%v printed no usage", args)
		}
	}
	if _, err := runCmd(t, "secrets", "frobnicate"); err == nil {
		t.Error("an unknown secrets subcommand was accepted")
	}
}
