package bot_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store/sqlite"
)

// server is a real Baton on a loopback port over a SQLite file, on the wall clock (webhook
// signatures are checked against it). It can be stopped and started again on the same address
// and file.
type server struct {
	t     *testing.T
	path  string
	addr  string
	url   string
	srv   *serve.Server
	admin *client.Client
	stop  func()
}

func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, path: filepath.Join(t.TempDir(), "baton.db"), addr: "127.0.0.1:0"}
	s.start()
	_, secret, err := s.srv.App().CreateAPIKey(context.Background(), domain.Principal{Role: domain.PrincipalAdmin, KeyID: "test"}, "admin", domain.PrincipalAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	s.admin = client.New(s.url, secret)
	return s
}

// start serves the store at s.path on s.addr (a new port the first time, the same one after).
func (s *server) start() {
	t := s.t
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, s.path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(ctx, serve.Config{
		Store:         st,
		TimerInterval: -1,
		Webhooks:      serve.WebhookConfig{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.srv, s.addr, s.url = srv, l.Addr().String(), "http://"+l.Addr().String()
	serveCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, l, 15*time.Second) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			http.DefaultClient.CloseIdleConnections() // or shutdown waits out idle keep-alives
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			st.Close()
		})
	}
	t.Cleanup(s.stop)
}

// restart stops the server and serves the same file on the same address again.
func (s *server) restart() {
	s.stop()
	s.start()
}

// world is a web chat channel with a bound bot, and one online agent in the default queue.
type world struct {
	channel  *batonv1.Channel
	bot      *batonv1.Bot
	botKey   string
	agent    *batonv1.Agent
	agentAPI *client.Client
}

func (s *server) world() world {
	t := s.t
	t.Helper()
	ctx := context.Background()
	ch := need(s.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site", DisplayName: "Website",
	}))(t).GetChannel()
	b := need(s.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "FAQ bot"}))(t).GetBot()
	need(s.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: b.GetId(), ChannelId: ch.GetId()}))(t)
	ag := need(s.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Ada", QueueIds: []string{domain.DefaultQueueID}, Capacity: 5,
	}))(t).GetAgent()
	agentAPI := client.New(s.url, s.key(batonv1.Role_ROLE_AGENT, ag.GetId()))
	need(agentAPI.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	return world{channel: ch, bot: b, botKey: s.key(batonv1.Role_ROLE_BOT, b.GetId()), agent: ag, agentAPI: agentAPI}
}

func (s *server) key(role batonv1.Role, subject string) string {
	s.t.Helper()
	return need(s.admin.APIKeys.CreateApiKey(context.Background(), &batonv1.CreateApiKeyRequest{Role: role, SubjectId: subject}))(s.t).GetSecret()
}

// ingest posts a customer's text as the channel would.
func (s *server) ingest(channelID, customer, messageID, text string) *batonv1.IngestMessageResponse {
	s.t.Helper()
	return need(s.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
		ChannelId:        channelID,
		Contact:          &batonv1.ContactProfile{ExternalId: customer},
		ChannelMessageId: messageID,
		Content:          &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: text}}},
	}))(s.t)
}

// outbound returns the texts sent to the customer of a conversation, oldest first.
func (s *server) outbound(conversationID string) []string {
	s.t.Helper()
	msgs := need(s.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: conversationID, PageSize: 1000}))(s.t)
	var out []string
	for _, m := range msgs.GetMessages() {
		if m.GetDirection() == batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND {
			out = append(out, m.GetContent().GetText().GetText())
		}
	}
	return out
}

// need unwraps a call's result, failing the test when the call failed.
func need[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// receive returns the next value of ch, failing the test if none comes within a generous
// bound (a guard against hanging, not a synchronisation).
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s within 15 s", what)
		panic("unreachable")
	}
}

// counter counts the calls a client makes, by procedure.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counter) count(procedure string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[procedure]
}

func (c *counter) interceptor() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			c.mu.Lock()
			if c.calls == nil {
				c.calls = map[string]int{}
			}
			c.calls[req.Spec().Procedure]++
			c.mu.Unlock()
			return next(ctx, req)
		}
	})
}
