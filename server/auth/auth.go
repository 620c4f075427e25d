// Package auth authenticates RPCs with API keys. A key's secret is shown once at creation;
// only its SHA-256 is stored, and presented secrets are compared in constant time.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// NewKey makes a key: its id, the secret to hand to the caller ("<id>.<random>"), and the
// hash to store. The secret carries 256 random bits, so a fast hash is enough.
func NewKey() (id, secret string, hash []byte) {
	id = ids.New("key")
	var b [32]byte
	rand.Read(b[:])
	secret = id + "." + base64.RawURLEncoding.EncodeToString(b[:])
	return id, secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

var errBadKey = errors.New("invalid API key")

// Authenticate returns the principal of a presented secret.
func Authenticate(ctx context.Context, st store.Store, secret string) (domain.Principal, error) {
	return authenticate(ctx, st, nil, secret)
}

func authenticate(ctx context.Context, st store.Store, cache *Cache, secret string) (domain.Principal, error) {
	id, _, ok := strings.Cut(secret, ".")
	if !ok || id == "" {
		return domain.Principal{}, errBadKey
	}
	key, ok := cache.Get(id)
	if !ok {
		generation := cache.Generation()
		err := st.Read(ctx, func(tx store.Tx) error {
			var err error
			key, err = tx.GetAPIKey(ctx, id)
			return err
		})
		var nf *domain.NotFoundError
		switch {
		case errors.As(err, &nf):
			return domain.Principal{}, errBadKey
		case err != nil:
			return domain.Principal{}, err
		}
		cache.Put(id, key, generation)
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), key.SecretHash) != 1 {
		return domain.Principal{}, errBadKey
	}
	return domain.Principal{KeyID: key.ID, Role: key.Role, SubjectID: key.SubjectID}, nil
}

// Exists reports whether the key with this id is still there (not revoked).
func Exists(ctx context.Context, st store.Store, keyID string) (bool, error) {
	err := st.Read(ctx, func(tx store.Tx) error {
		_, err := tx.GetAPIKey(ctx, keyID)
		return err
	})
	var nf *domain.NotFoundError
	if errors.As(err, &nf) {
		return false, nil
	}
	return err == nil, err
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p domain.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the interceptor authenticated.
func PrincipalFrom(ctx context.Context) (domain.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(domain.Principal)
	return p, ok
}

// Interceptor requires "Authorization: Bearer <secret>" on every RPC it wraps and puts the
// principal in the context.
type Interceptor struct {
	Store store.Store
	Cache *Cache // optional
}

func (i Interceptor) authenticate(ctx context.Context, header string) (context.Context, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || secret == "" {
		return ctx, connect.NewError(connect.CodeUnauthenticated, errors.New("missing API key: send \"Authorization: Bearer <key>\""))
	}
	p, err := authenticate(ctx, i.Store, i.Cache, strings.TrimSpace(secret))
	if errors.Is(err, errBadKey) {
		return ctx, connect.NewError(connect.CodeUnauthenticated, err)
	}
	if err != nil {
		return ctx, connect.NewError(connect.CodeUnavailable, errors.New("cannot check the API key now"))
	}
	return WithPrincipal(ctx, p), nil
}

// WrapUnary implements connect.Interceptor.
func (i Interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := i.authenticate(ctx, req.Header().Get("Authorization"))
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient implements connect.Interceptor; clients are not intercepted.
func (i Interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (i Interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.authenticate(ctx, conn.RequestHeader().Get("Authorization"))
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
