package webhook

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/pump"
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
	// RecordAttempts stores the results of sending claimed deliveries, in the order they came.
	RecordAttempts(ctx context.Context, sent []Sent) error
}

// Sent is the result of sending a claimed delivery.
type Sent struct {
	Delivery domain.Delivery
	Result   domain.AttemptResult
}

// maxRecordBatch bounds the results recorded together: how long the writer is held.
const maxRecordBatch = 128

// Dispatcher sends due deliveries, up to Concurrency at a time. A conversation's deliveries
// are claimed one at a time (the store's claim guarantees it), so they leave in order while
// other conversations go on in parallel; a slow endpoint holds one sender, not the others.
//
// A sender hands its result to the recorder and takes the next delivery at once, rather than
// wait for the result's write: results are recorded in batches, a write for dozens of them. A
// delivery stays leased until its result is recorded, so its conversation's next one waits
// for that. The recorder's queue holds Concurrency results, beyond which senders wait.
type Dispatcher struct {
	source Source
	client *Client
	now    func() time.Time
	pump   pump.Pump[Job]
	sent   chan Sent
	// Concurrency bounds deliveries in flight.
	Concurrency int
	// Interval is how often it looks for due deliveries (retries) without being kicked.
	Interval time.Duration
	Tracer   trace.Tracer
	Logger   *slog.Logger
	// Attempted, when set, hears the result of every attempt (metrics record it).
	Attempted func(ctx context.Context, r domain.AttemptResult)
}

// NewDispatcher returns a Dispatcher; call Run to start it. now is the clock that decides when
// deliveries are due and stamps their signatures.
func NewDispatcher(src Source, c *Client, now func() time.Time) *Dispatcher {
	d := &Dispatcher{
		source: src, client: c, now: now,
		Concurrency: 32, Interval: time.Second,
		Tracer: noop.NewTracerProvider().Tracer(""), Logger: slog.Default(),
	}
	d.pump = pump.Pump[Job]{
		Claim: src.ClaimDeliveries,
		Work:  d.deliver,
		ClaimFailed: func(ctx context.Context, err error) {
			ctx, span := d.Tracer.Start(ctx, "webhook.claim") // so that the record carries a trace id
			span.SetStatus(codes.Error, err.Error())
			defer span.End()
			d.Logger.ErrorContext(ctx, "claim webhook deliveries", "error", err)
		},
	}
	return d
}

// Kick asks for a look at due deliveries; it never blocks.
func (d *Dispatcher) Kick() { d.pump.Kick() }

// Run sends deliveries until ctx ends, then waits for those in flight and records them.
func (d *Dispatcher) Run(ctx context.Context) {
	d.pump.Concurrency, d.pump.Interval = d.Concurrency, d.Interval
	// A claim costs a query whatever its size: with deliveries in flight, wait until half
	// of the senders are free and claim for all of them.
	d.pump.Batch = d.Concurrency / 2
	d.sent = make(chan Sent, d.Concurrency)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.record(context.WithoutCancel(ctx))
	}()
	d.pump.Run(ctx)
	close(d.sent)
	<-recorded
}

// record records results as they come, each time all that have queued, until the queue closes.
func (d *Dispatcher) record(ctx context.Context) {
	batch := make([]Sent, 0, maxRecordBatch)
	for first := range d.sent {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxRecordBatch {
			select {
			case s, ok := <-d.sent:
				if !ok {
					break more
				}
				batch = append(batch, s)
			default:
				break more
			}
		}
		if err := d.source.RecordAttempts(ctx, batch); err != nil {
			d.Logger.ErrorContext(ctx, "record webhook attempts", "deliveries", len(batch), "error", err)
		}
		// A recorded delivery's conversation may have its next one due.
		d.Kick()
	}
}

// deliver sends one delivery, traced as a child of the write that recorded it, and queues
// the result for the recorder.
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
	if d.Attempted != nil {
		d.Attempted(ctx, res)
	}
	d.sent <- Sent{Delivery: dl, Result: res}
}
