package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// Option configures Open.
type Option func(*options)

type options struct{ keys *secret.Keyring }

// WithKeys seals and opens secrets with keys instead of the key file beside the database.
func WithKeys(keys *secret.Keyring) Option { return func(o *options) { o.keys = keys } }

// KeyFile is where the key of the database at path is kept when none is given: beside it, in
// the data directory, readable by its owner only.
func KeyFile(path string) string { return filepath.Join(filepath.Dir(path), "secret.key") }

// keyFileKeys reads the key file of the database at path, or creates it with a new key when the
// database holds no sealed secret yet (so that the embedded default needs no setup). A database
// with sealed secrets and no key file is refused: a new key would not open them.
func keyFileKeys(ctx context.Context, db *sql.DB, path string) (*secret.Keyring, error) {
	file := KeyFile(path)
	keys, err := secret.ReadKeyFile(file)
	if !errors.Is(err, fs.ErrNotExist) {
		return keys, err
	}
	var sealed bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM channels WHERE sealed_credentials IS NOT NULL)
		OR EXISTS (SELECT 1 FROM webhooks WHERE sealed_secrets IS NOT NULL)`).Scan(&sealed)
	if err != nil {
		return nil, fmt.Errorf("sqlite: secrets: %w", err)
	}
	if sealed {
		return nil, fmt.Errorf("%w: its key file %s is missing", store.ErrSecretKeyMissing, file)
	}
	if err := secret.CreateKeyFile(file, secret.NewKey()); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: secret key file: %w", err)
	}
	return secret.ReadKeyFile(file)
}

// Reseal implements store.Store, in one transaction.
func (s *Store) Reseal(ctx context.Context, rotate bool) (n int, err error) {
	err = s.Write(ctx, func(st store.Tx) error {
		t := st.(*tx)
		rows, err := t.secretRows(ctx)
		if err != nil {
			return err
		}
		changed, err := store.SealRows(t.s.keys, rows, rotate)
		if err != nil {
			return err
		}
		for _, r := range changed {
			if err := t.storeSealed(ctx, r); err != nil {
				return err
			}
		}
		n = len(changed)
		return nil
	})
	return n, err
}

// secretRows reads every channel's and webhook's secrets as stored.
func (t *tx) secretRows(ctx context.Context) ([]store.SecretRow, error) {
	var out []store.SecretRow
	rows, err := t.query(ctx, "SELECT id, credentials, sealed_credentials FROM channels")
	if err != nil {
		return nil, fmt.Errorf("sqlite: secrets: %w", err)
	}
	for rows.Next() {
		r := store.SecretRow{Kind: store.KindChannel}
		if err := rows.Scan(&r.ID, jsonCol(&r.Credentials), &r.Sealed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: secrets: %w", err)
		}
		out = append(out, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("sqlite: secrets: %w", err)
	}
	rows, err = t.query(ctx, "SELECT id, secret, previous_secret, sealed_secrets FROM webhooks")
	if err != nil {
		return nil, fmt.Errorf("sqlite: secrets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := store.SecretRow{Kind: store.KindWebhook}
		if err := rows.Scan(&r.ID, &r.Secret, &r.PreviousSecret, &r.Sealed); err != nil {
			return nil, fmt.Errorf("sqlite: secrets: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// storeSealed writes a row's sealed secrets and empties its clear ones. The row's revision
// stays: its secrets did not change, so a caller's etag holds.
func (t *tx) storeSealed(ctx context.Context, r store.SecretRow) error {
	var err error
	if r.Kind == store.KindChannel {
		_, err = t.exec(ctx, "UPDATE channels SET credentials = ?, sealed_credentials = ? WHERE id = ?", jsonObject(r.Credentials), r.Sealed, r.ID)
	} else {
		_, err = t.exec(ctx, "UPDATE webhooks SET secret = '', previous_secret = '', sealed_secrets = ? WHERE id = ?", r.Sealed, r.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: seal %s %s: %w", r.Kind, r.ID, err)
	}
	return nil
}
