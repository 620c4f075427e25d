package storetest

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// SecretsBackend is what the secrets-at-rest cases need of a backend besides store.Store: to
// open one database again with other keys, and to see its rows as stored.
type SecretsBackend struct {
	// Fresh creates a new, empty database and returns how to open it with keys. The cases
	// close what they open.
	Fresh func(t *testing.T) func(keys *secret.Keyring) (store.Store, error)
	// Dump returns every row of every table of s as text, with byte strings both as they are
	// and in hex.
	Dump func(t *testing.T, s store.Store) string
	// Exec runs one SQL statement on s, outside the store's sealing.
	Exec func(t *testing.T, s store.Store, sql string)
}

// RunSecrets runs the secrets-at-rest cases.
func RunSecrets(t *testing.T, b SecretsBackend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b SecretsBackend)
	}{
		{"SealedAtRest", testSealedAtRest},
		{"WrongKeyRefused", testWrongKeyRefused},
		{"Rotate", testRotate},
		{"PlaintextSealedAtOpen", testPlaintextSealedAtOpen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, b)
		})
	}
}

// Distinctive secrets, found nowhere else.
var (
	sealedCredentials = domain.Credentials{
		AppSecret: "appsecret-7f3c9e1d", VerifyToken: "verifytoken-2b8a4f60", AccessToken: "EAAGaccesstoken-5d1e9c3a",
		WebhookSecret: "chanwebhooksecret-9a0b7c2e", SendURL: "https://send.example.com/sendurl-41c7", AppID: "appid-8821",
	}
	hookSecret, hookPrevious = "whsec_current-3e6f1a9b", "whsec_previous-c04d7e25"
)

func newKeyring(t *testing.T, n int) []*secret.Key {
	keys := make([]*secret.Key, n)
	for i := range keys {
		k, err := secret.ParseKey(secret.NewKey())
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	return keys
}

func mustOpen(t *testing.T, open func(*secret.Keyring) (store.Store, error), keys *secret.Keyring) store.Store {
	t.Helper()
	s, err := open(keys)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeSecrets stores a channel and a webhook with the distinctive secrets.
func writeSecrets(t *testing.T, s store.Store) (domain.Channel, domain.Webhook) {
	t.Helper()
	h := &harness{t: t, s: s, ctx: t.Context()}
	ch := h.channel(func(c *domain.Channel) { c.Credentials = sealedCredentials })
	w := h.webhook(func(w *domain.Webhook) { w.Secret, w.PreviousSecret = hookSecret, hookPrevious })
	return ch, w
}

// checkSecretsRead checks that every read of the channel and webhook returns their secrets.
func checkSecretsRead(t *testing.T, s store.Store, ch domain.Channel, w domain.Webhook) {
	t.Helper()
	ctx := t.Context()
	err := s.Write(ctx, func(tx store.Tx) error {
		got, err := tx.GetChannel(ctx, ch.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(ch.Credentials, got.Credentials); diff != "" {
			t.Errorf("GetChannel credentials (-want +got):\n%s", diff)
		}
		list, _, err := tx.ListChannels(ctx, "", store.Page{Size: 10})
		if err != nil || len(list) != 1 || list[0].Credentials != ch.Credentials {
			t.Errorf("ListChannels = %+v, %v; want the channel with its credentials", list, err)
		}
		in, err := tx.LoadInbound(ctx, store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "m", ContactExternalID: "u"})
		if err != nil || in.Channel.Credentials != ch.Credentials {
			t.Errorf("LoadInbound channel credentials = %+v, %v; want %+v", in.Channel.Credentials, err, ch.Credentials)
		}
		hook, err := tx.GetWebhook(ctx, w.ID)
		if err != nil {
			return err
		}
		if hook.Secret != w.Secret || hook.PreviousSecret != w.PreviousSecret {
			t.Errorf("GetWebhook secrets = %q, %q; want %q, %q", hook.Secret, hook.PreviousSecret, w.Secret, w.PreviousSecret)
		}
		hooks, _, err := tx.ListWebhooks(ctx, "", store.Page{Size: 10})
		if err != nil || len(hooks) != 1 || hooks[0].Secret != w.Secret {
			t.Errorf("ListWebhooks = %v; want the webhook with its secret", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkNoPlaintext checks that no row of the database holds any of the secrets, and that the
// dump does show what is not secret (so that it is a dump of the rows).
func checkNoPlaintext(t *testing.T, b SecretsBackend, s store.Store, secrets ...string) {
	t.Helper()
	dump := b.Dump(t, s)
	if !strings.Contains(dump, sealedCredentials.SendURL) {
		t.Fatalf("the dump lacks the channel's send URL, which is not secret: it is not a dump of the rows:\n%s", dump)
	}
	for _, v := range secrets {
		if strings.Contains(dump, v) || strings.Contains(dump, hex.EncodeToString([]byte(v))) {
			t.Errorf("the database holds the secret %q in the clear", v)
		}
	}
}

func allSecrets() []string {
	c := sealedCredentials
	return []string{c.AppSecret, c.VerifyToken, c.AccessToken, c.WebhookSecret, hookSecret, hookPrevious}
}

func testSealedAtRest(t *testing.T, b SecretsBackend) {
	open := b.Fresh(t)
	s := mustOpen(t, open, secret.NewKeyring(newKeyring(t, 1)[0]))
	ch, w := writeSecrets(t, s)
	checkSecretsRead(t, s, ch, w)
	checkNoPlaintext(t, b, s, allSecrets()...)

	// An update seals the new secrets too.
	h := &harness{t: t, s: s, ctx: t.Context()}
	ch.Credentials.AccessToken = "EAAGrotatedtoken-77aa10"
	w.PreviousSecret, w.Secret = w.Secret, "whsec_next-5b5b0e"
	h.write(func(tx store.Tx) error {
		if err := tx.UpdateChannel(h.ctx, ch); err != nil {
			return err
		}
		return tx.UpdateWebhook(h.ctx, w)
	})
	ch.Revision++
	w.Revision++
	checkSecretsRead(t, s, ch, w)
	checkNoPlaintext(t, b, s, append(allSecrets(), ch.Credentials.AccessToken, w.Secret)...)
}

func testWrongKeyRefused(t *testing.T, b SecretsBackend) {
	open := b.Fresh(t)
	keys := newKeyring(t, 2)
	s := mustOpen(t, open, secret.NewKeyring(keys[0]))
	writeSecrets(t, s)
	s.Close()

	if s, err := open(secret.NewKeyring(keys[1])); !errors.Is(err, store.ErrSecretKeyWrong) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("open with another key: %v, want ErrSecretKeyWrong", err)
	} else if !strings.Contains(err.Error(), keys[0].ID()) || !strings.Contains(err.Error(), keys[1].ID()) {
		t.Errorf("the refusal %q names neither the key needed (%s) nor the key given (%s)", err, keys[0].ID(), keys[1].ID())
	}
	// The right key, after a wrong one, still opens: the refusal changed nothing.
	mustOpen(t, open, secret.NewKeyring(keys[0]))
}

func testRotate(t *testing.T, b SecretsBackend) {
	open := b.Fresh(t)
	keys := newKeyring(t, 2)
	old, fresh := keys[0], keys[1]
	s := mustOpen(t, open, secret.NewKeyring(old))
	ch, w := writeSecrets(t, s)
	s.Close()

	s = mustOpen(t, open, secret.NewKeyring(fresh, old))
	n, err := s.Reseal(t.Context(), true)
	if err != nil || n != 2 {
		t.Fatalf("Reseal(rotate) = %d, %v; want the channel and the webhook sealed again", n, err)
	}
	if n, err := s.Reseal(t.Context(), true); err != nil || n != 0 {
		t.Errorf("a second Reseal(rotate) = %d, %v; want nothing left to seal", n, err)
	}
	checkSecretsRead(t, s, ch, w)
	checkNoPlaintext(t, b, s, allSecrets()...)
	s.Close()

	// Everything is sealed under the new key: it alone opens the database, the old one no more.
	s = mustOpen(t, open, secret.NewKeyring(fresh))
	checkSecretsRead(t, s, ch, w)
	s.Close()
	if s, err := open(secret.NewKeyring(old)); !errors.Is(err, store.ErrSecretKeyWrong) {
		if err == nil {
			s.Close()
		}
		t.Errorf("open with the old key after the rotation: %v, want ErrSecretKeyWrong", err)
	}
}

// testPlaintextSealedAtOpen: rows written before sealing existed hold their secrets in the
// clear; opening the database with a key seals them.
func testPlaintextSealedAtOpen(t *testing.T, b SecretsBackend) {
	open := b.Fresh(t)
	keys := secret.NewKeyring(newKeyring(t, 1)[0])
	s := mustOpen(t, open, keys)
	ch, w := writeSecrets(t, s)
	b.Exec(t, s, `UPDATE channels SET credentials = '{"app_secret":"appsecret-7f3c9e1d","verify_token":"verifytoken-2b8a4f60",`+
		`"access_token":"EAAGaccesstoken-5d1e9c3a","webhook_secret":"chanwebhooksecret-9a0b7c2e",`+
		`"send_url":"https://send.example.com/sendurl-41c7","app_id":"appid-8821"}', sealed_credentials = NULL`)
	b.Exec(t, s, `UPDATE webhooks SET secret = 'whsec_current-3e6f1a9b', previous_secret = 'whsec_previous-c04d7e25', sealed_secrets = NULL`)
	if dump := b.Dump(t, s); !strings.Contains(dump, hookSecret) {
		t.Fatal("the rows were not put back in the clear")
	}
	checkSecretsRead(t, s, ch, w) // rows from before sealing read as they are
	s.Close()

	s = mustOpen(t, open, keys)
	checkNoPlaintext(t, b, s, allSecrets()...)
	checkSecretsRead(t, s, ch, w)
}
