package postgres

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/server/store"
)

// jsonValue binds a list, map or struct to a jsonb parameter. Empty lists and maps are stored
// as [] and {} rather than null, so that jsonb operators can always read them.
type jsonValue struct {
	v     any
	empty string
}

func jsonList[T any](s []T) jsonValue         { return jsonValue{s, "[]"} }
func jsonMap[V any](m map[string]V) jsonValue { return jsonValue{m, "{}"} }
func jsonObject(v any) jsonValue              { return jsonValue{v, "{}"} }

// MarshalJSON is what pgx calls to encode the parameter.
func (j jsonValue) MarshalJSON() ([]byte, error) {
	if v := reflect.ValueOf(j.v); !v.IsValid() || isEmptyListOrMap(v) {
		return []byte(j.empty), nil
	}
	return json.Marshal(j.v)
}

func isEmptyListOrMap(v reflect.Value) bool {
	return (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0
}

// jsonCol scans a json or jsonb column into dst.
func jsonCol[T any](dst *T) sql.Scanner { return jsonScanner[T]{dst} }

// jsonScanner decodes JSON into dst; empty lists and maps decode to nil, as from SQLite.
type jsonScanner[T any] struct{ dst *T }

func (j jsonScanner[T]) Scan(src any) error {
	var v T
	if b, ok := src.([]byte); ok && len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
	}
	if isEmptyListOrMap(reflect.ValueOf(v)) {
		var zero T
		v = zero
	}
	*j.dst = v
	return nil
}

// rawJSON binds verbatim JSON (a message's content) to a nullable json parameter: no content
// is NULL.
func rawJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

// cursor is the sort key of the last row of a page: the row's time for lists ordered by time,
// or its number for lists ordered by a number, and its id.
type cursor struct {
	R  int64     `json:"r,omitempty"`
	T  time.Time `json:"t,omitzero"`
	N  int64     `json:"n,omitempty"`
	ID string    `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return cursor{}, store.ErrBadCursor
	}
	return c, nil
}

const defaultPageSize = 50

// defaultLimit applies when a caller passes a limit <= 0 to an unpaged list.
const defaultLimit = 100

func limitOr(limit int) int {
	if limit <= 0 {
		return defaultLimit
	}
	return limit
}

// query is a SELECT under construction: its head (columns and FROM), its WHERE terms and the
// arguments their placeholders stand for.
type query struct {
	head  string
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder, for the caller to write into a term.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where(cond string) {
	q.conds = append(q.conds, cond)
}

func (q *query) sql() string {
	if len(q.conds) == 0 {
		return q.head
	}
	return q.head + " WHERE " + strings.Join(q.conds, " AND ")
}

// stringList converts a list of named string types for a text[] argument.
func stringList[S ~string](values []S) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// order is the keyset a list is sorted and paged by: an optional time or number column, then
// id.
type order struct {
	rank string // integer expression sorted ascending before time, "" when not ranked
	time string // column, "" when sorted by id alone or by number
	num  string // integer column, "" when sorted by id alone or by time
	id   string
	desc bool
}

func (o order) after(q *query, c cursor) {
	op := " > "
	if o.desc {
		op = " < "
	}
	switch {
	case o.rank != "":
		q.where("(" + o.rank + ", " + o.time + ", " + o.id + ") > (" + q.arg(c.R) + ", " + q.arg(c.T) + ", " + q.arg(c.ID) + ")")
	case o.time != "":
		q.where("(" + o.time + ", " + o.id + ")" + op + "(" + q.arg(c.T) + ", " + q.arg(c.ID) + ")")
	case o.num != "":
		q.where("(" + o.num + ", " + o.id + ")" + op + "(" + q.arg(c.N) + ", " + q.arg(c.ID) + ")")
	default:
		q.where(o.id + op + q.arg(c.ID))
	}
}

func (o order) sql() string {
	dir := ""
	if o.desc {
		dir = " DESC"
	}
	if o.rank != "" {
		return " ORDER BY " + o.rank + ", " + o.time + ", " + o.id
	}
	first := o.time
	if first == "" {
		first = o.num
	}
	if first == "" {
		return " ORDER BY " + o.id + dir
	}
	return " ORDER BY " + first + dir + ", " + o.id + dir
}

// scanner is a pgx.Row or pgx.CollectableRow.
type scanner interface{ Scan(dest ...any) error }

// columns joins column names, each prefixed with a table alias.
func columns(alias string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = alias + "." + n
	}
	return strings.Join(out, ", ")
}

// placeholders returns "$from, ..., $to".
func placeholders(from, to int) string {
	out := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, "$"+strconv.Itoa(i))
	}
	return strings.Join(out, ", ")
}

// insertSQL builds an INSERT of every named column that does nothing on a unique-key clash:
// unlike an error, that leaves the transaction usable, and the caller sees no row inserted.
func insertSQL(table string, names []string) string {
	return failingInsertSQL(table, names) + " ON CONFLICT DO NOTHING"
}

// failingInsertSQL builds an INSERT of every named column that fails on a unique-key clash.
func failingInsertSQL(table string, names []string) string {
	return "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES (" + placeholders(1, len(names)) + ")"
}

// setSQL builds "name = $i, ..." for the named columns, numbering placeholders from first.
func setSQL(names []string, first int) string {
	sets := make([]string, len(names))
	for i, n := range names {
		sets[i] = n + " = $" + strconv.Itoa(first+i)
	}
	return strings.Join(sets, ", ")
}

// updateSQL builds the revision-checked overwrite of a row. names lists every column as for an
// insert, the id first and the revision last, and so do the arguments: $1 is the id and the
// last one the revision the caller read, which the statement increments. In one round trip it
// returns whether it updated the row and whether the row exists, which tells a stale revision
// from a missing row.
func updateSQL(table string, names []string) string {
	return revisionUpdate(table, names, updateResult(table))
}

// checkedUpdateSQL is updateSQL for an update whose result is not read (tx.deferUpdate): when it
// updates nothing, it fails, with SQLSTATE BA409 (a stale revision) or BA404 (no such row).
// The CASE looks for the row only when the update missed it: the usual update costs one lookup.
func checkedUpdateSQL(table string, names []string) string {
	missed := "baton_check_update(false, EXISTS (SELECT 1 FROM " + table + " WHERE id = $1))"
	return revisionUpdate(table, names, "CASE WHEN EXISTS (SELECT 1 FROM updated) THEN true ELSE "+missed+" END")
}

// updateResult says whether revisionUpdate updated the row and whether the row exists.
func updateResult(table string) string {
	return "EXISTS (SELECT 1 FROM updated), EXISTS (SELECT 1 FROM " + table + " WHERE id = $1)"
}

// revisionUpdate overwrites the row if it has the revision given, and selects result.
func revisionUpdate(table string, names []string, result string) string {
	n := len(names)
	return fmt.Sprintf(`WITH updated AS (
		UPDATE %s SET %s, revision = revision + 1 WHERE id = $1 AND revision = $%d RETURNING 1)
		SELECT %s`, table, setSQL(names[1:n-1], 2), n, result)
}
