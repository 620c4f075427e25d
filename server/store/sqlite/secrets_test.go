package sqlite_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
	"github.com/batonhq/baton/server/store/storetest"
)

var secretsBackend = storetest.SecretsBackend{
	Fresh: func(t *testing.T) func(*secret.Keyring) (store.Store, error) {
		path := filepath.Join(t.TempDir(), "baton.db")
		return func(keys *secret.Keyring) (store.Store, error) {
			if keys == nil {
				return sqlite.Open(t.Context(), path)
			}
			return sqlite.Open(t.Context(), path, sqlite.WithKeys(keys))
		}
	},
	Dump: func(t *testing.T, s store.Store) string {
		dump, err := sqlite.Dump(t.Context(), s.(*sqlite.Store))
		if err != nil {
			t.Fatal(err)
		}
		return dump
	},
	Exec: func(t *testing.T, s store.Store, sql string) {
		if err := s.Write(t.Context(), func(tx store.Tx) error { return sqlite.Exec(tx, sql) }); err != nil {
			t.Fatal(err)
		}
	},
}

func TestSecrets(t *testing.T) { storetest.RunSecrets(t, secretsBackend) }

func writeWebhook(t *testing.T, s store.Store, secret string) {
	t.Helper()
	w := domain.Webhook{ID: "hook-1", URL: "https://bot.example.com/hook", State: domain.WebhookActive, Secret: secret, Revision: 1}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) }); err != nil {
		t.Fatal(err)
	}
}

// TestKeyFile: without a key given, the first open generates one beside the database, readable
// by its owner only, and later opens use it; with the file gone, the sealed secrets are refused
// rather than a new key made.
func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "baton.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	writeWebhook(t, s, "whsec_keyfile")
	s.Close()
	file := sqlite.KeyFile(path)
	if file != filepath.Join(dir, "secret.key") {
		t.Errorf("KeyFile = %s, want secret.key in the data directory", file)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no key file was generated: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("the key file's mode is %v, want 0600", mode)
	}
	if _, err := secret.ReadKeyFile(file); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen with the key file: %v", err)
	}
	err = s.Read(t.Context(), func(tx store.Tx) error {
		w, err := tx.GetWebhook(t.Context(), "hook-1")
		if err == nil && w.Secret != "whsec_keyfile" {
			t.Errorf("Secret = %q after reopening", w.Secret)
		}
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(t.Context(), path)
	if !errors.Is(err, store.ErrSecretKeyMissing) || !strings.Contains(err.Error(), file) {
		t.Fatalf("open without the key file: %v; want ErrSecretKeyMissing naming %s", err, file)
	}
	if _, statErr := os.Stat(file); statErr == nil {
		t.Error("a new key file was made for a database whose secrets it cannot open")
	}
}

// TestKeyFileSealsPlaintext: a database from before sealing, with secrets in the clear and no
// key file, gets a key file at its first open and its secrets sealed.
func TestKeyFileSealsPlaintext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baton.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	writeWebhook(t, s, "whsec_before")
	secretsBackend.Exec(t, s, "UPDATE webhooks SET secret = 'whsec_from_before', sealed_secrets = NULL")
	s.Close()
	if err := os.Remove(sqlite.KeyFile(path)); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if dump := secretsBackend.Dump(t, s); strings.Contains(dump, "whsec_from_before") {
		t.Error("the secret from before is still in the clear")
	}
	err = s.Read(t.Context(), func(tx store.Tx) error {
		w, err := tx.GetWebhook(t.Context(), "hook-1")
		if err == nil && w.Secret != "whsec_from_before" {
			t.Errorf("Secret = %q, want the one from before", w.Secret)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
