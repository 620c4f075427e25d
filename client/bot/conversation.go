package bot

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// Conversation is a handler's handle on the conversation of the event it handles. Its calls
// carry the ownership epoch of that event, so they are refused with a *client.OwnershipError
// naming the new owner once the conversation has changed hands. Each mutation carries a request
// id derived from the event, so a handler run twice for one event (after a crash, or a
// redelivery) gets back what its first run stored instead of sending or handing off twice.
type Conversation struct {
	ID        string
	ChannelID string
	ContactID string

	bot   *Bot
	event string // the event's id: the stem of request ids
	epoch atomic.Uint64
	calls atomic.Uint64
}

func (b *Bot) conversation(e *batonv1.Event) *Conversation {
	c := &Conversation{ID: e.GetConversationId(), ChannelID: e.GetChannelId(), ContactID: e.GetContactId(), bot: b, event: e.GetId()}
	c.epoch.Store(e.GetEpoch())
	return c
}

// Epoch is the ownership epoch the handle's calls expect.
func (c *Conversation) Epoch() uint64 { return c.epoch.Load() }

// requestID names the handle's next mutation: the same in every run of a handler for one
// event, as long as the handler makes its calls in the same order.
func (c *Conversation) requestID() string {
	return c.event + "/" + strconv.FormatUint(c.calls.Add(1), 10)
}

// Reply sends text to the customer.
func (c *Conversation) Reply(ctx context.Context, text string) (*batonv1.Message, error) {
	return c.Send(ctx, Text(text))
}

// Send sends rich content (Text, QuickReplies, Buttons, or any MessageContent) to the customer.
func (c *Conversation) Send(ctx context.Context, content *batonv1.MessageContent) (*batonv1.Message, error) {
	req := &batonv1.SendMessageRequest{ConversationId: c.ID, ExpectedEpoch: ptr(c.Epoch()), Content: content, RequestId: c.requestID()}
	res, err := retry(ctx, c.bot.Retry, transient, func(ctx context.Context) (*batonv1.SendMessageResponse, error) {
		return c.bot.Client.Conversations.SendMessage(ctx, req)
	})
	return res.GetMessage(), err
}

// Handoff asks for humans to take the conversation over.
type Handoff struct {
	// Reason is why the bot hands off; required.
	Reason string
	// Summary tells the agent what happened so far.
	Summary string
	// Target is where to go (ToQueue, ToSkill, ToAgent); the channel's default queue when nil.
	Target *batonv1.HandoverTarget
	// Metadata is context for the agent.
	Metadata map[string]string
	// Intake holds pre-chat answers.
	Intake []*batonv1.IntakeAnswer
	// QueueAnyway queues the conversation even when no agent is online or free.
	QueueAnyway bool
}

// Handoff hands the conversation off. When no agent can take it the bot keeps it: the returned
// handover is FAILED with the reason (and HandoffFailed runs for its event).
func (c *Conversation) Handoff(ctx context.Context, h Handoff) (*batonv1.Handover, error) {
	req := &batonv1.HandoffRequest{
		ConversationId: c.ID, ExpectedEpoch: ptr(c.Epoch()), Target: h.Target, Reason: h.Reason,
		Metadata: h.Metadata, Summary: h.Summary, Intake: h.Intake, QueueAnyway: h.QueueAnyway,
		RequestId: c.requestID(),
	}
	res, err := retry(ctx, c.bot.Retry, transient, func(ctx context.Context) (*batonv1.HandoffResponse, error) {
		return c.bot.Client.Handovers.Handoff(ctx, req)
	})
	if err == nil {
		c.epoch.Store(res.GetConversation().GetEpoch())
	}
	return res.GetHandover(), err
}

// SetStatus says how the conversation is going, e.g. CONVERSATION_STATUS_NOT_UNDERSTOOD.
// Each report counts: a policy may hand off after several "not understood" in a row (see
// AutoHandoffPolicy), so a report is retried, like Mute, only when it could not be sent.
func (c *Conversation) SetStatus(ctx context.Context, s batonv1.ConversationStatus) error {
	req := &batonv1.UpdateConversationRequest{ConversationId: c.ID, Status: &s}
	_, err := retry(ctx, c.bot.Retry, unsent, func(ctx context.Context) (*batonv1.UpdateConversationResponse, error) {
		return c.bot.Client.Conversations.UpdateConversation(ctx, req)
	})
	return err
}

// Mute silences the bot for this conversation for d (72 h when zero): the conversation goes to
// its channel's default queue. Baton takes no request id for it, so it is retried only when the
// request could not be sent at all.
func (c *Conversation) Mute(ctx context.Context, d time.Duration) error {
	req := &batonv1.MuteBotRequest{Scope: &batonv1.MuteBotRequest_ConversationId{ConversationId: c.ID}}
	if d > 0 {
		req.Duration = durationpb.New(d)
	}
	_, err := retry(ctx, c.bot.Retry, unsent, func(ctx context.Context) (*batonv1.MuteBotResponse, error) {
		return c.bot.Client.Conversations.MuteBot(ctx, req)
	})
	return err
}

// Close ends the conversation; it opens again when the customer writes. Like Mute, it is
// retried only when the request could not be sent.
func (c *Conversation) Close(ctx context.Context, reason string) error {
	req := &batonv1.CloseConversationRequest{ConversationId: c.ID, ExpectedEpoch: ptr(c.Epoch()), Reason: reason}
	res, err := retry(ctx, c.bot.Retry, unsent, func(ctx context.Context) (*batonv1.CloseConversationResponse, error) {
		return c.bot.Client.Conversations.CloseConversation(ctx, req)
	})
	if err == nil {
		c.epoch.Store(res.GetConversation().GetEpoch())
	}
	return err
}

// mutationAttempts bounds the tries of one mutation.
const mutationAttempts = 5

// retry calls f until it succeeds, fails with an error retryable does not accept, or has been
// tried mutationAttempts times. An ownership refusal is returned at once as a
// *client.OwnershipError.
func retry[T any](ctx context.Context, b Backoff, retryable func(error) bool, f func(context.Context) (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := f(ctx)
		if err == nil {
			return v, nil
		}
		if oe, ok := client.AsOwnershipError(err); ok {
			return v, oe
		}
		if attempt == mutationAttempts || !retryable(err) || sleep(ctx, b.Delay(attempt)) != nil {
			return v, err
		}
	}
}

// transient reports a transport failure or an unavailable server: the call may or may not have
// been done, which only calls that are safe to repeat may retry.
func transient(err error) bool { return connect.CodeOf(err) == connect.CodeUnavailable }

// unsent reports a call that never reached the server: its connection could not be made.
func unsent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func ptr[T any](v T) *T { return &v }
