package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var (
	// selectInbound reads a channel and everything LoadInbound needs with it in one statement.
	// Every other table is outer-joined, so a missing row reads as NULLs. The message join
	// repeats the index's condition so that PostgreSQL may use the partial unique index.
	selectInbound = "SELECT " + strings.Join([]string{
		columns("ch", channelColumns), columns("b", botColumns), columns("m", messageColumns),
		columns("ct", contactColumns), columns("c", conversationColumns), columns("h", handoverColumns),
	}, ", ") + `
		FROM channels ch
		LEFT JOIN bots b ON b.id = ch.bot_id
		LEFT JOIN messages m ON m.channel_id = ch.id AND m.channel_message_id = $2 AND m.channel_message_id != ''
		LEFT JOIN contacts ct ON ct.channel_id = ch.id AND ct.external_id = $3
		LEFT JOIN conversations c ON c.contact_id = ct.id
		LEFT JOIN handovers h ON h.id = c.active_handover_id
		WHERE ch.id = $1`

	// lockInbound locks the conversation of the contact with external id $2 on channel $1, as
	// GetConversation does in a Write, and returns its id.
	lockInbound = `SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
		WHERE ct.channel_id = $1 AND ct.external_id = $2` + lockConversation + " OF c"
)

// LoadInbound reads everything with selectInbound. In a Write, lockInbound runs first, sent in
// the same round trip: a statement sees only what was committed when it began, so the one that
// reads must begin after the lock is granted to see what its previous holder committed (the
// conversation, but also, say, the handover it made active or the message it stored).
func (t *tx) LoadInbound(ctx context.Context, channelID, channelMessageID, contactExternalID string) (store.Inbound, error) {
	if !t.write {
		var in store.Inbound
		err := t.tx.Query(ctx, func(rows pgx.Rows) error {
			var err error
			in, err = readInbound(rows, channelID)
			return err
		}, selectInbound, channelID, channelMessageID, contactExternalID)
		return in, err
	}
	for {
		in, locked, err := t.lockAndLoadInbound(ctx, channelID, channelMessageID, contactExternalID)
		if err != nil || in.Conversation == nil {
			return in, err
		}
		if in.Conversation.ID == locked {
			if in.Message == nil {
				t.fresh = freshMessage{channelID, channelMessageID, locked}
			}
			return in, nil
		}
		// The conversation was committed between the two statements, so it is not locked. The
		// next lockInbound sees it: the second round cannot miss it again.
	}
}

// lockAndLoadInbound runs lockInbound then selectInbound, in one round trip, and returns what
// selectInbound read and the id of the conversation locked ("" when none was).
func (t *tx) lockAndLoadInbound(ctx context.Context, channelID, channelMessageID, contactExternalID string) (store.Inbound, string, error) {
	var b pgx.Batch
	var locked string
	b.Queue(lockInbound, channelID, contactExternalID).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&locked); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: lock conversation: %w", err)
		}
		return nil
	})
	var in store.Inbound
	b.Queue(selectInbound, channelID, channelMessageID, contactExternalID).Query(func(rows pgx.Rows) error {
		var err error
		in, err = readInbound(rows, channelID)
		return err
	})
	err := t.tx.Send(ctx, &b)
	return in, locked, err
}

// readInbound reads the row of selectInbound, or says the channel does not exist.
func readInbound(rows pgx.Rows, channelID string) (store.Inbound, error) {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Inbound{}, fmt.Errorf("postgres: load inbound: %w", err)
		}
		return store.Inbound{}, domain.NotFound("channel", channelID)
	}
	var r store.InboundRow
	if err := scanNullable(rows, inboundFields(&r)...); err != nil {
		return store.Inbound{}, fmt.Errorf("postgres: load inbound: %w", err)
	}
	return r.Inbound(), nil
}

// inboundFields lists the columns of selectInbound in order, as destinations in r.
func inboundFields(r *store.InboundRow) []any {
	return slices.Concat(channelFields(&r.Channel), botFields(&r.Bot), messageFields(&r.Message),
		contactFields(&r.Contact), conversationFields(&r.Conversation), handoverFields(&r.Active))
}

// scanNullable scans the current row like rows.Scan, except that a NULL leaves its destination
// as it is (rows.Scan refuses NULL for a string, say).
func scanNullable(rows pgx.Rows, dest ...any) error {
	types, fields, values := rows.Conn().TypeMap(), rows.FieldDescriptions(), rows.RawValues()
	if len(dest) != len(values) {
		return fmt.Errorf("%d destinations for %d columns", len(dest), len(values))
	}
	for i, v := range values {
		if v == nil {
			continue
		}
		if err := types.Scan(fields[i].DataTypeOID, fields[i].Format, v, dest[i]); err != nil {
			return fmt.Errorf("scan column %s: %w", fields[i].Name, err)
		}
	}
	return nil
}
