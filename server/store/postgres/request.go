package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

var insertRequest = insertSQL("requests", []string{"scope", "key", "resource_id", "create_time"})

func (t *tx) RememberRequest(ctx context.Context, scope, key, resourceID string, now time.Time) error {
	return t.insert(ctx, "request", insertRequest, scope, key, resourceID, now)
}

func (t *tx) LookupRequest(ctx context.Context, scope, key string) (string, error) {
	var id string
	err := t.tx.QueryRow(ctx, "SELECT resource_id FROM requests WHERE scope = $1 AND key = $2", scope, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: lookup request: %w", err)
	}
	return id, nil
}
