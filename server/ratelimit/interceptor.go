package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/server/auth"
)

// Interceptor limits each API key's RPCs. It goes after auth.Interceptor: the bucket is the
// authenticated key's, so a caller without a valid key never gets one of its own.
type Interceptor struct{ Limiter *Limiter }

func (i Interceptor) allow(ctx context.Context) error {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return nil
	}
	ok, retry := i.Limiter.Allow(p.KeyID)
	if ok {
		return nil
	}
	err := connect.NewError(connect.CodeResourceExhausted,
		fmt.Errorf("API key %s is over its rate limit: retry in %v", p.KeyID, retry.Round(time.Millisecond)))
	if detail, derr := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)}); derr == nil {
		err.AddDetail(detail)
	}
	return err
}

// WrapUnary implements connect.Interceptor.
func (i Interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := i.allow(ctx); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient implements connect.Interceptor; clients are not intercepted.
func (i Interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor: opening a stream takes one token.
func (i Interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := i.allow(ctx); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// TooMany answers 429 with a Retry-After of whole seconds, rounded up so a caller that obeys it
// finds a token.
func TooMany(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	http.Error(w, "over the rate limit: retry after "+retry.Round(time.Millisecond).String(), http.StatusTooManyRequests)
}
