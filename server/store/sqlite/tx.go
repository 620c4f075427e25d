package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// tx implements store.Tx over the transaction open on a session.
type tx struct{ s *session }

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.s.statementContext(ctx)
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// row is sql.Row's Scan, with a prepare error reported by Scan like any other.
type row struct {
	row *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) row {
	ctx = t.s.statementContext(ctx)
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return row{err: err}
	}
	return row{row: st.QueryRowContext(ctx, args...)}
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.s.statementContext(ctx)
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

var _ store.Tx = (*tx)(nil)

// Lock has nothing to do: Writes run one at a time, each on the latest committed state.
func (t *tx) Lock(context.Context, store.Kind, string) error { return nil }

// insert runs an INSERT, turning a unique-key clash into store.ErrDuplicate.
func (t *tx) insert(ctx context.Context, kind, query string, args ...any) error {
	_, err := t.exec(ctx, query, args...)
	return writeErr("create", kind, err)
}

// update overwrites the row with the given id when its revision is the given one, bumping the
// revision. names and args list every column as for an insert: the id first, the revision last.
// When no row matched it tells a stale revision (ErrConflict) from a missing row.
func (t *tx) update(ctx context.Context, kind, table, id string, revision int64, names []string, args []any) error {
	set := setSQL(names[1 : len(names)-1])
	args = append(args[1:len(args)-1:len(args)-1], revision+1, id, revision)
	res, err := t.exec(ctx, "UPDATE "+table+" SET "+set+", revision = ? WHERE id = ? AND revision = ?", args...)
	if err := writeErr("update", kind, err); err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var exists bool
	if err := t.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE id = ?)", id).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: update %s: %w", kind, err)
	}
	if exists {
		return store.ErrConflict
	}
	return domain.NotFound(kind, id)
}

// delete deletes the row with the given id, or says it does not exist.
func (t *tx) delete(ctx context.Context, kind, table, id string) error {
	res, err := t.exec(ctx, "DELETE FROM "+table+" WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("sqlite: delete %s: %w", kind, err)
	}
	return affected(res, kind, id)
}

// affected returns NotFound when a statement changed no row.
func affected(res sql.Result, kind, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.NotFound(kind, id)
	}
	return nil
}

func writeErr(verb, kind string, err error) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return fmt.Errorf("%w %s", store.ErrDuplicate, kind)
	default:
		return fmt.Errorf("sqlite: %s %s: %w", verb, kind, err)
	}
}

// count runs a query returning one integer.
func (t *tx) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := t.queryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count: %w", err)
	}
	return n, nil
}

// getOne reads the single row a query selects, or NotFound(kind, id) when there is none.
func getOne[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), kind, id, query string, args ...any) (T, error) {
	v, err := scan(t.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, domain.NotFound(kind, id)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite: get %s: %w", kind, err)
	}
	return v, nil
}

// getAll reads every row a query selects.
func getAll[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list: %w", err)
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
	items, err := getAll(ctx, t, scan, q.sql()+o.sql()+" LIMIT ? + 0", append(q.args, size+1)...)
	if err != nil || len(items) <= size {
		return items, "", err
	}
	items = items[:size]
	return items, key(items[size-1]).encode(), nil
}
