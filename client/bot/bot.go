// Package bot runs a Baton bot: the author writes what the bot says, in typed handlers, and the
// package handles the transport (an event stream or a webhook), the order of each
// conversation's events, retries, and ownership.
//
//	b := &bot.Bot{Client: client.New(url, key), Handlers: bot.Handlers{
//		Message: func(ctx context.Context, c *bot.Conversation, m *batonv1.Message) error {
//			_, err := c.Reply(ctx, "You said: "+bot.TextOf(m))
//			return err
//		},
//	}}
//	err := b.Stream(ctx, bot.StreamOptions{Cursor: bot.FileCursor("bot.cursor")})
//
// or serve b.Webhook(bot.WebhookOptions{Secrets: ...}) at the URL of the bot's webhook.
//
// Each handler receives a Conversation handle that carries the ownership epoch the event was
// stored at: a reply, handoff or close made through it is refused with a *client.OwnershipError
// once someone else owns the conversation, so a slow bot never talks over the agent who took it.
package bot

import (
	"context"
	"errors"
	"log/slog"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// Bot is a bot's handlers and the client (with the bot's API key) they act through.
type Bot struct {
	Client   *client.Client
	Handlers Handlers
	// Retry paces the retries of a mutation that met a transport error, and of a handler that
	// failed in stream mode; DefaultBackoff when zero.
	Retry Backoff
	// Logger receives what the bot cannot return to anyone: handler failures and refusals in
	// stream mode, reconnections. slog.Default() when nil.
	Logger *slog.Logger
}

// Handlers are a bot's reactions to its conversations' events. Every one is optional. A handler
// returning an error is run again later (stream mode) or makes Baton deliver the event again
// (webhook mode), except for a *client.OwnershipError: the conversation has moved on, and
// trying again would be refused again.
type Handlers struct {
	// Message is a customer's message in a conversation the bot owns.
	Message func(ctx context.Context, c *Conversation, m *batonv1.Message) error
	// Lost says the bot no longer owns the conversation: to whom it went, and why.
	Lost func(ctx context.Context, c *Conversation, l Lost) error
	// Returned says the conversation came back to the bot from humans, with how their part
	// ended.
	Returned func(ctx context.Context, c *Conversation, r Returned) error
	// HandoffFailed says a handoff found no agent (none online, or none with capacity): the
	// bot still owns the conversation.
	HandoffFailed func(ctx context.Context, c *Conversation, h *batonv1.Handover) error
	// Other receives every event no handler above took (those not set included): the bot's
	// own messages, handover steps, conversations it watches without owning them, webhook
	// state.
	Other func(ctx context.Context, e *batonv1.SubscribedEvent) error
}

// Lost is an ownership change away from the bot.
type Lost struct {
	// To is the new owner: a queue, an agent, a human outside Baton, or nobody (closed).
	To *batonv1.Owner
	// Reason is why, e.g. the handoff's reason, "bot muted", "session timeout".
	Reason string
}

// Returned is an ownership change back to the bot from humans.
type Returned struct {
	// From is the previous owner: a queue, an agent, or a human outside Baton.
	From *batonv1.Owner
	// Reason is why, e.g. "handed back: resolved".
	Reason string
	// Handover is the handover that ended as the conversation came back (handed back,
	// canceled or expired); nil when a human outside Baton gave it back.
	Handover *batonv1.Handover
}

// Outcome is how the agent's part ended, when an agent handed the conversation back.
func (r Returned) Outcome() batonv1.HandbackOutcome { return r.Handover.GetOutcome() }

// Summary is the agent's summary for the bot, when an agent handed the conversation back.
func (r Returned) Summary() string { return r.Handover.GetHandbackSummary() }

func (b *Bot) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

// dispatch runs the handler an event is for, or Other when that handler is not set.
func (b *Bot) dispatch(ctx context.Context, se *batonv1.SubscribedEvent) error {
	e, h := se.GetEvent(), b.Handlers
	switch e.GetType() {
	case batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED:
		if se.GetResponsible() && h.Message != nil {
			return h.Message(ctx, b.conversation(e), e.GetMessage())
		}
	case batonv1.EventType_EVENT_TYPE_HANDOVER_FAILED:
		if se.GetResponsible() && h.HandoffFailed != nil {
			return h.HandoffFailed(ctx, b.conversation(e), e.GetHandover())
		}
	case batonv1.EventType_EVENT_TYPE_OWNER_CHANGED:
		change, me := e.GetOwnerChange(), botOwner(e.GetBotId())
		switch {
		case h.Lost != nil && sameOwner(change.GetFrom(), me) && !sameOwner(change.GetTo(), me):
			return h.Lost(ctx, b.conversation(e), Lost{To: change.GetTo(), Reason: change.GetReason()})
		case h.Returned != nil && sameOwner(change.GetTo(), me) && human(change.GetFrom()):
			r, err := b.returned(ctx, e)
			if err != nil {
				return err
			}
			return h.Returned(ctx, b.conversation(e), r)
		}
	}
	if h.Other != nil {
		return h.Other(ctx, se)
	}
	return nil
}

func botOwner(id string) *batonv1.Owner {
	return &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_BOT, Id: id}
}

func sameOwner(a, b *batonv1.Owner) bool {
	return a.GetKind() == b.GetKind() && a.GetId() == b.GetId()
}

func human(o *batonv1.Owner) bool {
	switch o.GetKind() {
	case batonv1.OwnerKind_OWNER_KIND_QUEUE, batonv1.OwnerKind_OWNER_KIND_AGENT, batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN:
		return true
	}
	return false
}

// endedStates are the states of a handover that gives the conversation back to the bot.
var endedStates = []batonv1.HandoverState{
	batonv1.HandoverState_HANDOVER_STATE_RELEASED, batonv1.HandoverState_HANDOVER_STATE_CANCELED,
	batonv1.HandoverState_HANDOVER_STATE_EXPIRED, batonv1.HandoverState_HANDOVER_STATE_DECLINED,
}

// returned describes a conversation's return to the bot. The ownership change does not name
// the handover that ended with it, so it is looked up: the newest ended handover requested
// before the return (a later one, requested since, has an epoch at least the return's).
func (b *Bot) returned(ctx context.Context, e *batonv1.Event) (Returned, error) {
	change := e.GetOwnerChange()
	r := Returned{From: change.GetFrom(), Reason: change.GetReason()}
	if change.GetFrom().GetKind() == batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN {
		return r, nil
	}
	res, err := b.Client.Handovers.ListHandovers(ctx, &batonv1.ListHandoversRequest{
		ConversationId: e.GetConversationId(), States: endedStates, PageSize: 20,
	})
	if err != nil {
		return r, err
	}
	for _, h := range res.GetHandovers() {
		if h.GetEpoch() < change.GetEpoch() {
			r.Handover = h
			return r, nil
		}
	}
	return r, nil
}

// refused reports whether err is an ownership refusal, which no retry can change.
func refused(err error) bool {
	var oe *client.OwnershipError
	return errors.As(err, &oe)
}
