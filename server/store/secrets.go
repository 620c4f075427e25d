package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
)

// Secrets at rest: a channel's secret credentials (app secret, verify token, access token,
// webhook secret) and a webhook's signing secrets are stored sealed (package secret), each row's
// under associated data naming the row, so a sealed value copied to another row does not open.
// A channel's credentials column keeps only what is not secret (send URL, app id). Backends seal
// as they write and open as they read, so above the store every secret is in the clear, and
// below it none is. Rows written before sealing existed hold their secrets in the clear until
// SealRows seals them (at start).

// ErrNoSecretKey refuses to store a secret when no key is configured (PostgreSQL without one).
var ErrNoSecretKey = domain.Precondition("secret_key",
	"no secret key is configured to seal channel credentials and webhook secrets with: set BATON_SECRET_KEY or --secret-key-file")

// ErrSecretKeyMissing says the database holds secrets and no key was given.
var ErrSecretKeyMissing = errors.New("store: the database holds secrets and no secret key was given")

// ErrSecretKeyWrong says the database holds secrets sealed under a key that was not given.
var ErrSecretKeyWrong = errors.New("store: the database holds secrets sealed under a key that was not given")

// channelSecrets are the credentials that are sealed.
type channelSecrets struct {
	AppSecret     string `json:"app_secret,omitempty"`
	VerifyToken   string `json:"verify_token,omitempty"`
	AccessToken   string `json:"access_token,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

type webhookSecrets struct {
	Secret         string `json:"secret,omitempty"`
	PreviousSecret string `json:"previous_secret,omitempty"`
}

func credentialsAD(channelID string) []byte { return []byte("channels/" + channelID + "/credentials") }
func webhookAD(webhookID string) []byte     { return []byte("webhooks/" + webhookID + "/secrets") }

// SealCredentials splits c into what is stored in the clear and the sealed secrets (nil when
// there are none).
func SealCredentials(keys *secret.Keyring, channelID string, c domain.Credentials) (domain.Credentials, []byte, error) {
	clear := domain.Credentials{SendURL: c.SendURL, AppID: c.AppID}
	s := channelSecrets{AppSecret: c.AppSecret, VerifyToken: c.VerifyToken, AccessToken: c.AccessToken, WebhookSecret: c.WebhookSecret}
	if s == (channelSecrets{}) {
		return clear, nil, nil
	}
	sealed, err := seal(keys, s, credentialsAD(channelID))
	return clear, sealed, err
}

// OpenCredentials puts the secrets sealed in sealed (when not nil) into c, read from the clear
// column.
func OpenCredentials(keys *secret.Keyring, channelID string, c *domain.Credentials, sealed []byte) error {
	if sealed == nil {
		return nil
	}
	var s channelSecrets
	if err := open(keys, sealed, credentialsAD(channelID), &s); err != nil {
		return fmt.Errorf("%w (channel %s)", err, channelID)
	}
	c.AppSecret, c.VerifyToken, c.AccessToken, c.WebhookSecret = s.AppSecret, s.VerifyToken, s.AccessToken, s.WebhookSecret
	return nil
}

// SealWebhookSecrets seals a webhook's signing secrets (nil when both are empty).
func SealWebhookSecrets(keys *secret.Keyring, webhookID, current, previous string) ([]byte, error) {
	if current == "" && previous == "" {
		return nil, nil
	}
	return seal(keys, webhookSecrets{current, previous}, webhookAD(webhookID))
}

// OpenWebhookSecrets puts the secrets sealed in sealed (when not nil) into w.
func OpenWebhookSecrets(keys *secret.Keyring, w *domain.Webhook, sealed []byte) error {
	if sealed == nil {
		return nil
	}
	var s webhookSecrets
	if err := open(keys, sealed, webhookAD(w.ID), &s); err != nil {
		return fmt.Errorf("%w (webhook %s)", err, w.ID)
	}
	w.Secret, w.PreviousSecret = s.Secret, s.PreviousSecret
	return nil
}

func seal(keys *secret.Keyring, v any, ad []byte) ([]byte, error) {
	if keys == nil {
		return nil, ErrNoSecretKey
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return keys.Seal(b, ad), nil
}

func open(keys *secret.Keyring, sealed, ad []byte, v any) error {
	if keys == nil {
		id, _ := secret.KeyID(sealed)
		return fmt.Errorf("%w (sealed under key %s)", ErrSecretKeyMissing, id)
	}
	b, err := keys.Open(sealed, ad)
	if errors.Is(err, secret.ErrWrongKey) {
		id, _ := secret.KeyID(sealed)
		return fmt.Errorf("%w: sealed under key %s, given keys %s", ErrSecretKeyWrong, id, strings.Join(keys.IDs(), ", "))
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// SecretRow is one row that holds secrets, as stored: a channel's (Credentials read from its
// clear column, which rows from before sealing hold secrets in) or a webhook's (Secret and
// PreviousSecret from its clear columns, likewise).
type SecretRow struct {
	Kind                   Kind // KindChannel or KindWebhook
	ID                     string
	Credentials            domain.Credentials
	Secret, PreviousSecret string
	Sealed                 []byte
}

// SealRows checks that every sealed value of rows opens with keys, and seals again the rows
// that hold secrets in the clear and, when rotate is set, those sealed under any key but the
// primary: it returns those rows as they are to be stored. With no keys (nil), it only checks
// that rows hold no secret at all.
func SealRows(keys *secret.Keyring, rows []SecretRow, rotate bool) ([]SecretRow, error) {
	var out []SecretRow
	for _, r := range rows {
		next, changed, err := sealRow(keys, r, rotate)
		if err != nil {
			return nil, err
		}
		if changed {
			out = append(out, next)
		}
	}
	return out, nil
}

func sealRow(keys *secret.Keyring, r SecretRow, rotate bool) (SecretRow, bool, error) {
	next := SecretRow{Kind: r.Kind, ID: r.ID}
	var err error
	switch r.Kind {
	case KindChannel:
		c := r.Credentials
		plain := c.AppSecret != "" || c.VerifyToken != "" || c.AccessToken != "" || c.WebhookSecret != ""
		if err := OpenCredentials(keys, r.ID, &c, r.Sealed); err != nil {
			return r, false, err
		}
		if plain && keys == nil {
			return r, false, fmt.Errorf("%w (channel %s holds credentials in the clear, from before they were sealed)", ErrSecretKeyMissing, r.ID)
		}
		if !mustSeal(keys, r, plain, rotate) {
			return r, false, nil
		}
		next.Credentials, next.Sealed, err = SealCredentials(keys, r.ID, c)
	case KindWebhook:
		w := domain.Webhook{ID: r.ID, Secret: r.Secret, PreviousSecret: r.PreviousSecret}
		plain := w.Secret != "" || w.PreviousSecret != ""
		if err := OpenWebhookSecrets(keys, &w, r.Sealed); err != nil {
			return r, false, err
		}
		if plain && keys == nil {
			return r, false, fmt.Errorf("%w (webhook %s holds its secrets in the clear, from before they were sealed)", ErrSecretKeyMissing, r.ID)
		}
		if !mustSeal(keys, r, plain, rotate) {
			return r, false, nil
		}
		next.Sealed, err = SealWebhookSecrets(keys, r.ID, w.Secret, w.PreviousSecret)
	default:
		return r, false, fmt.Errorf("store: no secrets in a %s", r.Kind)
	}
	if err != nil {
		return r, false, err
	}
	return next, true, nil
}

// mustSeal reports whether r is to be sealed (again): it holds secrets in the clear or, in a
// rotation, is sealed under another key than the primary. Rows that are not keep their seal,
// so that opening a store seals nothing it need not.
func mustSeal(keys *secret.Keyring, r SecretRow, plain, rotate bool) bool {
	switch {
	case keys == nil:
		return false
	case plain:
		return true
	case rotate && r.Sealed != nil:
		id, _ := secret.KeyID(r.Sealed)
		return id != keys.Primary().ID()
	}
	return false
}
