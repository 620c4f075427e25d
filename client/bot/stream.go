package bot

import (
	"cmp"
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// StreamOptions configures Stream.
type StreamOptions struct {
	// Cursor keeps the last handled sequence across runs; a MemoryCursor when nil.
	Cursor CursorStore
	// Reconnect paces reconnections after the stream breaks; DefaultBackoff when zero. The
	// count of attempts starts again once a stream delivers events or stays up for Max.
	Reconnect Backoff
	// Concurrency bounds the conversations handled at once; 16 when zero.
	Concurrency int
	// OnReconnect, when set, is told of each reconnection before its wait: the attempt number
	// (from 1), the wait, and why the stream ended.
	OnReconnect func(attempt int, delay time.Duration, err error)
}

// heldEvents bounds the events received and not yet handled.
const heldEvents = 1024

// handlerAttempts bounds the runs of a failing handler for one event in stream mode; the event
// is then logged and passed over, so that one event cannot stop its conversation for good.
const handlerAttempts = 5

// Stream runs the bot on its event stream until ctx ends, then returns nil once the handlers
// running have returned. It resumes after the cursor's sequence (from the events stored after
// it connects when the cursor is empty), reconnects with backoff whenever the stream breaks,
// and returns an error only when the server refuses the bot's key or request.
func (b *Bot) Stream(ctx context.Context, opts StreamOptions) error {
	cursor := opts.Cursor
	if cursor == nil {
		cursor = &MemoryCursor{}
	}
	seq, ok, err := cursor.Load(ctx)
	if err != nil {
		return err
	}
	var after *uint64
	if ok {
		after = &seq
	}
	track := newTracker(func(seq uint64) {
		if err := cursor.Save(context.WithoutCancel(ctx), seq); err != nil {
			b.logger().ErrorContext(ctx, "baton bot: save the cursor", "sequence", seq, "error", err)
		}
	})
	sched := newScheduler(cmp.Or(opts.Concurrency, 16), heldEvents, b.handle, track.handled)
	defer sched.wait()

	for attempt := 1; ; attempt++ {
		start := time.Now()
		received, err := b.subscribe(ctx, &after, sched, track)
		if ctx.Err() != nil {
			return nil
		}
		switch connect.CodeOf(err) {
		case connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeInvalidArgument:
			return err
		}
		if received || time.Since(start) >= opts.Reconnect.withDefaults().Max {
			attempt = 1
		}
		delay := opts.Reconnect.Delay(attempt)
		if opts.OnReconnect != nil {
			opts.OnReconnect(attempt, delay, err)
		}
		b.logger().WarnContext(ctx, "baton bot: event stream ended; reconnecting", "attempt", attempt, "delay", delay, "error", err)
		if sleep(ctx, delay) != nil {
			return nil
		}
	}
}

// subscribe reads one stream until it ends, scheduling each event and moving *after past it,
// so the next stream resumes after the last event received (which the scheduler still holds).
// It reports whether any event came.
func (b *Bot) subscribe(ctx context.Context, after **uint64, sched *scheduler, track *tracker) (bool, error) {
	streamCtx, cancel := context.WithCancel(ctx) // handlers keep ctx: they outlive the stream
	defer cancel()
	stream, err := b.Client.Events.Subscribe(streamCtx, &batonv1.SubscribeRequest{AfterSequence: *after})
	if err != nil {
		return false, err
	}
	defer stream.Close()
	received := false
	for stream.Receive() {
		for _, e := range stream.Msg().GetEvents() {
			seq := e.GetEvent().GetSequence()
			track.received(seq)
			if err := sched.add(ctx, e); err != nil {
				return received, err
			}
			*after = &seq
			received = true
		}
	}
	if err := stream.Err(); err != nil {
		return received, err
	}
	return received, errors.New("the server ended the stream")
}

// handle runs an event's handler, again after a failure, up to handlerAttempts times. It
// reports whether it is done with the event (handled, refused or passed over): false when the
// bot stopped first, so that the event is handled again when the bot resumes.
func (b *Bot) handle(ctx context.Context, e *batonv1.SubscribedEvent) bool {
	for attempt := 1; ; attempt++ {
		err := b.dispatch(ctx, e)
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case refused(err):
			b.logger().InfoContext(ctx, "baton bot: refused, the conversation has moved on", "event", e.GetEvent().GetId(), "error", err)
			return true
		case attempt == handlerAttempts:
			b.logger().ErrorContext(ctx, "baton bot: handler failed; event passed over", "event", e.GetEvent().GetId(), "attempts", attempt, "error", err)
			return true
		}
		b.logger().WarnContext(ctx, "baton bot: handler failed; trying again", "event", e.GetEvent().GetId(), "attempt", attempt, "error", err)
		if sleep(ctx, b.Retry.Delay(attempt)) != nil {
			return false
		}
	}
}
