package app

import (
	"context"

	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// CreateAPIKey creates a key for a role (and, for bots and agents, the subject it acts as)
// and returns its secret, which is never stored.
func (a *App) CreateAPIKey(ctx context.Context, p domain.Principal, name string, role domain.Role, subjectID string) (domain.APIKey, string, error) {
	if err := requireAdmin(p); err != nil {
		return domain.APIKey{}, "", err
	}
	id, secret, hash := auth.NewKey()
	k := domain.APIKey{ID: id, DisplayName: name, Role: role, SubjectID: subjectID, SecretHash: hash, CreateTime: a.Now()}
	err := a.write(ctx, func(tx store.Tx) error {
		switch role {
		case domain.PrincipalBot:
			if _, err := tx.GetBot(ctx, subjectID); err != nil {
				return err
			}
		case domain.PrincipalAgent:
			if _, err := tx.GetAgent(ctx, subjectID); err != nil {
				return err
			}
		}
		return tx.CreateAPIKey(ctx, k)
	})
	return k, secret, err
}

// ListAPIKeys lists keys.
func (a *App) ListAPIKeys(ctx context.Context, p domain.Principal, page store.Page) ([]domain.APIKey, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	var out []domain.APIKey
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.ListAPIKeys(ctx, page)
		return err
	})
	return out, next, err
}

// DeleteAPIKey revokes a key.
func (a *App) DeleteAPIKey(ctx context.Context, p domain.Principal, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	err := a.write(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAPIKey(ctx, id); err != nil {
			return err
		}
		return tx.DeleteAPIKey(ctx, id)
	})
	if err == nil {
		a.keyDeleted(id)
	}
	return err
}
