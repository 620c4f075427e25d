package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton/server/store"
)

// A transaction that fails for what other transactions or the network did, not for what it
// asked, runs again, after a short pause with jitter (so that the transactions that collided
// do not collide again), a few times at most:
//   - one that lost a race, a deadlock or a serialization failure, which the database rolled
//     back to let the other through;
//   - one whose connection broke before its COMMIT was sent, once, on a new connection: after
//     the database restarted, the pool's connections are all dead, and each would fail a
//     request. (One whose COMMIT was sent may have committed: running it again could apply it
//     twice.)
//
// What still fails so is store.ErrUnavailable: the caller may try again later.

const (
	// maxRaceRuns bounds the runs of a transaction that keeps losing races. Each lost deadlock
	// costs deadlock_timeout (a second by default) before the database breaks it.
	maxRaceRuns = 5
	// maxOutageRuns bounds the runs of a transaction whose connection breaks.
	maxOutageRuns = 2
)

// SQLSTATEs of the races a transaction can lose.
const (
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// again reports whether a transaction that failed with err on its nth run runs again, and
// waits before it does. committing says its COMMIT was sent.
func (s *Store) again(ctx context.Context, err error, n int, committing bool) bool {
	switch {
	case lostRace(err) && n < maxRaceRuns:
		// A deadlock means the lock order (lock.go) was broken somewhere: worth a warning.
		s.logger().WarnContext(ctx, "postgres: transaction lost a race; running it again", "error", err, "run", n)
	case unreachable(err) && !committing && n < maxOutageRuns:
		s.pool.Reset() // the other connections are likely dead too
		s.logger().InfoContext(ctx, "postgres: connection lost; running the transaction again", "error", err)
	default:
		return false
	}
	return pause(ctx, n) == nil
}

// pause waits up to 2ⁿ ms, at random.
func pause(ctx context.Context, n int) error {
	t := time.NewTimer(rand.N(time.Millisecond << n))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// failure is the error a Write or Read returns for err: store.ErrUnavailable wrapped around a
// lost race or a database out of reach.
func failure(err error) error {
	if (lostRace(err) || unreachable(err)) && !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// lostRace reports a deadlock or a serialization failure.
func lostRace(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == deadlockDetected || pgErr.Code == serializationFailure)
}

// unreachable reports whether err means the database cannot be reached right now: the
// connection could not be made or broke, or the server is shutting down, starting up, or
// terminated the session. A caller's canceled context is not.
func unreachable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
