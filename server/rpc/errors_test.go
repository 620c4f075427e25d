package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// TestUnavailableAndConflicts checks that ABORTED means only a stale etag the caller sent: a
// database out of reach, or a race the server lost, is UNAVAILABLE with a retry delay, and
// its message says nothing of the database's error.
func TestUnavailableAndConflicts(t *testing.T) {
	sqlErr := errors.New(`postgres: get agent: dial tcp 10.0.0.1:5432: connect: connection refused`)
	for _, c := range []struct {
		err  error
		code connect.Code
	}{
		{fmt.Errorf("%w: %w", store.ErrUnavailable, sqlErr), connect.CodeUnavailable},
		{fmt.Errorf("postgres: update agent: %w", store.ErrConflict), connect.CodeUnavailable},
		{domain.ErrStaleEtag, connect.CodeAborted},
	} {
		err := toConnect(context.Background(), c.err)
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Code() != c.code {
			t.Errorf("%v: %v, want %v", c.err, err, c.code)
			continue
		}
		if strings.Contains(ce.Message(), "postgres") || strings.Contains(ce.Message(), "dial") {
			t.Errorf("%v: message %q leaks the cause", c.err, ce.Message())
		}
		if c.code == connect.CodeUnavailable && retryDelay(ce) <= 0 {
			t.Errorf("%v: no RetryInfo", c.err)
		}
	}
}

func retryDelay(ce *connect.Error) float64 {
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if info, ok := v.(*errdetails.RetryInfo); ok {
				return info.GetRetryDelay().AsDuration().Seconds()
			}
		}
	}
	return 0
}
