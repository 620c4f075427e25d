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
)

// ceilingSchema holds the bare transaction a stored inbound message costs, as SQL a database
// can run alone: the message (a redelivery stores nothing), the conversation's activity, and
// the event announcing it. The PostgreSQL ceiling runs the same statements through pgbench
// (scripts/ceilings).
const ceilingSchema = `
CREATE TABLE conversations (id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, last_activity INTEGER NOT NULL);
CREATE TABLE messages (channel_id TEXT NOT NULL, channel_message_id TEXT NOT NULL, conversation_id INTEGER NOT NULL,
	content TEXT NOT NULL, PRIMARY KEY (channel_id, channel_message_id));
CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO conversations SELECT i, 1, 0 FROM n;`

// SQLiteCeiling runs the bare ingest transaction in a loop on one connection, WAL and
// synchronous=NORMAL as the server runs, for duration or maxTx transactions.
func SQLiteCeiling(ctx context.Context, dir string, duration time.Duration, maxTx int) (Result, error) {
	dsn := "file:" + filepath.Join(dir, "ceiling.db") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, ceilingSchema); err != nil {
		return Result{}, fmt.Errorf("ceiling schema: %w", err)
	}
	var res Result
	start := time.Now()
	for i := 0; i < maxTx && time.Since(start) < duration; i++ {
		t0 := time.Now()
		if err := ceilingTx(ctx, db, i); err != nil {
			return res, err
		}
		res.Sent++
		res.Latencies = append(res.Latencies, time.Since(t0))
	}
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return res, nil
}

func ceilingTx(ctx context.Context, db *sql.DB, i int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	conv := i%1000 + 1
	now := time.Now().UnixNano()
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages VALUES ('ch', ?, ?, '{"text":{"text":"hello"}}') ON CONFLICT DO NOTHING`,
		"m-"+strconv.Itoa(i), conv); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_activity = ? WHERE id = ?`, now, conv); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (conversation_id, type, payload) VALUES (?, 'message.received', '{"message":{}}')`, conv); err != nil {
		return err
	}
	return tx.Commit()
}
