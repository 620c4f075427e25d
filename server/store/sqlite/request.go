package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

func (t *tx) RememberRequest(ctx context.Context, scope, key, resourceID string, now time.Time) error {
	return t.insert(ctx, "request", "INSERT INTO requests (scope, key, resource_id, create_time) VALUES (?, ?, ?, ?)",
		scope, key, resourceID, nanos(now))
}

func (t *tx) LookupRequest(ctx context.Context, scope, key string) (string, error) {
	var id string
	err := t.queryRow(ctx, "SELECT resource_id FROM requests WHERE scope = ? AND key = ?", scope, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: lookup request: %w", err)
	}
	return id, nil
}
