package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/telemetry"
)

// TestFailedTimerPassIsTraced checks a timer pass that fails is reported inside a span that
// records the error, so that the log record of the failure carries its trace and span ids.
func TestFailedTimerPassIsTraced(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	var logs bytes.Buffer
	logger, err := telemetry.NewLogger(&logs, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{Store: downStore{}, Tracer: tp.Tracer("test")})

	ctx, cancel := context.WithCancel(t.Context())
	reported := make(chan trace.SpanContext)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.Scheduler{App: a, Interval: time.Millisecond, OnError: func(ctx context.Context, err error) {
			logger.ErrorContext(ctx, "timers", "error", err)
			select {
			case reported <- trace.SpanContextFromContext(ctx):
			case <-ctx.Done():
			}
		}}.Run(ctx)
	}()
	sc := <-reported
	cancel()
	<-done

	if !sc.IsValid() {
		t.Fatal("OnError's context holds no span")
	}
	var span sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.SpanContext().SpanID() == sc.SpanID() {
			span = s
		}
	}
	if span == nil || span.Name() != "baton.timers" || span.Status().Code != codes.Error {
		t.Fatalf("span of the failed pass = %v, want an ended baton.timers span with an error status", span)
	}
	var record map[string]any
	if err := json.Unmarshal(bytes.SplitN(logs.Bytes(), []byte("\n"), 2)[0], &record); err != nil {
		t.Fatal(err)
	}
	if record["trace_id"] != sc.TraceID().String() || record["span_id"] != sc.SpanID().String() {
		t.Fatalf("log record %v, want trace_id %s span_id %s", record, sc.TraceID(), sc.SpanID())
	}
}

// downStore is a database that does not answer: every timer pass fails at its first read.
type downStore struct{ store.Store }

func (downStore) Read(context.Context, func(store.Tx) error) error {
	return fmt.Errorf("read: %w", store.ErrUnavailable)
}
