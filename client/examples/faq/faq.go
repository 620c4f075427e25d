package main

import (
	"context"
	"log"
	"strings"
	"sync"

	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// answers are what the bot knows, by keyword.
var answers = []struct {
	keywords []string
	answer   string
}{
	{[]string{"hours", "open"}, "We are open Monday to Friday, 9:00 to 18:00."},
	{[]string{"price", "cost"}, "Plans start at 10 € a month; see example.com/pricing."},
	{[]string{"delivery", "parcel", "shipping"}, "Parcels arrive within 3 working days; your tracking link is in the confirmation e-mail."},
}

var humanWords = []string{"human", "agent", "person"}

// faq answers a few questions, hands off when the customer asks for a human or after two
// messages it did not understand, and greets the customer when the conversation comes back.
type faq struct {
	mu     sync.Mutex
	missed map[string]int // messages not understood, by conversation, since the last handoff
}

func newFAQ() *faq { return &faq{missed: map[string]int{}} }

func (f *faq) handlers() bot.Handlers {
	return bot.Handlers{
		Message:       f.message,
		Returned:      f.returned,
		HandoffFailed: f.handoffFailed,
		Lost: func(ctx context.Context, c *bot.Conversation, l bot.Lost) error {
			log.Printf("conversation %s went to %v: %s", c.ID, l.To.GetKind(), l.Reason)
			return nil
		},
	}
}

func (f *faq) message(ctx context.Context, c *bot.Conversation, m *batonv1.Message) error {
	text := strings.ToLower(bot.TextOf(m))
	if containsAny(text, humanWords) {
		return f.handoff(ctx, c, "the customer asked for a human", "Asked for a human: "+bot.TextOf(m))
	}
	for _, a := range answers {
		if containsAny(text, a.keywords) {
			_, err := c.Reply(ctx, a.answer)
			return err
		}
	}
	if err := c.SetStatus(ctx, batonv1.ConversationStatus_CONVERSATION_STATUS_NOT_UNDERSTOOD); err != nil {
		return err
	}
	if f.miss(c.ID) >= 2 {
		return f.handoff(ctx, c, "the bot did not understand twice", "Last message: "+bot.TextOf(m))
	}
	_, err := c.Send(ctx, menu("Sorry, I did not get that. I can tell you about:"))
	return err
}

func (f *faq) handoff(ctx context.Context, c *bot.Conversation, reason, summary string) error {
	if _, err := c.Reply(ctx, "Let me find a human for you."); err != nil {
		return err
	}
	_, err := c.Handoff(ctx, bot.Handoff{Reason: reason, Summary: summary})
	return err
}

func (f *faq) returned(ctx context.Context, c *bot.Conversation, r bot.Returned) error {
	f.mu.Lock()
	delete(f.missed, c.ID)
	f.mu.Unlock()
	if err := c.SetStatus(ctx, batonv1.ConversationStatus_CONVERSATION_STATUS_OK); err != nil {
		return err
	}
	_, err := c.Send(ctx, menu("Welcome back! Anything else I can help with?"))
	return err
}

func (f *faq) handoffFailed(ctx context.Context, c *bot.Conversation, h *batonv1.Handover) error {
	why := "nobody is online right now"
	if h.GetFailureReason() == batonv1.FailureReason_FAILURE_REASON_NO_CAPACITY {
		why = "everybody is busy right now"
	}
	_, err := c.Send(ctx, menu("Sorry, "+why+". I can still tell you about:"))
	return err
}

// miss counts a message not understood and returns the count.
func (f *faq) miss(conversationID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.missed[conversationID]++
	return f.missed[conversationID]
}

// menu is text with a quick reply per topic, and one to ask for a human.
func menu(text string) *batonv1.MessageContent {
	return bot.QuickReplies(text,
		bot.QuickReply("Opening hours", "hours"), bot.QuickReply("Prices", "price"),
		bot.QuickReply("Delivery", "delivery"), bot.QuickReply("Talk to a human", "human"))
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
