// Package telemetry sets up OpenTelemetry from the standard OTEL_* environment variables.
// Tracing is off unless OTEL_TRACES_EXPORTER (or an OTLP endpoint) is set; metrics are exported
// when OTEL_METRICS_EXPORTER (or an OTLP endpoint) is set, and served for Prometheus to scrape
// when asked for.
package telemetry

import (
	"context"
	"errors"
	"net/http"
	"os"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Providers are the tracer and meter providers the environment chose.
type Providers struct {
	Tracer trace.TracerProvider
	// Meter is nil when metrics go nowhere.
	Meter metric.MeterProvider
	// Metrics serves every metric in Prometheus's text format; nil unless asked for.
	Metrics http.Handler
	// Shutdown flushes and stops both providers.
	Shutdown func(context.Context) error
}

// Setup returns the providers chosen by the environment, with a Prometheus handler when
// prometheus is true, and installs them as OpenTelemetry's globals (which libraries such as
// the PostgreSQL tracer use). It also installs W3C trace-context propagation, so traceparent
// crosses calls. Go runtime metrics are recorded whenever metrics are on.
func Setup(ctx context.Context, prometheus bool) (Providers, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	p := Providers{Tracer: noop.NewTracerProvider()}
	var shutdowns []func(context.Context) error
	p.Shutdown = func(ctx context.Context) error {
		var errs []error
		for _, s := range shutdowns {
			errs = append(errs, s(ctx))
		}
		return errors.Join(errs...)
	}
	if enabled("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
		exporter, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return p, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
		otel.SetTracerProvider(tp)
		p.Tracer = tp
		shutdowns = append(shutdowns, tp.Shutdown)
	}
	var readers []sdkmetric.Option
	if enabled("OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") {
		reader, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return p, err
		}
		readers = append(readers, sdkmetric.WithReader(reader))
	}
	if prometheus {
		reader, handler, err := prometheusReader()
		if err != nil {
			return p, err
		}
		readers = append(readers, sdkmetric.WithReader(reader))
		p.Metrics = handler
	}
	if len(readers) == 0 {
		return p, nil
	}
	mp := sdkmetric.NewMeterProvider(readers...)
	otel.SetMeterProvider(mp)
	p.Meter = mp
	shutdowns = append(shutdowns, mp.Shutdown)
	return p, runtime.Start(runtime.WithMeterProvider(mp))
}

// prometheusReader is a reader whose metrics the handler serves, from a registry of its own
// (not the client library's global one, which other code may fill).
func prometheusReader() (sdkmetric.Reader, http.Handler, error) {
	registry := promclient.NewRegistry()
	exporter, err := prometheus.New(prometheus.WithRegisterer(registry))
	if err != nil {
		return nil, nil, err
	}
	return exporter, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), nil
}

// enabled reports whether a signal is exported: its exporter variable or an OTLP endpoint is
// set, and the SDK is not disabled.
func enabled(exporterVar, endpointVar string) bool {
	if os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return false
	}
	for _, v := range []string{exporterVar, "OTEL_EXPORTER_OTLP_ENDPOINT", endpointVar} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}
