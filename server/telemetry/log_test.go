package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/batonhq/baton/server/telemetry"
)

func TestLoggerCarriesTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log, err := telemetry.NewLogger(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "job")
	log.With("job", "timers").InfoContext(ctx, "inside")
	span.End()
	log.DebugContext(ctx, "below the level")
	log.Info("outside")

	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d records, want 2 (debug is below info): %s", len(lines), buf.String())
	}
	sc := span.SpanContext()
	if lines[0]["trace_id"] != sc.TraceID().String() || lines[0]["span_id"] != sc.SpanID().String() || lines[0]["job"] != "timers" {
		t.Errorf("record inside the span = %v, want trace_id %s span_id %s", lines[0], sc.TraceID(), sc.SpanID())
	}
	if _, ok := lines[1]["trace_id"]; ok {
		t.Errorf("record outside any span has a trace id: %v", lines[1])
	}
}

func TestLoggerRefusesBadSettings(t *testing.T) {
	for _, c := range [][2]string{{"xml", "info"}, {"json", "loud"}} {
		if _, err := telemetry.NewLogger(&bytes.Buffer{}, c[0], c[1]); err == nil {
			t.Errorf("NewLogger(%q, %q) = nil error", c[0], c[1])
		}
	}
}
