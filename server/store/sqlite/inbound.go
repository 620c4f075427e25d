package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// selectInbound reads a channel and everything LoadInbound needs with it in one statement.
// Every other table is outer-joined, so a missing row reads as NULLs. The message join
// repeats the index's condition so that SQLite may use the partial unique index.
var selectInbound = "SELECT " + strings.Join([]string{
	columns("ch", channelColumns), columns("b", botColumns), columns("m", messageColumns),
	columns("ct", contactColumns), columns("c", conversationColumns), columns("h", handoverColumns),
}, ", ") + `
	FROM channels ch
	LEFT JOIN bots b ON b.id = ch.bot_id
	LEFT JOIN messages m ON m.channel_id = ch.id AND m.channel_message_id = ?2 AND m.channel_message_id != ''
	LEFT JOIN contacts ct ON ct.channel_id = ch.id AND ct.external_id = ?3
	LEFT JOIN conversations c ON c.contact_id = ct.id
	LEFT JOIN handovers h ON h.id = c.active_handover_id
	WHERE ch.id = ?1`

// LoadInbound takes no lock: Writes are serialised already.
func (t *tx) LoadInbound(ctx context.Context, q store.InboundQuery) (store.Inbound, error) {
	rows, err := t.query(ctx, selectInbound, q.ChannelID, q.ChannelMessageID, q.ContactExternalID)
	if err != nil {
		return store.Inbound{}, fmt.Errorf("sqlite: load inbound: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Inbound{}, fmt.Errorf("sqlite: load inbound: %w", err)
		}
		return store.Inbound{}, domain.NotFound("channel", q.ChannelID)
	}
	var r store.InboundRow
	var sealed []byte
	if err := scanNullable(rows, inboundFields(&r, &sealed)...); err != nil {
		return store.Inbound{}, fmt.Errorf("sqlite: load inbound: %w", err)
	}
	if err := store.OpenCredentials(t.s.keys, r.Channel.ID, &r.Channel.Credentials, sealed); err != nil {
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
// as it is (rows.Scan refuses NULL for a string, say). It reads the row twice: once as it comes
// to find the NULLs, then into dest, skipping them.
func scanNullable(rows *sql.Rows, dest ...any) error {
	values := make([]any, len(dest))
	targets := make([]any, len(dest))
	for i := range values {
		targets[i] = &values[i]
	}
	if err := rows.Scan(targets...); err != nil {
		return err
	}
	for i, v := range values {
		targets[i] = dest[i]
		if v == nil {
			targets[i] = skip{}
		}
	}
	return rows.Scan(targets...)
}

// skip is a scan destination that discards its column.
type skip struct{}

func (skip) Scan(any) error { return nil }
