package bot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
)

// storyBot echoes what the customer says, hands off when asked for a human, and greets the
// customer when the conversation comes back. It tells the test of each step.
type storyBot struct {
	handled  chan *bot.Conversation // after a message was answered
	lost     chan bot.Lost
	returned chan bot.Returned // after the greeting was sent
}

func newStoryBot() *storyBot {
	return &storyBot{handled: make(chan *bot.Conversation, 16), lost: make(chan bot.Lost, 16), returned: make(chan bot.Returned, 16)}
}

func (s *storyBot) handlers() bot.Handlers {
	return bot.Handlers{
		Message: func(ctx context.Context, c *bot.Conversation, m *batonv1.Message) error {
			if bot.TextOf(m) == "I want a human" {
				if _, err := c.Handoff(ctx, bot.Handoff{Reason: "customer asked for a human", Summary: "asked about a parcel"}); err != nil {
					return err
				}
			} else if _, err := c.Reply(ctx, "You said: "+bot.TextOf(m)); err != nil {
				return err
			}
			s.handled <- c
			return nil
		},
		Lost: func(ctx context.Context, c *bot.Conversation, l bot.Lost) error {
			s.lost <- l
			return nil
		},
		Returned: func(ctx context.Context, c *bot.Conversation, r bot.Returned) error {
			if _, err := c.Reply(ctx, "Welcome back!"); err != nil {
				return err
			}
			s.returned <- r
			return nil
		},
	}
}

// playStory drives the handover story against a running bot: message and reply, handoff, the
// agent accepts, the bot's late reply is refused with the typed error (and not retried), the
// agent hands back, and the bot greets the customer again.
func playStory(t *testing.T, s *server, w world, sb *storyBot, calls *counter) {
	ctx := context.Background()
	conv := s.ingest(w.channel.GetId(), "grace", "m-1", "hello").GetConversation()
	first := receive(t, sb.handled, "answer to hello")
	if got := s.outbound(conv.GetId()); !slices.Equal(got, []string{"You said: hello"}) {
		t.Fatalf("after hello the customer got %q", got)
	}

	s.ingest(w.channel.GetId(), "grace", "m-2", "I want a human")
	receive(t, sb.handled, "handoff")
	if l := receive(t, sb.lost, "the bot losing the conversation"); l.To.GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE || l.Reason != "customer asked for a human" {
		t.Fatalf("lost to %v because %q, want the queue because the customer asked", l.To, l.Reason)
	}
	hos := need(s.admin.Handovers.ListHandovers(ctx, &batonv1.ListHandoversRequest{ConversationId: conv.GetId()}))(t).GetHandovers()
	if len(hos) != 1 || hos[0].GetOfferedAgentId() != w.agent.GetId() {
		t.Fatalf("handovers %v, want one offered to the agent", hos)
	}
	need(w.agentAPI.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: hos[0].GetId()}))(t)

	// The bot answers late through the handle of the first message: refused, naming the agent.
	sends := calls.count(batonv1connect.ConversationServiceSendMessageProcedure)
	_, err := first.Reply(ctx, "Anything else?")
	var oe *client.OwnershipError
	if !errors.As(err, &oe) || oe.Owner.GetKind() != batonv1.OwnerKind_OWNER_KIND_AGENT || oe.Owner.GetId() != w.agent.GetId() || oe.Epoch != 3 {
		t.Fatalf("late reply: %v, want an OwnershipError naming agent %s at epoch 3", err, w.agent.GetId())
	}
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("late reply code %v, want FAILED_PRECONDITION underneath", connect.CodeOf(err))
	}
	if n := calls.count(batonv1connect.ConversationServiceSendMessageProcedure) - sends; n != 1 {
		t.Errorf("the refused reply was sent %d times, want once (never retried)", n)
	}

	need(w.agentAPI.Handovers.Handback(ctx, &batonv1.HandbackRequest{
		ConversationId: conv.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED, Summary: "parcel found",
	}))(t)
	r := receive(t, sb.returned, "the conversation's return")
	if r.From.GetId() != w.agent.GetId() || r.Outcome() != batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED || r.Summary() != "parcel found" {
		t.Fatalf("returned from %v with %v %q, want the agent, resolved, \"parcel found\"", r.From, r.Outcome(), r.Summary())
	}
	if got := s.outbound(conv.GetId()); !slices.Equal(got, []string{"You said: hello", "Welcome back!"}) {
		t.Fatalf("the customer got %q", got)
	}
}

func TestStreamStory(t *testing.T) {
	s := startServer(t)
	w := s.world()
	var calls counter
	sb := newStoryBot()
	b := &bot.Bot{Client: client.New(s.url, w.botKey, client.WithClientOptions(connect.WithInterceptors(calls.interceptor()))), Handlers: sb.handlers()}
	runStream(t, b, bot.StreamOptions{Cursor: cursorAt(0)})
	playStory(t, s, w, sb, &calls)
}

func TestWebhookStory(t *testing.T) {
	s := startServer(t)
	w := s.world()
	var calls counter
	sb := newStoryBot()
	b := &bot.Bot{Client: client.New(s.url, w.botKey, client.WithClientOptions(connect.WithInterceptors(calls.interceptor()))), Handlers: sb.handlers()}
	registerWebhook(t, s, w, b)
	playStory(t, s, w, sb, &calls)
}

// runStream runs b.Stream until the test ends.
func runStream(t *testing.T, b *bot.Bot, opts bot.StreamOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Stream(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Stream: %v", err)
		}
	})
}

// cursorAt is a cursor that starts the stream after seq (0: from the first event), so that a
// test's events are not stored before the stream opens.
func cursorAt(seq uint64) *bot.MemoryCursor {
	c := &bot.MemoryCursor{}
	c.Save(context.Background(), seq)
	return c
}

// endpoint is a bot's webhook endpoint on loopback; seen reports every request it answered.
type endpoint struct {
	url     string
	secret  string
	webhook *batonv1.Webhook
	seen    chan answered
}

type answered struct {
	id     string
	status int
}

// registerWebhook serves b's webhook handler on loopback, registers it for the bot with the
// bot's own key, and verifies it.
func registerWebhook(t *testing.T, s *server, w world, b *bot.Bot) *endpoint {
	t.Helper()
	ctx := context.Background()
	var handler atomic.Pointer[http.Handler]
	ep := &endpoint{seen: make(chan answered, 256)}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		(*handler.Load()).ServeHTTP(rec, r)
		ep.seen <- answered{id: r.Header.Get("webhook-id"), status: rec.status}
	}))
	t.Cleanup(srv.Close)
	ep.url = srv.URL
	botAPI := client.New(s.url, w.botKey)
	created := need(botAPI.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: srv.URL}))(t)
	ep.secret = created.GetSecret()
	h, err := b.Webhook(bot.WebhookOptions{Secrets: []string{ep.secret}})
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(&h)
	ep.webhook = need(botAPI.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: created.GetWebhook().GetId()}))(t).GetWebhook()
	if ep.webhook.GetState() != batonv1.WebhookState_WEBHOOK_STATE_ACTIVE {
		t.Fatalf("webhook %v after verification", ep.webhook.GetState())
	}
	return ep
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
