package postgres

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var apiKeyColumns = []string{"id", "display_name", "role", "subject_id", "secret_hash", "create_time"}

var (
	selectAPIKey = "SELECT " + columns("k", apiKeyColumns) + " FROM api_keys k"
	insertAPIKey = insertSQL("api_keys", apiKeyColumns)
)

func scanAPIKey(s scanner) (domain.APIKey, error) {
	var k domain.APIKey
	err := s.Scan(&k.ID, &k.DisplayName, &k.Role, &k.SubjectID, &k.SecretHash, &k.CreateTime)
	return k, err
}

func (t *tx) CreateAPIKey(ctx context.Context, k domain.APIKey) error {
	return t.insert(ctx, "api key", insertAPIKey, k.ID, k.DisplayName, k.Role, k.SubjectID, k.SecretHash, k.CreateTime)
}

func (t *tx) GetAPIKey(ctx context.Context, id string) (domain.APIKey, error) {
	return getOne(ctx, t, scanAPIKey, "api key", id, selectAPIKey+" WHERE k.id = $1", id)
}

func (t *tx) ListAPIKeys(ctx context.Context, p store.Page) ([]domain.APIKey, string, error) {
	return getPage(ctx, t, query{head: selectAPIKey}, order{id: "k.id"}, p, scanAPIKey, func(k domain.APIKey) cursor { return cursor{ID: k.ID} })
}

func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	return t.delete(ctx, "api key", "api_keys", id)
}
