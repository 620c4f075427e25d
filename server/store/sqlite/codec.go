package sqlite

import (
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/batonhq/baton/server/store"
)

// nanos encodes a time as unix nanoseconds; the zero time is 0 so that "not set" sorts first
// and round-trips exactly. (The Unix epoch itself therefore reads back as the zero time, and
// times must lie between the years 1678 and 2262.)
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeCol scans unix nanoseconds into a time.Time in UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column holds %T", src)
	}
	*c.t = time.Time{}
	if n != 0 {
		*c.t = time.Unix(0, n).UTC()
	}
	return nil
}

// jsonValue binds a list, map or struct as JSON text. Empty lists and maps are stored as []
// and {} rather than null so that json_each can always read them.
type jsonValue struct {
	v     any
	empty string
}

func jsonList[T any](s []T) jsonValue         { return jsonValue{s, "[]"} }
func jsonMap[V any](m map[string]V) jsonValue { return jsonValue{m, "{}"} }
func jsonObject(v any) jsonValue              { return jsonValue{v, "{}"} }

func (j jsonValue) Value() (driver.Value, error) {
	if v := reflect.ValueOf(j.v); !v.IsValid() || isEmptyListOrMap(v) {
		return j.empty, nil
	}
	b, err := json.Marshal(j.v)
	return string(b), err
}

func isEmptyListOrMap(v reflect.Value) bool {
	return (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0
}

// jsonCol scans JSON text into dst.
func jsonCol[T any](dst *T) sql.Scanner { return jsonScanner[T]{dst} }

// jsonScanner decodes JSON text into dst; empty lists and maps decode to nil.
type jsonScanner[T any] struct{ dst *T }

func (j jsonScanner[T]) Scan(src any) error {
	var v T
	if b := asBytes(src); len(b) > 0 {
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

func asBytes(src any) []byte {
	switch s := src.(type) {
	case string:
		return []byte(s)
	case []byte:
		return s
	}
	return nil
}

// cursor is the sort key of the last row of a page: the row's time for lists ordered by time,
// and its id.
type cursor struct {
	R  int64  `json:"r,omitempty"`
	T  int64  `json:"t,omitempty"`
	ID string `json:"i"`
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

// limitOr returns the limit a list runs with. Every LIMIT is written "LIMIT ? + 0", never
// "LIMIT ?": SQLite plans a bare LIMIT parameter with its bound value, and so marks the
// statement to be prepared again each time that parameter is bound, which costs more than
// running one of ours. An expression is evaluated when the statement runs instead.
func limitOr(limit int) int {
	if limit <= 0 {
		return defaultLimit
	}
	return limit
}

// query is a SELECT under construction: its head (columns and FROM) and WHERE terms.
type query struct {
	head  string
	conds []string
	args  []any
}

func (q *query) where(cond string, args ...any) {
	q.conds = append(q.conds, cond)
	q.args = append(q.args, args...)
}

// whereIn adds "col IN (...)" to q; an empty set matches nothing.
func whereIn[S ~string](q *query, col string, values []S) {
	if len(values) == 0 {
		q.where("FALSE")
		return
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = string(v)
	}
	q.where(col+" IN ("+placeholders(len(values))+")", args...)
}

func (q *query) sql() string {
	if len(q.conds) == 0 {
		return q.head
	}
	return q.head + " WHERE " + strings.Join(q.conds, " AND ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// order is the keyset a list is sorted and paged by: an optional rank (an integer expression,
// ascending, with a time column), an optional time column, then id.
type order struct {
	rank string // expression, "" when not ranked; a ranked order is ascending
	time string // column, "" when sorted by id alone
	id   string
	desc bool
}

func (o order) after(q *query, c cursor) {
	op := ">"
	if o.desc {
		op = "<"
	}
	if o.rank != "" {
		q.where("("+o.rank+", "+o.time+", "+o.id+") > (?, ?, ?)", c.R, c.T, c.ID)
		return
	}
	if o.time == "" {
		q.where(o.id+" "+op+" ?", c.ID)
		return
	}
	q.where("("+o.time+", "+o.id+") "+op+" (?, ?)", c.T, c.ID)
}

func (o order) sql() string {
	dir := ""
	if o.desc {
		dir = " DESC"
	}
	if o.rank != "" {
		return " ORDER BY " + o.rank + ", " + o.time + ", " + o.id
	}
	if o.time == "" {
		return " ORDER BY " + o.id + dir
	}
	return " ORDER BY " + o.time + dir + ", " + o.id + dir
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// columns joins column names, each prefixed with a table alias.
func columns(alias string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = alias + "." + n
	}
	return strings.Join(out, ", ")
}

// insertSQL builds an INSERT of every named column.
func insertSQL(table string, names []string) string {
	return "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES (" + placeholders(len(names)) + ")"
}

// setSQL builds the SET list of an UPDATE of the named columns.
func setSQL(names []string) string {
	sets := make([]string, 0, len(names))
	for _, n := range names {
		sets = append(sets, n+" = ?")
	}
	return strings.Join(sets, ", ")
}
