package serve

import (
	"context"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"

	"github.com/batonhq/baton/server/store"
)

// callTraces traces every call with otelconnect but server streams (Subscribe, StreamChat). A
// span as long as a subscription, hours or days, tells nothing an operator can use; and
// otelconnect's frame on each idle stream's goroutine keeps that goroutine's stack from shrinking
// back to 8 KB, which made the stack, at 16 KB, the largest cost of an idle stream. For the same
// stack, a server stream's context is store.LongLived: SQLite reads off its goroutine.
type callTraces struct{ *otelconnect.Interceptor }

func (t callTraces) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	traced := t.Interceptor.WrapStreamingHandler(next)
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if conn.Spec().StreamType == connect.StreamTypeServer {
			return next(store.LongLived(ctx), conn)
		}
		return traced(ctx, conn)
	}
}
