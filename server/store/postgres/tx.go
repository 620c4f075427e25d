package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// tx implements store.Tx over one pgx transaction.
type tx struct {
	tx *lazyTx
	// write is set in Write transactions, where reading a conversation locks it.
	write bool
	// fresh is the message a Write's LoadInbound found missing, under the lock of the
	// conversation it would belong to: CreateMessage need not wait to know it is new.
	fresh freshMessage
	// pre is what a group read for this write's LoadInbound beforehand, if anything.
	pre *prefetch
	// keys seal and open secrets (store.SealCredentials); nil when none are configured.
	keys *secret.Keyring
}

// freshMessage is a message's channel, channel message id and conversation.
type freshMessage struct{ channelID, channelMessageID, conversationID string }

var _ store.Tx = (*tx)(nil)

// insert runs an insertSQL statement. The statement does nothing on a unique-key clash, which
// keeps the transaction usable (a failed statement would abort it), so no row inserted is the
// clash: store.ErrDuplicate.
func (t *tx) insert(ctx context.Context, kind, query string, args ...any) error {
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return writeErr("create", kind, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w %s", store.ErrDuplicate, kind)
	}
	return nil
}

// update runs an updateSQL statement with the arguments of the row with the given id.
func (t *tx) update(ctx context.Context, kind, query, id string, args []any) error {
	var updated, exists bool
	if err := t.tx.QueryRow(ctx, query, args...).Scan(&updated, &exists); err != nil {
		return writeErr("update", kind, err)
	}
	switch {
	case updated:
		return nil
	case exists:
		return store.ErrConflict
	default:
		return domain.NotFound(kind, id)
	}
}

// SQLSTATEs of a checkedUpdateSQL statement that updated nothing.
const (
	checkConflict = "BA409"
	checkNotFound = "BA404"
)

// deferUpdate is update for a Write whose caller only passes the error on: the checkedUpdateSQL
// statement goes out with the next statement or the COMMIT, and a stale revision or a missing
// row fails that, and so the Write, with store.ErrConflict or NotFound.
func (t *tx) deferUpdate(kind, query, id string, args []any) {
	t.tx.Defer(func(err error) error {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch pgErr.Code {
			case checkConflict:
				return store.ErrConflict
			case checkNotFound:
				return domain.NotFound(kind, id)
			}
		}
		return writeErr("update", kind, err)
	}, query, args...)
}

// exec runs a statement changing the row with the given id, or says it does not exist.
func (t *tx) exec(ctx context.Context, verb, kind, id, query string, args ...any) error {
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return writeErr(verb, kind, err)
	}
	if tag.RowsAffected() == 0 {
		return domain.NotFound(kind, id)
	}
	return nil
}

// delete deletes the row with the given id, or says it does not exist.
func (t *tx) delete(ctx context.Context, kind, table, id string) error {
	return t.exec(ctx, "delete", kind, id, "DELETE FROM "+table+" WHERE id = $1", id)
}

// uniqueViolation is the SQLSTATE of a unique-key clash.
const uniqueViolation = "23505"

// writeErr maps a unique-key clash to store.ErrDuplicate. Updates can still clash (they have
// no ON CONFLICT): the transaction is then aborted, and the caller can only give up.
func writeErr(verb, kind string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return fmt.Errorf("%w %s", store.ErrDuplicate, kind)
	}
	return fmt.Errorf("postgres: %s %s: %w", verb, kind, err)
}

// count runs a query returning one integer.
func (t *tx) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := t.tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count: %w", err)
	}
	return n, nil
}

// getOne reads the single row a query selects, or NotFound(kind, id) when there is none.
func getOne[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), kind, id, query string, args ...any) (T, error) {
	v, err := scan(t.tx.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, domain.NotFound(kind, id)
	}
	if err != nil {
		return v, fmt.Errorf("postgres: get %s: %w", kind, err)
	}
	return v, nil
}

// getAll reads every row a query selects.
func getAll[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := t.tx.Query(ctx, func(rows pgx.Rows) error {
		var err error
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
		return err
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list: %w", err)
	}
	return out, nil
}

// getPage reads one page of q in the given order, starting after the page's cursor, and
// returns the cursor of the next page ("" when this one is the last).
func getPage[T any](ctx context.Context, t *tx, q query, o order, p store.Page, scan func(scanner) (T, error), key func(T) cursor) ([]T, string, error) {
	size := p.Size
	if size <= 0 {
		size = defaultPageSize
	}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		o.after(&q, c)
	}
	// One row more than asked tells whether another page follows.
	limit := " LIMIT " + q.arg(size+1)
	items, err := getAll(ctx, t, scan, q.sql()+o.sql()+limit, q.args...)
	if err != nil || len(items) <= size {
		return items, "", err
	}
	items = items[:size]
	return items, key(items[size-1]).encode(), nil
}
