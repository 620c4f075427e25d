package serve_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
	"github.com/batonhq/baton/server/store/sqlite"
	"github.com/batonhq/baton/server/webhook"
)

// endpoint is a bot's (or a data lake's) webhook endpoint on loopback: it echoes verification
// challenges and hands every delivery to the test, answering what the test's answer function
// says.
type endpoint struct {
	srv        *httptest.Server
	deliveries chan delivery
	mu         sync.Mutex
	answer     func(d delivery, w http.ResponseWriter) // nil: 204
	echo       bool
}

// delivery is one request the endpoint received.
type delivery struct {
	header http.Header
	body   []byte
	// Decoded body.
	Type string                   `json:"type"`
	Data json.RawMessage          `json:"data"`
	ev   *batonv1.SubscribedEvent // from Data, for event deliveries
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{deliveries: make(chan delivery, 1024), echo: true}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d := delivery{header: r.Header.Clone(), body: body}
	if err := json.Unmarshal(body, &d); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	echo, answer := e.echo, e.answer
	e.mu.Unlock()
	if d.Type == "webhook.verification" {
		if echo {
			w.Write(d.Data) // {"challenge": "..."}
		}
		return
	}
	d.ev = &batonv1.SubscribedEvent{}
	if err := protojson.Unmarshal(d.Data, d.ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.deliveries <- d
	if answer == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	answer(d, w)
}

// set changes how the endpoint answers deliveries from now on.
func (e *endpoint) set(answer func(d delivery, w http.ResponseWriter)) {
	e.mu.Lock()
	e.answer = answer
	e.mu.Unlock()
}

func (e *endpoint) setEcho(echo bool) {
	e.mu.Lock()
	e.echo = echo
	e.mu.Unlock()
}

// next returns the next n deliveries, failing the test if they do not come within a generous
// bound (a guard against hanging, not a synchronisation).
func (e *endpoint) next(t *testing.T, n int) []delivery {
	t.Helper()
	var out []delivery
	timeout := time.After(15 * time.Second)
	for len(out) < n {
		select {
		case d := <-e.deliveries:
			out = append(out, d)
		case <-timeout:
			t.Fatalf("got %d of %d deliveries", len(out), n)
		}
	}
	return out
}

var loopbackNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// await returns the next delivery that matches, skipping the others.
func (e *endpoint) await(t *testing.T, match func(delivery) bool) delivery {
	t.Helper()
	for {
		if d := e.next(t, 1)[0]; match(d) {
			return d
		}
	}
}

func ofType(typ batonv1.EventType) func(delivery) bool {
	return func(d delivery) bool { return d.ev.GetEvent().GetType() == typ }
}

// loopback lets webhooks reach the test's endpoints, with retries exactly on schedule.
func loopback(c *serve.Config) {
	c.Webhooks.AllowNetworks = loopbackNetworks
	c.Webhooks.Retry = domain.RetryPolicy{Schedule: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 40 * time.Minute}}
}

// hook registers and verifies a webhook for the bot (a firehose when botID is empty) and
// returns it with its secret.
func (h *harness) hook(c interface {
	CreateWebhook(context.Context, *batonv1.CreateWebhookRequest) (*batonv1.CreateWebhookResponse, error)
	VerifyWebhook(context.Context, *batonv1.VerifyWebhookRequest) (*batonv1.VerifyWebhookResponse, error)
}, req *batonv1.CreateWebhookRequest) (*batonv1.Webhook, string) {
	h.t.Helper()
	ctx := context.Background()
	created := need(c.CreateWebhook(ctx, req))(h.t)
	if s := created.GetWebhook().GetState(); s != batonv1.WebhookState_WEBHOOK_STATE_PENDING_VERIFICATION {
		h.t.Fatalf("new webhook is %v", s)
	}
	w := need(c.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: created.GetWebhook().GetId()}))(h.t).GetWebhook()
	if w.GetState() != batonv1.WebhookState_WEBHOOK_STATE_ACTIVE {
		h.t.Fatalf("verified webhook is %v", w.GetState())
	}
	return w, created.GetSecret()
}

func (h *harness) deliveries(webhookID string) []*batonv1.Delivery {
	h.t.Helper()
	return need(h.admin.Bots.ListDeliveries(context.Background(), &batonv1.ListDeliveriesRequest{WebhookId: webhookID, PageSize: 1000}))(h.t).GetDeliveries()
}

// verifySignature checks a delivery with the Standard Webhooks reference library.
func verifySignature(t *testing.T, secret string, d delivery) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	// The test clock is not the wall clock, so the timestamp's freshness is not the point.
	if err := wh.VerifyIgnoringTimestamp(d.body, d.header); err != nil {
		t.Errorf("signature does not verify: %v (headers %v)", err, d.header)
	}
}

func TestWebhookDeliversSignedTracedEvents(t *testing.T) {
	h := start(t, loopback)
	w := h.world(0)
	ep := newEndpoint(t)
	hook, secret := h.hook(w.botAPI.Bots, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL})

	// The bot hears of its webhook's activation, then of its first customer.
	if d := ep.next(t, 1)[0]; d.Type != "webhook.activated" || d.ev.GetEvent().GetWebhook().GetId() != hook.GetId() {
		t.Fatalf("first delivery: %s %v", d.Type, d.ev)
	}
	in := h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	var types []string
	got := ep.next(t, 3)
	for _, d := range got {
		types = append(types, d.Type)
	}
	if want := "conversation.created,conversation.owner_changed,message.received"; strings.Join(types, ",") != want {
		t.Fatalf("delivered %v, want %s", types, want)
	}
	d := got[2]
	verifySignature(t, secret, d)
	ev := d.ev.GetEvent()
	if ev.GetMessage().GetId() != in.GetMessage().GetId() || !d.ev.GetResponsible() {
		t.Errorf("delivered %v, responsible %v; want message %s, responsible", ev, d.ev.GetResponsible(), in.GetMessage().GetId())
	}
	if id := d.header.Get("webhook-id"); id != domain.DeliveryID(hook.GetId(), ev.GetId()) {
		t.Errorf("webhook-id %q", id)
	}

	// The delivery continues the trace of the request that stored the message.
	tp := d.header.Get("traceparent")
	ingestTrace := ""
	for _, s := range h.spans.Ended() {
		if strings.HasSuffix(s.Name(), "/IngestMessage") {
			ingestTrace = s.SpanContext().TraceID().String()
		}
	}
	if ingestTrace == "" || !strings.Contains(tp, ingestTrace) {
		t.Errorf("traceparent %q is not in the ingest's trace %s", tp, ingestTrace)
	}

	waitFor(t, "the delivery to be recorded", func() bool {
		return h.deliveries(hook.GetId())[0].GetState() == batonv1.DeliveryState_DELIVERY_STATE_DELIVERED
	})
	log := h.deliveries(hook.GetId())
	if len(log) != 4 || log[0].GetState() != batonv1.DeliveryState_DELIVERY_STATE_DELIVERED ||
		len(log[0].GetAttempts()) != 1 || log[0].GetAttempts()[0].GetStatusCode() != 204 {
		t.Errorf("delivery log: %v", log)
	}
}

func TestWebhookVerificationHandshake(t *testing.T) {
	h := start(t, loopback)
	w := h.world(0)
	ep := newEndpoint(t)
	ep.setEcho(false)
	ctx := context.Background()
	created := need(w.botAPI.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL}))(t)
	id := created.GetWebhook().GetId()

	_, err := w.botAPI.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: id})
	if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "challenge") {
		t.Fatalf("verify against a non-echoing endpoint: %v", err)
	}
	// Nothing is recorded for an unverified webhook.
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	if log := h.deliveries(id); len(log) != 0 {
		t.Fatalf("unverified webhook has deliveries: %v", log)
	}

	ep.setEcho(true)
	hook := need(w.botAPI.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: id}))(t).GetWebhook()
	if hook.GetState() != batonv1.WebhookState_WEBHOOK_STATE_ACTIVE || hook.GetVerifyTime() == nil {
		t.Fatalf("after the echo: %v", hook)
	}
	h.ingest(w.channel.GetId(), "alice", "m2", "again")
	if d := ep.await(t, ofType(batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED)); d.ev.GetEvent().GetMessage().GetChannelMessageId() != "m2" {
		t.Errorf("first delivery after verification: %v", d.ev)
	}
}

func TestWebhookOrderPerConversationWithoutBlockingOthers(t *testing.T) {
	onBothStores(t, orderPerConversation)
}

func orderPerConversation(t *testing.T, h *harness) {
	w := h.world(0)
	ep := newEndpoint(t)
	// Alice's first message is held at the endpoint until the test lets it go.
	release := make(chan struct{})
	held := make(chan struct{})
	var once sync.Once
	ep.set(func(d delivery, rw http.ResponseWriter) {
		if d.ev.GetEvent().GetMessage().GetChannelMessageId() == "alice-1" {
			once.Do(func() { close(held) })
			<-release
		}
		rw.WriteHeader(http.StatusOK)
	})
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		BotId: w.bot.GetId(), Url: ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	h.ingest(w.channel.GetId(), "alice", "alice-1", "one")
	<-held
	for i := range 3 {
		h.ingest(w.channel.GetId(), "alice", "alice-"+string(rune('2'+i)), "more")
		h.ingest(w.channel.GetId(), "bob", "bob-"+string(rune('1'+i)), "bob")
	}
	// Bob's messages all arrive while Alice's first is still held: nothing of Alice's may.
	for _, d := range ep.next(t, 4)[1:] {
		if id := d.ev.GetEvent().GetMessage().GetChannelMessageId(); !strings.HasPrefix(id, "bob-") {
			t.Fatalf("%s was delivered while alice-1 was held", id)
		}
	}
	close(release)
	var alice []string
	for _, d := range ep.next(t, 3) {
		alice = append(alice, d.ev.GetEvent().GetMessage().GetChannelMessageId())
	}
	if strings.Join(alice, ",") != "alice-2,alice-3,alice-4" {
		t.Errorf("alice's later messages arrived as %v", alice)
	}
	if n := len(h.deliveries(hook.GetId())); n != 7 {
		t.Errorf("%d deliveries logged, want 7", n)
	}
}

func TestWebhookRetryScheduleDeadLetterAndRedeliver(t *testing.T) {
	h := start(t, loopback, func(c *serve.Config) {
		c.Webhooks.Retry.Schedule = []time.Duration{time.Minute, 5 * time.Minute}
	})
	w := h.world(0)
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) { rw.WriteHeader(http.StatusInternalServerError) })
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL, // a firehose of customer messages
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	start := h.clock.Now()

	// Attempt 1 fails: the retry is due one minute later, exactly (no jitter here).
	ep.next(t, 1)
	waitAttempts(t, h, hook.GetId(), 1)
	d := h.deliveries(hook.GetId())[0]
	if got := d.GetNextAttemptTime().AsTime(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("retry due at %v, want %v", got, start.Add(time.Minute))
	}
	h.clock.Advance(time.Minute)
	h.srv.KickDeliveries()
	ep.next(t, 1) // attempt 2
	waitAttempts(t, h, hook.GetId(), 2)
	if got := h.deliveries(hook.GetId())[0].GetNextAttemptTime().AsTime(); !got.Equal(h.clock.Now().Add(5 * time.Minute)) {
		t.Fatalf("second retry due at %v", got)
	}
	h.clock.Advance(5 * time.Minute)
	h.srv.KickDeliveries()
	ep.next(t, 1) // attempt 3, the last of the schedule
	waitAttempts(t, h, hook.GetId(), 3)
	d = h.deliveries(hook.GetId())[0]
	if d.GetState() != batonv1.DeliveryState_DELIVERY_STATE_DEAD {
		t.Fatalf("after the schedule: %v", d)
	}
	for _, a := range d.GetAttempts() {
		if a.GetStatusCode() != 500 || a.GetError() == "" {
			t.Errorf("attempt %v", a)
		}
	}

	// An operator finds it among the dead letters and redelivers it; the endpoint is fixed.
	dead := need(h.admin.Bots.ListDeliveries(context.Background(), &batonv1.ListDeliveriesRequest{
		WebhookId: hook.GetId(), States: []batonv1.DeliveryState{batonv1.DeliveryState_DELIVERY_STATE_DEAD},
	}))(t).GetDeliveries()
	if len(dead) != 1 {
		t.Fatalf("dead letters: %v", dead)
	}
	ep.set(nil)
	need(h.admin.Bots.Redeliver(context.Background(), &batonv1.RedeliverRequest{DeliveryId: dead[0].GetId()}))(t)
	if got := ep.next(t, 1)[0].header.Get("webhook-id"); got != dead[0].GetId() {
		t.Errorf("redelivered as %q, want the same id %q", got, dead[0].GetId())
	}
	waitAttempts(t, h, hook.GetId(), 4)
	if d := h.deliveries(hook.GetId())[0]; d.GetState() != batonv1.DeliveryState_DELIVERY_STATE_DELIVERED {
		t.Errorf("after redelivery: %v", d)
	}
}

// waitAttempts waits until the webhook's newest delivery has n attempts recorded: the endpoint
// answers before Baton records, so the log trails what the endpoint saw by a moment.
func waitAttempts(t *testing.T, h *harness, webhookID string, n int) {
	t.Helper()
	waitFor(t, "attempts to be recorded", func() bool {
		log := h.deliveries(webhookID)
		return len(log) > 0 && len(log[0].GetAttempts()) >= n
	})
}

func TestWebhookHonoursRetryAfter(t *testing.T) {
	h := start(t, loopback)
	w := h.world(0)
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) {
		rw.Header().Set("Retry-After", "600")
		rw.WriteHeader(http.StatusTooManyRequests)
	})
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	ep.next(t, 1)
	waitAttempts(t, h, hook.GetId(), 1)
	d := h.deliveries(hook.GetId())[0]
	if got, want := d.GetNextAttemptTime().AsTime(), h.clock.Now().Add(10*time.Minute); !got.Equal(want) {
		t.Errorf("after 429 with Retry-After 600: due %v, want %v", got, want)
	}
}

// onBothStores runs a test on SQLite and on PostgreSQL (skipped without a test database).
func onBothStores(t *testing.T, test func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) { test(t, start(t, loopback)) })
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(t.Context(), pgtest.URL(t), postgres.WithKeys(pgtest.Keys))
		if err != nil {
			t.Fatal(err)
		}
		test(t, startOn(t, st, &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, loopback))
	})
}

func TestWebhookInactiveAfterFiveFailuresHandsOffAndKeepsEverything(t *testing.T) {
	onBothStores(t, inactiveAfterFiveFailures)
}

func inactiveAfterFiveFailures(t *testing.T, h *harness) {
	w := h.world(0)
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) { rw.WriteHeader(http.StatusBadGateway) })
	hook, _ := h.hook(w.botAPI.Bots, &batonv1.CreateWebhookRequest{
		BotId: w.bot.GetId(), Url: ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	ctx := context.Background()
	customers := []string{"c1", "c2", "c3", "c4", "c5"}
	for _, c := range customers {
		h.ingest(w.channel.GetId(), c, c+"-1", "hi")
	}
	ep.next(t, 5) // one failed attempt each: five in a row
	waitFor(t, "the webhook to turn inactive", func() bool {
		return need(h.admin.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: hook.GetId()}))(t).GetWebhook().GetState() == batonv1.WebhookState_WEBHOOK_STATE_INACTIVE
	})
	got := need(h.admin.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: hook.GetId()}))(t).GetWebhook()
	if got.GetConsecutiveFailures() != 5 || !strings.Contains(got.GetInactiveReason(), "5 consecutive") {
		t.Errorf("inactive webhook: %v", got)
	}
	// The policy (handoff, by default) left no customer with a bot that cannot hear them.
	bot := need(h.admin.Bots.GetBot(ctx, &batonv1.GetBotRequest{BotId: w.bot.GetId()}))(t).GetBot()
	if !bot.GetUnreachable() {
		t.Error("the bot is not marked unreachable")
	}
	convs := need(h.admin.Conversations.ListConversations(ctx, &batonv1.ListConversationsRequest{}))(t).GetConversations()
	for _, c := range convs {
		if c.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
			t.Errorf("conversation %s owned by %v after the bot's webhook went inactive", c.GetId(), c.GetOwner())
		}
	}
	var events []*batonv1.Event
	waitFor(t, "the deactivation event", func() bool {
		events = need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
			Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_WEBHOOK_DEACTIVATED},
		}}))(t).GetEvents()
		return len(events) > 0
	})
	if len(events) != 1 || events[0].GetWebhook().GetId() != hook.GetId() {
		t.Errorf("deactivation events: %v", events)
	}

	// While inactive, deliveries are recorded and wait; a new customer goes to the queue.
	in := h.ingest(w.channel.GetId(), "c6", "c6-1", "anyone?")
	if in.GetConversation().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Errorf("a new conversation went to %v while the bot is unreachable", in.GetConversation().GetOwner())
	}

	// The endpoint recovers and passes verification: every waiting delivery leaves, nothing lost.
	// (The bot never owned c6's conversation, so it gets nothing of it.)
	ep.set(nil)
	need(w.botAPI.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: hook.GetId()}))(t)
	seen := map[string]bool{}
	for _, d := range ep.next(t, 5) {
		seen[d.ev.GetEvent().GetMessage().GetChannelMessageId()] = true
	}
	for _, c := range customers {
		if !seen[c+"-1"] {
			t.Errorf("%s-1 never arrived after reactivation", c)
		}
	}
	if n := len(h.deliveries(hook.GetId())); n != 5 {
		t.Errorf("%d deliveries recorded, want 5", n)
	}
	if need(h.admin.Bots.GetBot(ctx, &batonv1.GetBotRequest{BotId: w.bot.GetId()}))(t).GetBot().GetUnreachable() {
		t.Error("the bot is still unreachable after verification")
	}
}

func TestWebhookGoneDisables(t *testing.T) {
	h := start(t, loopback)
	w := h.world(0)
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) { rw.WriteHeader(http.StatusGone) })
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		BotId: w.bot.GetId(), Url: ep.srv.URL, InactivePolicy: batonv1.InactivePolicy_INACTIVE_POLICY_KEEP,
	})
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	ep.next(t, 1)
	ctx := context.Background()
	waitFor(t, "the webhook to turn inactive", func() bool {
		return need(h.admin.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: hook.GetId()}))(t).GetWebhook().GetState() == batonv1.WebhookState_WEBHOOK_STATE_INACTIVE
	})
	// Under the keep policy the bot keeps its conversation.
	conv := need(h.admin.Conversations.ListConversations(ctx, &batonv1.ListConversationsRequest{}))(t).GetConversations()[0]
	if conv.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Errorf("under the keep policy the conversation went to %v", conv.GetOwner())
	}
}

func TestWebhookSlowEndpointTimesOut(t *testing.T) {
	h := start(t, loopback, func(c *serve.Config) { c.Webhooks.Timeout = 300 * time.Millisecond })
	w := h.world(0)
	ep := newEndpoint(t)
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	ep.set(func(_ delivery, rw http.ResponseWriter) { <-stuck })
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	ep.next(t, 1)
	waitAttempts(t, h, hook.GetId(), 1)
	a := h.deliveries(hook.GetId())[0].GetAttempts()[0]
	if a.GetStatusCode() != 0 || !strings.Contains(a.GetError(), "timed out") {
		t.Errorf("attempt against a slow endpoint: %v", a)
	}
}

func TestWebhookEndpointDroppingConnectionsIsRetried(t *testing.T) {
	h := start(t, loopback)
	w := h.world(0)
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) {
		conn, _, err := rw.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // no answer at all
		}
	})
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	ep.next(t, 1)
	waitAttempts(t, h, hook.GetId(), 1)
	d := h.deliveries(hook.GetId())[0]
	if a := d.GetAttempts()[0]; a.GetStatusCode() != 0 || a.GetError() == "" || d.GetState() != batonv1.DeliveryState_DELIVERY_STATE_PENDING {
		t.Fatalf("after a dropped connection: %v", d)
	}
	ep.set(nil)
	h.clock.Advance(2 * time.Minute)
	h.srv.KickDeliveries()
	ep.next(t, 1)
	waitAttempts(t, h, hook.GetId(), 2)
	if d := h.deliveries(hook.GetId())[0]; d.GetState() != batonv1.DeliveryState_DELIVERY_STATE_DELIVERED {
		t.Errorf("after the retry: %v", d)
	}
}

func TestWebhookSecretRotationSignsWithBoth(t *testing.T) {
	h := start(t, loopback)
	w := h.world(0)
	ep := newEndpoint(t)
	hook, oldSecret := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		BotId: w.bot.GetId(), Url: ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	ctx := context.Background()
	rotated := need(w.botAPI.Bots.RotateWebhookSecret(ctx, &batonv1.RotateWebhookSecretRequest{
		WebhookId: hook.GetId(), Overlap: durationpb.New(time.Hour),
	}))(t)
	if rotated.GetSecret() == oldSecret || rotated.GetWebhook().GetPreviousSecretExpireTime() == nil {
		t.Fatalf("rotation: %v", rotated)
	}
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	d := ep.next(t, 1)[0]
	verifySignature(t, oldSecret, d)
	verifySignature(t, rotated.GetSecret(), d)

	// After the overlap only the new secret signs.
	h.clock.Advance(time.Hour)
	h.ingest(w.channel.GetId(), "alice", "m2", "later")
	d = ep.next(t, 1)[0]
	verifySignature(t, rotated.GetSecret(), d)
	if n := len(strings.Fields(d.header.Get("webhook-signature"))); n != 1 {
		t.Errorf("%d signatures after the overlap", n)
	}
}

func TestWebhookStandbyAndFirehoseFilters(t *testing.T) {
	h := start(t, loopback)
	w := h.world(1)
	ctx := context.Background()
	botEP, lakeEP := newEndpoint(t), newEndpoint(t)
	h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: botEP.srv.URL})
	h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url: lakeEP.srv.URL,
		Filters: &batonv1.WebhookFilters{
			EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_OWNER_CHANGED},
			ChannelIds: []string{w.channel.GetId()},
		},
	})

	conv := h.ingest(w.channel.GetId(), "alice", "m1", "hello").GetConversation()
	ho := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
		ConversationId: conv.GetId(), Reason: "billing",
	}))(t).GetHandover()
	need(w.agentAPI[0].Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)

	// The bot hears the whole change in which it lost the conversation, no longer responsible...
	lost := botEP.await(t, ofType(batonv1.EventType_EVENT_TYPE_OWNER_CHANGED))
	for lost.ev.GetEvent().GetOwnerChange().GetFrom().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		lost = botEP.await(t, ofType(batonv1.EventType_EVENT_TYPE_OWNER_CHANGED))
	}
	if lost.ev.GetResponsible() || lost.ev.GetEvent().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Errorf("the bot's loss: %v", lost.ev)
	}
	// ...then, without standby, nothing of the agent's stretch; with standby, the rest flagged
	// not responsible: m3 is the next customer message it hears of, not m2.
	h.ingest(w.channel.GetId(), "alice", "m2", "still there?")
	need(h.admin.Bots.UpdateBot(ctx, &batonv1.UpdateBotRequest{BotId: w.bot.GetId(), Standby: ptr(true)}))(t)
	h.ingest(w.channel.GetId(), "alice", "m3", "hello?")
	d := botEP.await(t, ofType(batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED))
	for d.ev.GetEvent().GetMessage().GetChannelMessageId() == "m1" {
		d = botEP.await(t, ofType(batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED))
	}
	if id := d.ev.GetEvent().GetMessage().GetChannelMessageId(); id != "m3" || d.ev.GetResponsible() {
		t.Errorf("standby delivery: message %q responsible %v; want m3 not responsible", id, d.ev.GetResponsible())
	}

	// The data lake got exactly the ownership changes: to the bot, to the queue, to the agent.
	var owners []batonv1.OwnerKind
	for _, d := range lakeEP.next(t, 3) {
		if d.Type != "conversation.owner_changed" {
			t.Errorf("firehose filtered on owner changes received %s", d.Type)
		}
		owners = append(owners, d.ev.GetEvent().GetOwner().GetKind())
	}
	if want := []batonv1.OwnerKind{batonv1.OwnerKind_OWNER_KIND_BOT, batonv1.OwnerKind_OWNER_KIND_QUEUE, batonv1.OwnerKind_OWNER_KIND_AGENT}; !slices.Equal(owners, want) {
		t.Errorf("firehose owners %v, want %v", owners, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWebhookRefusesPrivateAddressesByDefault(t *testing.T) {
	h := start(t) // no allow-list
	w := h.world(0)
	ep := newEndpoint(t)
	ctx := context.Background()
	created := need(h.admin.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL}))(t)
	_, err := h.admin.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: created.GetWebhook().GetId()})
	if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("verifying a loopback endpoint: %v", err)
	}
	_, err = h.admin.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{Url: "ftp://example.com/hook"})
	if code(err) != connect.CodeInvalidArgument {
		t.Errorf("an ftp URL: %v", err)
	}
}

func TestWebhookAccess(t *testing.T) {
	h := start(t, loopback)
	w := h.world(1)
	ctx := context.Background()
	other := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Other"}))(t).GetBot()
	ep := newEndpoint(t)
	cases := []struct {
		name string
		call func() error
		want connect.Code
	}{
		{"bot registers another bot's webhook", func() error {
			_, err := w.botAPI.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: other.GetId(), Url: ep.srv.URL})
			return err
		}, connect.CodeNotFound},
		{"bot registers a firehose", func() error {
			_, err := w.botAPI.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{Url: ep.srv.URL})
			return err
		}, connect.CodePermissionDenied},
		{"agent lists webhooks", func() error {
			_, err := w.agentAPI[0].Bots.ListWebhooks(ctx, &batonv1.ListWebhooksRequest{})
			return err
		}, connect.CodePermissionDenied},
		{"second webhook for one bot", func() error {
			if _, err := w.botAPI.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL}); err != nil {
				return err
			}
			_, err := w.botAPI.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL})
			return err
		}, connect.CodeFailedPrecondition},
		{"range with end before start", func() error {
			_, err := h.admin.Bots.RedeliverRange(ctx, &batonv1.RedeliverRangeRequest{
				WebhookId: "wh_x", StartTime: timestamppb.New(h.clock.Now()), EndTime: timestamppb.New(h.clock.Now().Add(-time.Hour)),
			})
			return err
		}, connect.CodeInvalidArgument},
	}
	for _, c := range cases {
		if got := code(c.call()); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWebhookBacklogSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baton.db")
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	h1 := startOn(t, openSQLite(t, path), clk, loopback)
	ch := need(h1.admin.Channels.CreateChannel(context.Background(), &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site", DisplayName: "Website",
	}))(t).GetChannel()
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) { rw.WriteHeader(http.StatusServiceUnavailable) })
	hook, _ := h1.hook(h1.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	customers := []string{"a", "b", "c"}
	for i := 1; i <= 3; i++ {
		for _, c := range customers {
			h1.ingest(ch.GetId(), c, c+strconv.Itoa(i), "hi")
		}
	}
	ep.next(t, 3) // each conversation's first delivery fails; the rest wait behind it
	waitFor(t, "the failures to be recorded", func() bool {
		failed := 0
		for _, d := range h1.deliveries(hook.GetId()) {
			failed += len(d.GetAttempts())
		}
		return failed == 3
	})
	h1.stop()

	// Another process on the same database, once the endpoint is back, sends everything in order.
	ep.set(nil)
	clk.Advance(2 * time.Minute)
	h2 := startOn(t, openSQLite(t, path), clk, loopback)
	h2.srv.KickDeliveries()
	got := map[string][]string{}
	for _, d := range ep.next(t, 9) {
		m := d.ev.GetEvent().GetMessage().GetChannelMessageId()
		got[m[:1]] = append(got[m[:1]], m)
	}
	for _, c := range customers {
		if want := []string{c + "1", c + "2", c + "3"}; strings.Join(got[c], ",") != strings.Join(want, ",") {
			t.Errorf("customer %s's messages arrived as %v, want %v", c, got[c], want)
		}
	}
}

func TestWebhookOnAnAddressTheSSRFPolicyRefusesTurnsInactiveAtOnce(t *testing.T) {
	// The bot's endpoint passed verification on an allowed network. Then the SSRF policy
	// refuses its address: here the operator drops the network from the allow-list and
	// restarts; in the wild the endpoint's name comes to resolve to a private address.
	path := filepath.Join(t.TempDir(), "baton.db")
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	h1 := startOn(t, openSQLite(t, path), clk, loopback)
	w := h1.world(0)
	ep := newEndpoint(t)
	hook, _ := h1.hook(w.botAPI.Bots, &batonv1.CreateWebhookRequest{
		BotId: w.bot.GetId(), Url: ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	h1.stop()

	h := startOn(t, openSQLite(t, path), clk) // the SSRF guard as in production
	deactivations := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: new(uint64), Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_WEBHOOK_DEACTIVATED},
	}})
	in := h.ingest(w.channel.GetId(), "c1", "c1-1", "hi")

	// The first refused attempt makes the webhook inactive, saying why; no retry hour.
	const reason = "dial: address not allowed by the SSRF policy"
	if got := deactivations.next(t, 1)[0].GetEvent().GetWebhook(); got.GetId() != hook.GetId() || got.GetInactiveReason() != reason {
		t.Fatalf("deactivated webhook %s (%q), want %s (%q)", got.GetId(), got.GetInactiveReason(), hook.GetId(), reason)
	}
	ctx := context.Background()
	if got := need(h.admin.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: hook.GetId()}))(t).GetWebhook(); got.GetState() != batonv1.WebhookState_WEBHOOK_STATE_INACTIVE || got.GetInactiveReason() != reason {
		t.Errorf("webhook %v (%q), want inactive: %q", got.GetState(), got.GetInactiveReason(), reason)
	}
	// The delivery waits for the endpoint to pass verification again, nothing lost; the
	// customer waits in the queue rather than with a bot that cannot hear them.
	ds := h.deliveries(hook.GetId())
	if len(ds) != 1 || ds[0].GetState() != batonv1.DeliveryState_DELIVERY_STATE_PENDING ||
		len(ds[0].GetAttempts()) != 1 || ds[0].GetAttempts()[0].GetError() != reason {
		t.Errorf("deliveries %v, want one pending after one attempt refused: %q", ds, reason)
	}
	conv := need(h.admin.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: in.GetConversation().GetId()}))(t).GetConversation()
	if conv.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Errorf("the conversation is owned by %v, want the queue", conv.GetOwner())
	}
	if n := len(ep.deliveries); n != 0 {
		t.Errorf("the refused address got %d deliveries", n)
	}
}

func TestWebhookCrashAfterSendRedelivers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "baton.db")
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	ep := newEndpoint(t)

	// A replica claims a delivery, sends it, and dies before recording the answer.
	st := openSQLite(t, path)
	cfg := serve.Config{Store: st, Clock: clk, TimerInterval: -1}
	loopback(&cfg)
	crashed, err := serve.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, admin := crashed.App(), domain.Principal{Role: domain.PrincipalAdmin, KeyID: "test"}
	ch := need(a.CreateChannel(ctx, admin, domain.Channel{Kind: domain.ChannelWebchat, ExternalID: "site", DisplayName: "Website"}, ""))(t)
	hook, _ := need2(a.CreateWebhook(ctx, admin, app.WebhookSpec{URL: ep.srv.URL, EventTypes: []domain.EventType{domain.EventMessageReceived}}))(t)
	need(a.VerifyWebhook(ctx, admin, hook.ID))(t)
	need(a.Ingest(ctx, admin, app.Inbound{
		ChannelID: ch.ID, Contact: domain.Contact{ExternalID: "alice"}, ChannelMessageID: "m1",
		Content: json.RawMessage(`{"text":{"text":"hello"}}`),
	}))(t)
	jobs := need(a.ClaimDeliveries(ctx, 10))(t)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d deliveries", len(jobs))
	}
	client := webhook.NewClient(webhook.Config{AllowNetworks: cfg.Webhooks.AllowNetworks})
	if res := client.Send(ctx, jobs[0].Request); !res.OK() {
		t.Fatalf("send: %+v", res)
	}
	first := ep.next(t, 1)[0]

	// Another server takes over; once the dead sender's lease has run out, it sends again.
	h := startOn(t, st, clk, loopback)
	clk.Advance(2 * time.Minute)
	h.srv.KickDeliveries()
	again := ep.next(t, 1)[0]
	if id := again.header.Get("webhook-id"); id != first.header.Get("webhook-id") {
		t.Errorf("redelivered as %q, first sent as %q: the endpoint could not deduplicate", id, first.header.Get("webhook-id"))
	}
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// need2 is need for calls that return two values and an error.
func need2[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func TestWebhookRedeliverRange(t *testing.T) {
	h := start(t, loopback, func(c *serve.Config) { c.Webhooks.Retry.Schedule = []time.Duration{time.Minute} })
	w := h.world(0)
	ep := newEndpoint(t)
	ep.set(func(_ delivery, rw http.ResponseWriter) { rw.WriteHeader(http.StatusBadRequest) })
	hook, _ := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	// Two customers' messages die (two attempts each: four failures, below deactivation).
	from := h.clock.Now()
	h.ingest(w.channel.GetId(), "alice", "a1", "hello")
	h.ingest(w.channel.GetId(), "bob", "b1", "hello")
	ep.next(t, 2)
	waitFor(t, "first attempts", func() bool {
		log := h.deliveries(hook.GetId())
		return len(log[0].GetAttempts()) == 1 && len(log[1].GetAttempts()) == 1
	})
	h.clock.Advance(time.Minute)
	h.srv.KickDeliveries()
	ep.next(t, 2)
	dead := []batonv1.DeliveryState{batonv1.DeliveryState_DELIVERY_STATE_DEAD}
	ctx := context.Background()
	waitFor(t, "dead letters", func() bool {
		return len(need(h.admin.Bots.ListDeliveries(ctx, &batonv1.ListDeliveriesRequest{WebhookId: hook.GetId(), States: dead}))(t).GetDeliveries()) == 2
	})

	ep.set(nil)
	n := need(h.admin.Bots.RedeliverRange(ctx, &batonv1.RedeliverRangeRequest{
		WebhookId: hook.GetId(), StartTime: timestamppb.New(from), EndTime: timestamppb.New(h.clock.Now().Add(time.Second)),
	}))(t).GetCount()
	if n != 2 {
		t.Fatalf("redelivered %d, want 2", n)
	}
	got := map[string]bool{}
	for _, d := range ep.next(t, 2) {
		got[d.ev.GetEvent().GetMessage().GetChannelMessageId()] = true
	}
	if !got["a1"] || !got["b1"] {
		t.Errorf("redelivered %v", got)
	}
	// A range that holds nothing redelivers nothing.
	n = need(h.admin.Bots.RedeliverRange(ctx, &batonv1.RedeliverRangeRequest{
		WebhookId: hook.GetId(), StartTime: timestamppb.New(from.Add(-time.Hour)), EndTime: timestamppb.New(from),
	}))(t).GetCount()
	if n != 0 {
		t.Errorf("an empty range redelivered %d", n)
	}
}
