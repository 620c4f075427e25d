package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// TestQueriesAreSpans checks a query inside a trace is a span of that trace holding its statement,
// never its arguments, and that a query outside any trace makes no span.
func TestQueriesAreSpans(t *testing.T) {
	pgtest.Require(t)
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s, err := postgres.Open(t.Context(), pgtest.URL(t), postgres.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	const secret = "queue-with-a-secret-looking-id"
	read := func(ctx context.Context) {
		err := s.Read(ctx, func(tx store.Tx) error {
			_, err := tx.GetQueue(ctx, secret)
			return err
		})
		var nf *domain.NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("GetQueue = %v, want not found", err)
		}
	}
	read(t.Context())
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("a query outside any trace made %d spans", n)
	}

	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	read(ctx)
	parent.End()
	var query sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Parent().IsValid() && strings.Contains(statement(sp), "FROM queues") {
			query = sp
		}
		if strings.Contains(statement(sp), secret) {
			t.Errorf("span %q holds the query's argument: %v", sp.Name(), sp.Attributes())
		}
	}
	if query == nil {
		t.Fatalf("no span of the request reads the queues; spans: %v", names(rec.Ended()))
	}
	if query.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("query span in trace %s, want %s", query.SpanContext().TraceID(), parent.SpanContext().TraceID())
	}
}

func statement(sp sdktrace.ReadOnlySpan) string {
	var all []string
	for _, kv := range sp.Attributes() {
		if kv.Value.Type() == attribute.STRING {
			all = append(all, kv.Value.AsString())
		}
	}
	return strings.Join(all, " ")
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, sp := range spans {
		out = append(out, sp.Name())
	}
	return out
}
