package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

var (
	// inboundColumns are the columns of what LoadInbound reads, in inboundFields' order.
	inboundColumns = strings.Join([]string{
		columns("ch", channelColumns), columns("b", botColumns), columns("m", messageColumns),
		columns("ct", contactColumns), columns("c", conversationColumns), columns("h", handoverColumns),
	}, ", ")

	// selectInbound reads a channel and everything LoadInbound needs with it in one statement.
	// Every other table is outer-joined, so a missing row reads as NULLs.
	selectInbound = "SELECT " + inboundColumns + " FROM channels ch" + inboundJoins("$2", "$3") + " WHERE ch.id = $1"

	// lockInbound locks the conversation of the contact with external id $2 on channel $1, as
	// GetConversation does in a Write, and returns its id.
	lockInbound = `SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
		WHERE ct.channel_id = $1 AND ct.external_id = $2` + lockRow + " OF c"

	// selectInbounds is selectInbound for several messages at once: $1, $2 and $3 are arrays
	// of channel ids, channel message ids and contact external ids, and each row starts with
	// its subscript. Each message is read by a LATERAL subquery that OFFSET 0 keeps whole, so
	// that it is run once per message through the indexes, as selectInbound is: flattened, the
	// plan (made once per connection, not knowing how many messages) would rather hash whole
	// tables. (generate_subscripts rather than unnest: see insertEvents.)
	selectInbounds = `SELECT n, x.* FROM generate_subscripts($1::text[], 1) AS n CROSS JOIN LATERAL (
		SELECT ` + inboundColumns + ` FROM channels ch` + inboundJoins("($2::text[])[n]", "($3::text[])[n]") + `
		WHERE ch.id = ($1::text[])[n] OFFSET 0) x`

	// lockInbounds is lockInbound for several contacts ($1 channel ids, $2 external ids). It
	// finds their conversations one contact at a time, then locks them in id order, as every
	// Write that locks several conversations does (lock.go).
	lockInbounds = `SELECT c.id FROM conversations c WHERE c.id = ANY (ARRAY(
		SELECT x.id FROM generate_subscripts($1::text[], 1) AS n CROSS JOIN LATERAL (
			SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
			WHERE ct.channel_id = ($1::text[])[n] AND ct.external_id = ($2::text[])[n] OFFSET 0) x))
		ORDER BY c.id` + lockRow
)

// inboundJoins joins what LoadInbound reads to the channel ch, for the channel message id and
// the contact external id given as SQL expressions. The message join repeats the index's
// condition so that PostgreSQL may use the partial unique index.
func inboundJoins(channelMessageID, contactExternalID string) string {
	return `
		LEFT JOIN bots b ON b.id = ch.bot_id
		LEFT JOIN messages m ON m.channel_id = ch.id AND m.channel_message_id = ` + channelMessageID + ` AND m.channel_message_id != ''
		LEFT JOIN contacts ct ON ct.channel_id = ch.id AND ct.external_id = ` + contactExternalID + `
		LEFT JOIN conversations c ON c.contact_id = ct.id
		LEFT JOIN handovers h ON h.id = c.active_handover_id`
}

// LoadInbound reads everything with selectInbound. In a Write, lockInbound runs first, sent in
// the same round trip: a statement sees only what was committed when it began, so the one that
// reads must begin after the lock is granted to see what its previous holder committed (the
// conversation, but also, say, the handover it made active or the message it stored).
func (t *tx) LoadInbound(ctx context.Context, q store.InboundQuery) (store.Inbound, error) {
	if in, ok, err := t.prefetched(q); ok {
		return in, err
	}
	if !t.write {
		var in store.Inbound
		err := t.tx.Query(ctx, func(rows pgx.Rows) error {
			var err error
			in, err = readInbound(rows, q.ChannelID, t.keys)
			return err
		}, selectInbound, q.ChannelID, q.ChannelMessageID, q.ContactExternalID)
		return in, err
	}
	for {
		in, locked, err := t.lockAndLoadInbound(ctx, q)
		if err != nil || in.Conversation == nil {
			return in, err
		}
		if in.Conversation.ID == locked {
			if in.Message == nil {
				t.fresh = freshMessage{q.ChannelID, q.ChannelMessageID, locked}
			}
			return in, nil
		}
		// The conversation was committed between the two statements, so it is not locked. The
		// next lockInbound sees it: the second round cannot miss it again.
	}
}

// lockAndLoadInbound runs lockInbound then selectInbound, in one round trip, and returns what
// selectInbound read and the id of the conversation locked ("" when none was).
func (t *tx) lockAndLoadInbound(ctx context.Context, q store.InboundQuery) (store.Inbound, string, error) {
	var b pgx.Batch
	var locked string
	b.Queue(lockInbound, q.ChannelID, q.ContactExternalID).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&locked); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: lock conversation: %w", err)
		}
		return nil
	})
	var in store.Inbound
	b.Queue(selectInbound, q.ChannelID, q.ChannelMessageID, q.ContactExternalID).Query(func(rows pgx.Rows) error {
		var err error
		in, err = readInbound(rows, q.ChannelID, t.keys)
		return err
	})
	err := t.tx.Send(ctx, &b)
	return in, locked, err
}

// readInbound reads the row of selectInbound, or says the channel does not exist.
func readInbound(rows pgx.Rows, channelID string, keys *secret.Keyring) (store.Inbound, error) {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Inbound{}, fmt.Errorf("postgres: load inbound: %w", err)
		}
		return store.Inbound{}, domain.NotFound("channel", channelID)
	}
	var r store.InboundRow
	var sealed []byte
	if err := scanNullable(rows, inboundFields(&r, &sealed)...); err != nil {
		return store.Inbound{}, fmt.Errorf("postgres: load inbound: %w", err)
	}
	if err := store.OpenCredentials(keys, r.Channel.ID, &r.Channel.Credentials, sealed); err != nil {
		return store.Inbound{}, err
	}
	return r.Inbound(), nil
}

// inboundFields lists the columns of selectInbound in order, as destinations in r and, for the
// channel's sealed credentials, sealed.
func inboundFields(r *store.InboundRow, sealed *[]byte) []any {
	return slices.Concat(channelFields(&r.Channel, sealed), botFields(&r.Bot), messageFields(&r.Message),
		contactFields(&r.Contact), conversationFields(&r.Conversation), handoverFields(&r.Active))
}

// scanNullable scans the current row like rows.Scan, except that a NULL leaves its destination
// as it is (rows.Scan refuses NULL for a string, say).
func scanNullable(rows pgx.Rows, dest ...any) error {
	var single *nullableScanner // a single row keeps no plans
	return single.scan(rows, dest...)
}

// nullableScanner is scanNullable for the rows of one result: it plans each column's scan once,
// for the destination types of the first row that has a value there, and reuses the plan for the
// rows after while their destinations keep the type. (A group reads some 70 columns a message.)
type nullableScanner struct {
	plans []pgtype.ScanPlan
	types []reflect.Type // of the destination each plan is for
}

func (s *nullableScanner) scan(rows pgx.Rows, dest ...any) error {
	typeMap, fields, values := rows.Conn().TypeMap(), rows.FieldDescriptions(), rows.RawValues()
	if len(dest) != len(values) {
		return fmt.Errorf("%d destinations for %d columns", len(dest), len(values))
	}
	if s != nil && s.plans == nil {
		s.plans, s.types = make([]pgtype.ScanPlan, len(dest)), make([]reflect.Type, len(dest))
	}
	for i, v := range values {
		if v == nil {
			continue
		}
		if err := s.column(typeMap, i, fields[i], v, dest[i]); err != nil {
			return fmt.Errorf("scan column %s: %w", fields[i].Name, err)
		}
	}
	return nil
}

// column scans value v of column i into dest, through the plan kept for the column; a nil
// scanner plans every time, keeping nothing.
func (s *nullableScanner) column(typeMap *pgtype.Map, i int, f pgconn.FieldDescription, v []byte, dest any) error {
	if s == nil {
		return typeMap.Scan(f.DataTypeOID, f.Format, v, dest)
	}
	if t := reflect.TypeOf(dest); s.plans[i] == nil || s.types[i] != t {
		s.plans[i], s.types[i] = typeMap.PlanScan(f.DataTypeOID, f.Format, dest), t
	}
	return s.plans[i].Scan(v, dest)
}

// prefetch is what a group read for one of its writes beforehand (loadInbounds).
type prefetch struct {
	q         store.InboundQuery
	in        store.Inbound
	locked    string // the id of the conversation locked, "" when none was
	noChannel bool   // q's channel does not exist
}

// prefetched returns what the group read for q, once: only while it still holds, that is when
// the channel does not exist, the contact has no conversation yet, or its conversation is the
// one locked (one committed between the lock and the read was not locked, and is read again).
func (t *tx) prefetched(q store.InboundQuery) (in store.Inbound, ok bool, err error) {
	p := t.pre
	t.pre = nil
	switch {
	case p == nil || p.q != q:
		return in, false, nil
	case p.noChannel:
		return in, true, domain.NotFound("channel", q.ChannelID)
	case p.in.Conversation == nil:
		return p.in, true, nil
	case p.in.Conversation.ID != p.locked:
		return in, false, nil
	}
	if p.in.Message == nil {
		t.fresh = freshMessage{q.ChannelID, q.ChannelMessageID, p.locked}
	}
	return p.in, true, nil
}

// loadInbounds locks the conversations of qs, in id order, and reads what LoadInbound reads for
// each, in one round trip.
func loadInbounds(ctx context.Context, l *lazyTx, qs []store.InboundQuery, keys *secret.Keyring) ([]*prefetch, error) {
	channels, messages, contacts := make([]string, len(qs)), make([]string, len(qs)), make([]string, len(qs))
	for i, q := range qs {
		channels[i], messages[i], contacts[i] = q.ChannelID, q.ChannelMessageID, q.ContactExternalID
	}
	locked := map[string]bool{}
	out := make([]*prefetch, len(qs))
	var b pgx.Batch
	b.Queue(lockInbounds, channels, contacts).Query(func(rows pgx.Rows) error {
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, id := range ids {
			locked[id] = true
		}
		return err
	})
	b.Queue(selectInbounds, channels, messages, contacts).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		var s nullableScanner
		for rows.Next() {
			var n int
			var r store.InboundRow
			var sealed []byte
			if err := s.scan(rows, append([]any{&n}, inboundFields(&r, &sealed)...)...); err != nil {
				return fmt.Errorf("postgres: load inbound: %w", err)
			}
			if err := store.OpenCredentials(keys, r.Channel.ID, &r.Channel.Credentials, sealed); err != nil {
				return err
			}
			out[n-1] = &prefetch{q: qs[n-1], in: r.Inbound()}
		}
		return rows.Err()
	})
	if err := l.Send(ctx, &b); err != nil {
		return nil, err
	}
	for i, p := range out {
		switch {
		case p == nil: // selectInbounds has a row for each query whose channel exists
			out[i] = &prefetch{q: qs[i], noChannel: true}
		case p.in.Conversation != nil && locked[p.in.Conversation.ID]:
			p.locked = p.in.Conversation.ID
		}
	}
	return out, nil
}
