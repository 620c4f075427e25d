package serve_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
)

// clock is a test clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a real Baton server on a loopback port, over a real SQLite file, with a clock
// and a span recorder the test controls.
type harness struct {
	t     testing.TB
	srv   *serve.Server
	url   string
	clock *clock
	spans *tracetest.SpanRecorder
	admin *client.Client
	// stop shuts the server down and closes its store; it runs at the end of the test if the
	// test did not run it first.
	stop func()
}

func start(t testing.TB, configure ...func(*serve.Config)) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, st, &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, configure...)
}

// startOn serves st on a loopback port; the server closes st when the test ends.
func startOn(t testing.TB, st store.Store, clk *clock, configure ...func(*serve.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	cfg := serve.Config{
		Store:          st,
		Clock:          clk,
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
		TimerInterval:  -1, // the test runs timers itself
	}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := serve.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	// The grace is above net/http's 5 s allowance for connections that were opened but never
	// sent a request (a client may leave one behind when it cancels a call).
	go func() { done <- srv.Serve(serveCtx, l, 15*time.Second) }()
	h := &harness{t: t, srv: srv, url: "http://" + l.Addr().String(), clock: clk, spans: spans}
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			http.DefaultClient.CloseIdleConnections()
			stop()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			st.Close()
		})
	}
	t.Cleanup(h.stop)
	_, secret, err := srv.App().CreateAPIKey(ctx, domain.Principal{Role: domain.PrincipalAdmin, KeyID: "test"}, "admin", domain.PrincipalAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	h.admin = h.client(secret)
	return h
}

func (h *harness) client(key string, opts ...client.Option) *client.Client {
	return client.New(h.url, key, opts...)
}

// key creates an API key through the API and returns a client using it.
func (h *harness) key(role batonv1.Role, subject string) *client.Client {
	h.t.Helper()
	res, err := h.admin.APIKeys.CreateApiKey(context.Background(), &batonv1.CreateApiKeyRequest{Role: role, SubjectId: subject})
	if err != nil {
		h.t.Fatalf("create %v key: %v", role, err)
	}
	return h.client(res.GetSecret())
}

// world is a channel with a bound bot, and agents in the default queue.
type world struct {
	channel  *batonv1.Channel
	bot      *batonv1.Bot
	botAPI   *client.Client
	agents   []*batonv1.Agent
	agentAPI []*client.Client
}

func (h *harness) world(agents int) world {
	h.t.Helper()
	ctx := context.Background()
	ch := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site-" + h.t.Name(), DisplayName: "Website",
	}))(h.t).GetChannel()
	bot := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Helper bot"}))(h.t).GetBot()
	need(h.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: bot.GetId(), ChannelId: ch.GetId()}))(h.t)
	w := world{channel: ch, bot: bot, botAPI: h.key(batonv1.Role_ROLE_BOT, bot.GetId())}
	for range agents {
		ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
			DisplayName: "Agent", QueueIds: []string{domain.DefaultQueueID}, Capacity: 2,
		}))(h.t).GetAgent()
		api := h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
		need(api.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(h.t)
		w.agents = append(w.agents, ag)
		w.agentAPI = append(w.agentAPI, api)
	}
	return w
}

// ingest posts a customer's text message as the admin (standing in for a channel adapter).
func (h *harness) ingest(channelID, customer, messageID, text string) *batonv1.IngestMessageResponse {
	h.t.Helper()
	return need(h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
		ChannelId:        channelID,
		Contact:          &batonv1.ContactProfile{ExternalId: customer, DisplayName: "Customer " + customer},
		ChannelMessageId: messageID,
		Content:          text_(text),
	}))(h.t)
}

func text_(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

// need unwraps a call's result, failing the test when the call failed:
// need(c.Get(ctx, req))(t).
func need[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// code returns the Connect code of err, or 0 when err is nil.
func code(err error) connect.Code {
	if err == nil {
		return 0
	}
	return connect.CodeOf(err)
}

// ownershipInfo returns the OwnershipInfo detail of a refused call.
func ownershipInfo(t *testing.T, err error) *batonv1.OwnershipInfo {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a connect error: %v", err)
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if info, ok := v.(*batonv1.OwnershipInfo); ok {
			return info
		}
	}
	t.Fatalf("no OwnershipInfo detail on %v", err)
	return nil
}

// subscription collects a Subscribe stream's events on a goroutine.
type subscription struct {
	events chan *batonv1.SubscribedEvent
	cancel context.CancelFunc
	done   chan error
}

func subscribe(t *testing.T, c *client.Client, req *batonv1.SubscribeRequest) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.Events.Subscribe(ctx, req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &subscription{events: make(chan *batonv1.SubscribedEvent, 1024), cancel: cancel, done: make(chan error, 1)}
	go func() {
		defer close(s.events)
		for stream.Receive() {
			for _, e := range stream.Msg().GetEvents() {
				s.events <- e
			}
		}
		s.done <- stream.Err()
	}()
	t.Cleanup(func() { cancel(); stream.Close() })
	return s
}

// next returns the next n events, failing the test if they do not arrive within a generous
// bound (a guard against hanging, not a synchronisation).
func (s *subscription) next(t *testing.T, n int) []*batonv1.SubscribedEvent {
	t.Helper()
	var out []*batonv1.SubscribedEvent
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case e, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended after %d of %d events", len(out), n)
			}
			out = append(out, e)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

func types(events []*batonv1.SubscribedEvent) []batonv1.EventType {
	var out []batonv1.EventType
	for _, e := range events {
		out = append(out, e.GetEvent().GetType())
	}
	return out
}

// h2cClient speaks HTTP/2 without TLS, as gRPC needs.
func h2cClient() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}
