package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Pauses between Listen's attempts to connect: doubled after each failure, reset once listening.
const (
	firstPause = 100 * time.Millisecond
	maxPause   = 5 * time.Second
)

// Listen calls onCommit every time a transaction on this database and schema, from any Store
// in any process, has committed new events, until ctx ends; then it returns ctx's error. A server
// replica uses it to wake its subscribers whichever replica wrote, itself included.
//
// It holds a connection of its own (outside the pool), which LISTENs to the schema's channel.
// When that connection fails, Listen reconnects, pausing a little longer after each failure
// (100 ms, doubling up to 5 s), and logs the error to s.Logger. Notifications sent while it was
// not listening are lost, so each time it starts listening, the first time included, it calls
// onCommit once: the caller should then look for new events anyway.
//
// onCommit runs on Listen's goroutine, one call at a time; it should return quickly.
func (s *Store) Listen(ctx context.Context, onCommit func()) error {
	pause := firstPause
	for {
		listened, err := s.listen(ctx, onCommit)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened {
			pause = firstPause
		}
		s.logger().WarnContext(ctx, "postgres: listening for new events failed; reconnecting",
			"error", err, "pause", pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// listen connects, listens and calls onCommit until the connection fails or ctx ends. It
// reports whether it got as far as listening.
func (s *Store) listen(ctx context.Context, onCommit func()) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return false, err
	}
	defer closeConn(ctx, conn)
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, err
	}
	for {
		onCommit()
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
	}
}

func (s *Store) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
