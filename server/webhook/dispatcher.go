package webhook

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/batonhq/baton/server/domain"
)

// Job is a claimed delivery, ready to send.
type Job struct {
	Delivery domain.Delivery
	Request  Request
}

// Source hands out due deliveries and records what became of them (the application does).
type Source interface {
	// ClaimDeliveries leases up to limit due deliveries to the caller.
	ClaimDeliveries(ctx context.Context, limit int) ([]Job, error)
	// RecordAttempt stores the result of sending a claimed delivery.
	RecordAttempt(ctx context.Context, d domain.Delivery, r domain.AttemptResult) error
}

// Dispatcher sends due deliveries, up to Concurrency at a time. A conversation's deliveries
// are claimed one at a time (the store's claim guarantees it), so they leave in order while
// other conversations go on in parallel; a slow endpoint holds one sender, not the others.
type Dispatcher struct {
	source Source
	client *Client
	now    func() time.Time
	kick   chan struct{}
	// Concurrency bounds deliveries in flight.
	Concurrency int
	// Interval is how often it looks for due deliveries (retries) without being kicked.
	Interval time.Duration
	Tracer   trace.Tracer
	Logger   *slog.Logger
}

// NewDispatcher returns a Dispatcher; call Run to start it. now is the clock that decides when
// deliveries are due and stamps their signatures.
func NewDispatcher(src Source, c *Client, now func() time.Time) *Dispatcher {
	return &Dispatcher{
		source: src, client: c, now: now, kick: make(chan struct{}, 1),
		Concurrency: 32, Interval: time.Second,
		Tracer: noop.NewTracerProvider().Tracer(""), Logger: slog.Default(),
	}
}

// Kick asks for a look at due deliveries; it never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run sends deliveries until ctx ends, then waits for those in flight: an unrecorded one would
// only be sent again once its lease ran out.
func (d *Dispatcher) Run(ctx context.Context) {
	slots := make(chan struct{}, d.Concurrency)
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	// A claim costs a query whatever its size: with deliveries in flight, wait until a quarter
	// of the senders are free and claim for all of them.
	batch := max(1, d.Concurrency/4)
	for {
		if free := d.Concurrency - len(slots); free >= batch || free == d.Concurrency {
			jobs, err := d.source.ClaimDeliveries(ctx, free)
			if err != nil && ctx.Err() == nil {
				d.Logger.ErrorContext(ctx, "claim webhook deliveries", "error", err)
			}
			for _, job := range jobs {
				slots <- struct{}{}
				inFlight.Go(func() {
					defer func() { <-slots; d.Kick() }() // the conversation's next delivery may go
					d.deliver(context.WithoutCancel(ctx), job)
				})
			}
			if len(jobs) == free {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-tick.C:
		}
	}
}

// deliver sends one delivery, traced as a child of the write that recorded it, and records
// the result.
func (d *Dispatcher) deliver(ctx context.Context, job Job) {
	dl := job.Delivery
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": dl.TraceParent})
	ctx, span := d.Tracer.Start(ctx, "webhook.deliver", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("baton.delivery_id", dl.ID),
			attribute.String("baton.webhook_id", dl.WebhookID),
			attribute.String("baton.event_type", string(dl.EventType)),
			attribute.Int("baton.attempt", dl.Attempts+1),
		))
	defer span.End()
	req := job.Request
	req.Time = d.now()
	res := d.client.Send(ctx, req)
	span.SetAttributes(attribute.Int("http.response.status_code", res.StatusCode))
	if !res.OK() {
		span.SetStatus(codes.Error, res.Describe())
	}
	if err := d.source.RecordAttempt(ctx, dl, res); err != nil {
		d.Logger.ErrorContext(ctx, "record webhook attempt", "delivery", dl.ID, "error", err)
	}
}
