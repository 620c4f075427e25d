package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/pump"
)

// Senders are the channels' send APIs, by kind.
type Senders map[domain.ChannelKind]channel.Sender

// sendTimeout bounds one call to a channel's send API.
const sendTimeout = 10 * time.Second

// Outbox sends stored outbound messages through their channel, up to Concurrency at a time.
// The store hands out each conversation's messages one at a time, in order, so they reach the
// customer in the order they were sent, while other conversations go on in parallel.
type Outbox struct {
	app     *app.App
	senders Senders
	pump    pump.Pump[app.SendJob]
	// Concurrency bounds messages in flight.
	Concurrency int
	// Interval is how often it looks for due messages (retries) without being kicked.
	Interval time.Duration
	Logger   *slog.Logger
	// Tracer traces each send, a span per message.
	Tracer trace.Tracer
}

// NewOutbox returns an Outbox; call Run to start it.
func NewOutbox(a *app.App, senders Senders) *Outbox {
	o := &Outbox{app: a, senders: senders, Concurrency: 16, Interval: time.Second, Logger: slog.Default(),
		Tracer: noop.NewTracerProvider().Tracer("")}
	o.pump = pump.Pump[app.SendJob]{
		Claim: a.ClaimSends,
		Work:  o.send,
		ClaimFailed: func(ctx context.Context, err error) {
			ctx, span := o.Tracer.Start(ctx, "gateway.claim") // so that the record carries a trace id
			span.SetStatus(codes.Error, err.Error())
			defer span.End()
			o.Logger.ErrorContext(ctx, "claim outbound messages", "error", err)
		},
	}
	return o
}

// Kick asks for a look at due messages; it never blocks.
func (o *Outbox) Kick() { o.pump.Kick() }

// Run sends messages until ctx ends, then waits for those in flight.
func (o *Outbox) Run(ctx context.Context) {
	o.pump.Concurrency, o.pump.Interval, o.pump.Batch = o.Concurrency, o.Interval, 1
	o.pump.Run(ctx)
}

// send sends one message and records what the channel did, in a span of its own.
func (o *Outbox) send(ctx context.Context, job app.SendJob) {
	ctx, span := o.Tracer.Start(ctx, "gateway.send", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("baton.message.id", job.Message.ID),
		attribute.String("baton.conversation.id", job.Message.ConversationID),
		attribute.String("baton.channel.kind", string(job.Channel.Kind)),
		attribute.Int("baton.attempt", job.Message.Attempts+1),
	))
	defer span.End()
	r := o.result(ctx, job)
	if r.Error != "" {
		span.SetStatus(codes.Error, r.Error)
	}
	if err := o.app.RecordSend(ctx, job.Message.ID, r); err != nil {
		span.RecordError(err)
		o.Logger.ErrorContext(ctx, "record a send", "message", job.Message.ID, "error", err)
	}
}

func (o *Outbox) result(ctx context.Context, job app.SendJob) domain.SendResult {
	sender, ok := o.senders[job.Channel.Kind]
	if !ok { // a web chat: its stream is the delivery
		return domain.SendResult{ChannelMessageID: job.Message.ID}
	}
	content, err := channel.DecodeContent(job.Message.Content)
	if err != nil {
		return domain.SendResult{Error: "the stored content does not decode: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	id, err := sender.Send(ctx, job.Channel, job.Contact, channel.Outgoing{BatonMessageID: job.Message.ID, Content: content})
	var refused *channel.SendError
	switch {
	case err == nil:
		return domain.SendResult{ChannelMessageID: id}
	case errors.As(err, &refused):
		return domain.SendResult{Error: refused.Error(), Transient: refused.Transient, RetryAfter: refused.RetryAfter}
	default:
		// Not a refusal: the channel took the message but its answer made no sense (no id).
		// Sending again could show it twice, so it counts as sent.
		o.Logger.WarnContext(ctx, "a channel took a message with an odd answer", "message", job.Message.ID, "error", err)
		return domain.SendResult{}
	}
}
