package bot_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// countingBot counts the customer messages it handled, by channel message id.
type countingBot struct {
	mu      sync.Mutex
	counts  map[string]int
	handled chan string
}

func newCountingBot() *countingBot {
	return &countingBot{counts: map[string]int{}, handled: make(chan string, 64)}
}

func (c *countingBot) handlers() bot.Handlers {
	return bot.Handlers{Message: func(ctx context.Context, _ *bot.Conversation, m *batonv1.Message) error {
		c.mu.Lock()
		c.counts[m.GetChannelMessageId()]++
		c.mu.Unlock()
		c.handled <- m.GetChannelMessageId()
		return nil
	}}
}

func (c *countingBot) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[id]
}

func TestWebhookRepeatedDeliveryIsHandledOnce(t *testing.T) {
	s := startServer(t)
	w := s.world()
	cb := newCountingBot()
	b := &bot.Bot{Client: client.New(s.url, w.botKey), Handlers: cb.handlers()}
	ep := registerWebhook(t, s, w, b)
	ctx := context.Background()

	s.ingest(w.channel.GetId(), "ada", "m-1", "hello")
	if got := receive(t, cb.handled, "the message"); got != "m-1" {
		t.Fatalf("handled %s", got)
	}
	var delivery *batonv1.Delivery
	waitFor(t, "the message's delivery to be recorded as delivered", func() bool {
		for _, d := range need(s.admin.Bots.ListDeliveries(ctx, &batonv1.ListDeliveriesRequest{WebhookId: ep.webhook.GetId()}))(t).GetDeliveries() {
			if d.GetEventType() == batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED && d.GetState() == batonv1.DeliveryState_DELIVERY_STATE_DELIVERED {
				delivery = d
				return true
			}
		}
		return false
	})

	// Baton sends it again, with the same webhook-id: acknowledged, not handled again.
	need(s.admin.Bots.Redeliver(ctx, &batonv1.RedeliverRequest{DeliveryId: delivery.GetId()}))(t)
	for n := 0; n < 2; {
		a := receive(t, ep.seen, "the repeated delivery")
		if a.id != delivery.GetId() {
			continue
		}
		if a.status != http.StatusNoContent {
			t.Fatalf("delivery %s answered %d", a.id, a.status)
		}
		n++
	}
	if n := cb.count("m-1"); n != 1 {
		t.Fatalf("message handled %d times, want once", n)
	}
}

// signed builds a delivery of ev as Baton sends it, signed with secret at ts.
func signed(t *testing.T, url, secret, id string, ts time.Time, ev *batonv1.SubscribedEvent) *http.Request {
	t.Helper()
	data, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"message.received","timestamp":"` + ts.UTC().Format(time.RFC3339) + `","data":` + string(data) + `}`)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	return req
}

func messageEvent(id string) *batonv1.SubscribedEvent {
	return &batonv1.SubscribedEvent{Responsible: true, Event: &batonv1.Event{
		Id: "ev_" + id, Sequence: 7, Type: batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED, ConversationId: "conv_1", BotId: "bot_1", Epoch: 1,
		Message: &batonv1.Message{Id: "msg_" + id, ChannelMessageId: id, Content: bot.Text("hi")},
	}}
}

func newSecret() string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(rand.Text()))
}

// serveBot serves b's webhook handler with opts on loopback and returns its URL.
func serveBot(t *testing.T, b *bot.Bot, opts bot.WebhookOptions) string {
	t.Helper()
	h, err := b.Webhook(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	cb := newCountingBot()
	secret, other := newSecret(), newSecret()
	url := serveBot(t, &bot.Bot{Handlers: cb.handlers()}, bot.WebhookOptions{Secrets: []string{secret}})
	now := time.Now()

	refused := map[string]*http.Request{
		"another secret's signature": signed(t, url, other, "d-1", now, messageEvent("m-1")),
		"a stale timestamp":          signed(t, url, secret, "d-2", now.Add(-6*time.Minute), messageEvent("m-2")),
		"a timestamp in the future":  signed(t, url, secret, "d-3", now.Add(6*time.Minute), messageEvent("m-3")),
	}
	unsigned := signed(t, url, secret, "d-4", now, messageEvent("m-4"))
	unsigned.Header.Del("webhook-signature")
	refused["no signature"] = unsigned
	changed := signed(t, url, secret, "d-5", now, messageEvent("m-5"))
	changed.Header.Set("webhook-id", "d-6") // the signature covers the id
	refused["another id"] = changed

	for name, req := range refused {
		if status := do(t, req); status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d, want 401", name, status)
		}
	}
	for _, id := range []string{"m-1", "m-2", "m-3", "m-4", "m-5"} {
		if n := cb.count(id); n != 0 {
			t.Errorf("the handler ran for %s", id)
		}
	}
	// The same delivery, signed right, runs the handler.
	if status := do(t, signed(t, url, secret, "d-7", now, messageEvent("m-7"))); status != http.StatusNoContent || cb.count("m-7") != 1 {
		t.Fatalf("a good signature: %d, handled %d times", status, cb.count("m-7"))
	}
}

func TestWebhookAcceptsEitherSecretDuringARotation(t *testing.T) {
	cb := newCountingBot()
	old, rotated := newSecret(), newSecret()
	url := serveBot(t, &bot.Bot{Handlers: cb.handlers()}, bot.WebhookOptions{Secrets: []string{old, rotated}})
	for i, secret := range []string{old, rotated} {
		id := "m-" + strconv.Itoa(i)
		if status := do(t, signed(t, url, secret, "d-"+id, time.Now(), messageEvent(id))); status != http.StatusNoContent || cb.count(id) != 1 {
			t.Errorf("signed with secret %d: %d, handled %d times", i, status, cb.count(id))
		}
	}
}

// TestWebhookConcurrentRepeatsRunOnce sends one delivery many times at once, as a lease
// ending during a slow handler makes Baton do: the handler runs once and every copy gets 2xx.
// The handler holds the first run until every copy has reached the endpoint.
func TestWebhookConcurrentRepeatsRunOnce(t *testing.T) {
	const copies = 8
	secret := newSecret()
	var runs atomic.Int32
	arrived, release := make(chan struct{}, copies), make(chan struct{})
	b := &bot.Bot{Handlers: bot.Handlers{Message: func(ctx context.Context, _ *bot.Conversation, _ *batonv1.Message) error {
		runs.Add(1)
		<-release
		return nil
	}}}
	h, err := b.Webhook(bot.WebhookOptions{Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	statuses := make(chan int, copies)
	for range copies {
		req := signed(t, srv.URL, secret, "d-1", time.Now(), messageEvent("m-1"))
		go func() { statuses <- do(t, req) }()
	}
	for range copies {
		receive(t, arrived, "a copy")
	}
	close(release)
	for range copies {
		if s := receive(t, statuses, "an answer"); s != http.StatusNoContent {
			t.Errorf("a copy was answered %d", s)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want once", n)
	}
}

// TestWebhookHandlerFailureIsNotAcknowledged: a failing handler makes the answer a 500, and the
// same delivery, sent again, runs the handler again.
func TestWebhookHandlerFailureIsNotAcknowledged(t *testing.T) {
	secret := newSecret()
	var runs atomic.Int32
	b := &bot.Bot{Handlers: bot.Handlers{Message: func(ctx context.Context, _ *bot.Conversation, _ *batonv1.Message) error {
		if runs.Add(1) == 1 {
			return context.DeadlineExceeded
		}
		return nil
	}}}
	url := serveBot(t, b, bot.WebhookOptions{Secrets: []string{secret}})
	if s := do(t, signed(t, url, secret, "d-1", time.Now(), messageEvent("m-1"))); s != http.StatusInternalServerError {
		t.Fatalf("failing handler answered %d, want 500", s)
	}
	if s := do(t, signed(t, url, secret, "d-1", time.Now(), messageEvent("m-1"))); s != http.StatusNoContent || runs.Load() != 2 {
		t.Fatalf("the repeat answered %d after %d runs, want 204 after 2", s, runs.Load())
	}
}

func do(t *testing.T, req *http.Request) int {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// waitFor polls cond until it holds, failing the test after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
