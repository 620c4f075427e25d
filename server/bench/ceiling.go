package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the same pure-Go driver the server uses

	"github.com/batonhq/baton/server/store/sqlite"
)

// The SQLite ceilings: a single-writer loop of an ingest transaction with nothing around it (no
// HTTP, no application, no batching), one transaction per message, WAL and synchronous=NORMAL as
// the server runs. The PostgreSQL ceilings run the same transactions through pgbench
// (scripts/ceiling).
//
// Two transactions are measured:
//   - Baton's: on Baton's own schema and its indexes, what the server's store does for a message
//     to an existing conversation. It reads the channel, bot, message, contact, conversation
//     and active handover in one statement, inserts the message, updates the conversation's
//     activity and revision, and inserts the event announcing the message (as large as the
//     server's). This is the ceiling ingest is compared with.
//   - a minimal one: the message, the conversation's activity and the event, on a schema with a
//     key per table and nothing else. It says what the database can do at all.

// ceilingContacts is how many conversations the messages are spread over, as the load's contacts.
const ceilingContacts = 1000

// A Ceiling is an ingest transaction measured bare.
type Ceiling struct {
	// schema creates the database's schema at path, if setup does not.
	schema func(ctx context.Context, path string) error
	setup  string // SQL creating the schema or the rows the transaction needs
	// prepare returns the transaction's body for message i, on statements prepared once.
	prepare func(ctx context.Context, db *sql.DB) (func(ctx context.Context, tx *sql.Tx, i int) error, error)
}

// SQLiteCeiling runs the ceiling's transaction in a loop on one connection to a new database in
// dir, for duration or maxMessages messages. With batch > 1, each transaction holds that many
// messages, as the server's writer may: each message's latency is then its transaction's.
func SQLiteCeiling(ctx context.Context, c Ceiling, dir string, duration time.Duration, maxMessages, batch int) (Result, error) {
	path := filepath.Join(dir, "ceiling.db")
	if c.schema != nil {
		if err := c.schema(ctx, path); err != nil {
			return Result{}, fmt.Errorf("ceiling schema: %w", err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, c.setup); err != nil {
		return Result{}, fmt.Errorf("ceiling setup: %w", err)
	}
	body, err := c.prepare(ctx, db)
	if err != nil {
		return Result{}, fmt.Errorf("ceiling statements: %w", err)
	}
	batch = max(batch, 1)
	var res Result
	start := time.Now()
	for i := 0; i < maxMessages && time.Since(start) < duration; i += batch {
		n := min(batch, maxMessages-i)
		t0 := time.Now()
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			for j := range n {
				if err := body(ctx, tx, i+j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Sent += n
		for range n {
			res.Latencies = append(res.Latencies, time.Since(t0))
		}
	}
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return res, nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// prepareAll prepares the statements given, in order.
func prepareAll(ctx context.Context, db *sql.DB, queries ...string) ([]*sql.Stmt, error) {
	stmts := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		var err error
		if stmts[i], err = db.PrepareContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%w: %s", err, q)
		}
	}
	return stmts, nil
}

// BatonCeiling is Baton's ingest transaction on Baton's schema, which the SQLite store's own
// migrations create.
var BatonCeiling = Ceiling{schema: migrateSQLite, setup: batonSetup, prepare: batonPrepare}

func migrateSQLite(ctx context.Context, path string) error {
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	return s.Close()
}

// batonSetup creates a channel, its bot, and a conversation with the bot for each contact.
const batonSetup = `
INSERT INTO bots (id, display_name, active, create_time, update_time) VALUES ('bot-ceiling', 'ceiling', 1, 1, 1);
INSERT INTO channels (id, kind, external_id, bot_id, default_queue_id, session_timeout, create_time, update_time)
	VALUES ('ch-ceiling', 'generic', 'ceiling', 'bot-ceiling', 'default', 86400000000000, 1, 1);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
INSERT INTO contacts (id, channel_id, external_id, display_name, create_time, update_time)
	SELECT 'ct-' || i, 'ch-ceiling', 'customer-' || i, 'Customer ' || i, 1, 1 FROM n;
INSERT INTO conversations (id, channel_id, contact_id, bot_id, owner_kind, owner_id, epoch, state, status,
		bot_enabled, last_activity_time, last_inbound_time, create_time, update_time)
	SELECT 'conv-' || substr(id, 4), 'ch-ceiling', id, 'bot-ceiling', 'bot', 'bot-ceiling', 1, 'open', 'ok', 1, 1, 1, 1, 1
	FROM contacts WHERE channel_id = 'ch-ceiling';`

// The statements of Baton's transaction: each row is read whole, and written whole.
const (
	batonRead = `SELECT ch.*, b.*, m.*, ct.*, c.*, h.* FROM channels ch
	LEFT JOIN bots b ON b.id = ch.bot_id
	LEFT JOIN messages m ON m.channel_id = ch.id AND m.channel_message_id = ?2 AND m.channel_message_id != ''
	LEFT JOIN contacts ct ON ct.channel_id = ch.id AND ct.external_id = ?3
	LEFT JOIN conversations c ON c.contact_id = ct.id
	LEFT JOIN handovers h ON h.id = c.active_handover_id
	WHERE ch.id = ?1`
	batonInsertMessage = `INSERT INTO messages (id, conversation_id, channel_id, direction, sender_kind, sender_id, content,
		channel_message_id, request_id, status, epoch, create_time, error, attempts, next_attempt_time, lease_expire_time)
	VALUES (?, ?, 'ch-ceiling', 'inbound', 'customer', ?, ?, ?, '', 'delivered', 1, ?, '', 0, 0, 0) ON CONFLICT DO NOTHING`
	batonUpdateConversation = `UPDATE conversations SET channel_id = 'ch-ceiling', contact_id = ?4, bot_id = 'bot-ceiling',
		owner_kind = 'bot', owner_id = 'bot-ceiling', epoch = 1, state = 'open', status = 'ok', tags = '[]', language = '',
		active_handover_id = '', bot_enabled = 1, bot_muted_until = 0, last_activity_time = ?2, last_inbound_time = ?2,
		last_outbound_time = 0, create_time = 1, update_time = ?2, revision = revision + 1 WHERE id = ?1 AND revision = ?3`
	batonInsertEvent = `INSERT INTO events (id, type, conversation_id, channel_id, bot_id, create_time, payload)
	VALUES (?, 'message.received', ?, 'ch-ceiling', 'bot-ceiling', ?, ?)`
)

func batonPrepare(ctx context.Context, db *sql.DB) (func(context.Context, *sql.Tx, int) error, error) {
	stmts, err := prepareAll(ctx, db, batonRead, batonInsertMessage, batonUpdateConversation, batonInsertEvent)
	if err != nil {
		return nil, err
	}
	read, insertMessage, updateConversation, insertEvent := stmts[0], stmts[1], stmts[2], stmts[3]
	revisions := make([]int64, ceilingContacts) // as the read finds them: the loop is the only writer
	return func(ctx context.Context, tx *sql.Tx, i int) error {
		n := strconv.Itoa(i % ceilingContacts)
		conv, contact, msgID, channelMsgID := "conv-"+n, "ct-"+n, "msg-"+strconv.Itoa(i), "m-"+strconv.Itoa(i)
		now := time.Now()
		if err := readRow(ctx, tx.StmtContext(ctx, read), "ch-ceiling", channelMsgID, "customer-"+n); err != nil {
			return err
		}
		content := `{"text":{"text":"message ` + strconv.Itoa(i) + ` of a ceiling run"}}`
		if _, err := tx.StmtContext(ctx, insertMessage).ExecContext(ctx, msgID, conv, contact, content, channelMsgID, now.UnixNano()); err != nil {
			return err
		}
		r, err := tx.StmtContext(ctx, updateConversation).ExecContext(ctx, conv, now.UnixNano(), revisions[i%ceilingContacts], contact)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("ceiling: conversation %s not updated (%d rows, %v)", conv, n, err)
		}
		revisions[i%ceilingContacts]++
		_, err = tx.StmtContext(ctx, insertEvent).ExecContext(ctx, "ev-"+strconv.Itoa(i), conv, now.UnixNano(),
			ceilingEvent(i, now, conv, contact, msgID, channelMsgID, content))
		return err
	}, nil
}

// readRow runs a query and reads its one row, every column.
func readRow(ctx context.Context, stmt *sql.Stmt, args ...any) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if !rows.Next() {
		return fmt.Errorf("ceiling: no row: %v", rows.Err())
	}
	values := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range values {
		dest[i] = &values[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// ceilingEvent is the JSON of a message.received event, shaped and sized as the server's.
func ceilingEvent(i int, now time.Time, conv, contact, msgID, channelMsgID, content string) string {
	t := now.UTC().Format(time.RFC3339Nano)
	return fmt.Sprintf(`{"sequence":0,"id":"ev-%d","type":"message.received","time":%q,"conversation_id":%q,`+
		`"channel_id":"ch-ceiling","bot_id":"bot-ceiling","contact_id":%q,"actor":{"kind":"customer","id":%q},`+
		`"owner":{"kind":"bot","id":"bot-ceiling"},"epoch":1,"message":{"id":%q,"conversation_id":%q,`+
		`"channel_id":"ch-ceiling","direction":"inbound","sender":{"kind":"customer","id":%q},"content":%s,`+
		`"channel_message_id":%q,"status":"delivered","epoch":1,"create_time":%q}}`,
		i, t, conv, contact, contact, msgID, conv, contact, content, channelMsgID, t)
}

// MinimalCeiling is the minimal ingest transaction: the message (a redelivery stores nothing),
// the conversation's activity, and the event announcing it, on a schema of its own.
var MinimalCeiling = Ceiling{setup: minimalSchema, prepare: minimalPrepare}

const minimalSchema = `
CREATE TABLE conversations (id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, last_activity INTEGER NOT NULL);
CREATE TABLE messages (channel_id TEXT NOT NULL, channel_message_id TEXT NOT NULL, conversation_id INTEGER NOT NULL,
	content TEXT NOT NULL, PRIMARY KEY (channel_id, channel_message_id));
CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO conversations SELECT i, 1, 0 FROM n;`

func minimalPrepare(ctx context.Context, db *sql.DB) (func(context.Context, *sql.Tx, int) error, error) {
	stmts, err := prepareAll(ctx, db,
		`INSERT INTO messages VALUES ('ch', ?, ?, '{"text":{"text":"hello"}}') ON CONFLICT DO NOTHING`,
		`UPDATE conversations SET last_activity = ? WHERE id = ?`,
		`INSERT INTO events (conversation_id, type, payload) VALUES (?, 'message.received', '{"message":{}}')`)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *sql.Tx, i int) error {
		conv := i%ceilingContacts + 1
		if _, err := tx.StmtContext(ctx, stmts[0]).ExecContext(ctx, "m-"+strconv.Itoa(i), conv); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, stmts[1]).ExecContext(ctx, time.Now().UnixNano(), conv); err != nil {
			return err
		}
		_, err := tx.StmtContext(ctx, stmts[2]).ExecContext(ctx, conv)
		return err
	}, nil
}
