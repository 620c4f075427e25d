package store

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// TraceParent is the W3C traceparent of the span in ctx, or "" when there is none: deliveries
// record it so the trace of a write continues when its events are delivered later.
func TraceParent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}
