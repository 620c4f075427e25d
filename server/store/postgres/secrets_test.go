package postgres_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
	"github.com/batonhq/baton/server/store/storetest"
)

var secretsBackend = storetest.SecretsBackend{
	Fresh: func(t *testing.T) func(*secret.Keyring) (store.Store, error) {
		url := pgtest.URL(t)
		return func(keys *secret.Keyring) (store.Store, error) {
			return postgres.Open(t.Context(), url, postgres.WithKeys(keys))
		}
	},
	Dump: func(t *testing.T, s store.Store) string {
		dump, err := postgres.Dump(t.Context(), s.(*postgres.Store))
		if err != nil {
			t.Fatal(err)
		}
		return dump
	},
	Exec: func(t *testing.T, s store.Store, sql string) {
		if err := postgres.Exec(t.Context(), s.(*postgres.Store), sql); err != nil {
			t.Fatal(err)
		}
	},
}

func TestSecrets(t *testing.T) {
	pgtest.Require(t)
	storetest.RunSecrets(t, secretsBackend)
}

// TestNoKey: without a key, a database that holds no secret opens but refuses to store one,
// naming the setting; once it holds secrets, sealed or from before sealing, it does not open.
func TestNoKey(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open without a key and without secrets: %v", err)
	}
	w := domain.Webhook{ID: "hook-1", URL: "https://bot.example.com/hook", State: domain.WebhookActive, Secret: "whsec_nokey", Revision: 1}
	err = s.Write(t.Context(), func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) })
	var pre *domain.PreconditionError
	if !errors.As(err, &pre) || !strings.Contains(err.Error(), "BATON_SECRET_KEY") {
		t.Errorf("storing a secret without a key: %v; want a precondition naming BATON_SECRET_KEY", err)
	}
	s.Close()

	s, err = postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := postgres.Open(t.Context(), url); !errors.Is(err, store.ErrSecretKeyMissing) {
		t.Fatalf("open without a key, secrets sealed: %v; want ErrSecretKeyMissing", err)
	}

	s, err = postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	secretsBackend.Exec(t, s, "UPDATE webhooks SET secret = 'whsec_from_before', sealed_secrets = NULL")
	s.Close()
	if _, err := postgres.Open(t.Context(), url); !errors.Is(err, store.ErrSecretKeyMissing) {
		t.Fatalf("open without a key, secrets in the clear: %v; want ErrSecretKeyMissing", err)
	}
	if err := postgres.Migrate(t.Context(), url); err != nil {
		t.Errorf("migrate needs no key, yet: %v", err)
	}
}
