package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// Option configures Open.
type Option func(*Store)

// WithKeys seals and opens secrets with keys. Without keys, a database that holds no secret
// opens, but storing one is refused (store.ErrNoSecretKey), and a database that holds any does
// not open.
func WithKeys(keys *secret.Keyring) Option { return func(s *Store) { s.keys = keys } }

// Reseal implements store.Store, in one transaction that locks every webhook and channel (in id
// order, webhooks first, as lock.go orders them): replicas starting together seal each row once.
func (s *Store) Reseal(ctx context.Context, rotate bool) (n int, err error) {
	err = s.Write(ctx, func(st store.Tx) error {
		t := st.(*tx)
		rows, err := t.secretRows(ctx)
		if err != nil {
			return err
		}
		changed, err := store.SealRows(t.keys, rows, rotate)
		if err != nil {
			return err
		}
		var b pgx.Batch
		for _, r := range changed {
			if r.Kind == store.KindChannel {
				b.Queue("UPDATE channels SET credentials = $1, sealed_credentials = $2 WHERE id = $3", jsonObject(r.Credentials), r.Sealed, r.ID)
			} else {
				b.Queue("UPDATE webhooks SET secret = '', previous_secret = '', sealed_secrets = $1 WHERE id = $2", r.Sealed, r.ID)
			}
		}
		n = len(changed)
		if n == 0 {
			return nil
		}
		if err := t.tx.Send(ctx, &b); err != nil {
			return fmt.Errorf("postgres: seal secrets: %w", err)
		}
		return nil
	})
	return n, err
}

// secretRows reads, and locks, every webhook's and channel's secrets as stored.
func (t *tx) secretRows(ctx context.Context) ([]store.SecretRow, error) {
	var out []store.SecretRow
	err := t.tx.Query(ctx, func(rows pgx.Rows) error {
		for rows.Next() {
			r := store.SecretRow{Kind: store.KindWebhook}
			if err := rows.Scan(&r.ID, &r.Secret, &r.PreviousSecret, &r.Sealed); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}, "SELECT id, secret, previous_secret, sealed_secrets FROM webhooks ORDER BY id"+lockRow)
	if err != nil {
		return nil, fmt.Errorf("postgres: secrets: %w", err)
	}
	err = t.tx.Query(ctx, func(rows pgx.Rows) error {
		for rows.Next() {
			r := store.SecretRow{Kind: store.KindChannel}
			if err := rows.Scan(&r.ID, jsonCol(&r.Credentials), &r.Sealed); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}, "SELECT id, credentials, sealed_credentials FROM channels ORDER BY id"+lockRow)
	if err != nil {
		return nil, fmt.Errorf("postgres: secrets: %w", err)
	}
	return out, nil
}
