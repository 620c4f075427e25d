package serve_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// TestDatabaseOutageIsUnavailable cuts the server off its database (every connection broken,
// new ones refused) and checks what clients and channels hear: RPCs UNAVAILABLE with a retry
// hint and no SQL, channel webhooks 503 with Retry-After; and that both work again as soon as
// the database is back, with nothing acknowledged lost.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	proxy := pgtest.NewProxy(t, pgtest.URL(t))
	st, err := postgres.Open(t.Context(), proxy.URL, postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	// Keys and channels stay cached through the outage, so that calls reach the database.
	h := startOn(t, st, &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)},
		func(c *serve.Config) { c.CacheTTL = time.Hour })
	ctx := context.Background()
	w := h.world(1)
	tg := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM, "outage_bot", &batonv1.ChannelCredentials{
		AccessToken: "123456:ABC-DEF", WebhookSecret: "tg-secret-token",
	})
	conv := h.ingest(w.channel.GetId(), "cust", "m1", "before").GetConversation()
	if status, _ := h.telegramUpdate(tg.channel.GetId(), 1); status != http.StatusOK {
		t.Fatalf("webhook before the outage: %d", status)
	}

	proxy.Cut()
	calls := map[string]func() error{
		"IngestMessage": func() error {
			_, err := h.admin.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
				ChannelId: w.channel.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "cust"},
				ChannelMessageId: "m2", Content: text_("during"),
			})
			return err
		},
		"GetConversation": func() error {
			_, err := h.admin.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: conv.GetId()})
			return err
		},
		"SetPresence": func() error {
			_, err := w.agentAPI[0].Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_AWAY})
			return err
		},
	}
	for name, call := range calls {
		wantUnavailable(t, name, call())
	}
	if status, header := h.telegramUpdate(tg.channel.GetId(), 2); status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
		t.Errorf("webhook during the outage: %d, Retry-After %q; want 503 with Retry-After", status, header.Get("Retry-After"))
	}

	proxy.Restore()
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s once the database is back: %v", name, err)
		}
	}
	if status, _ := h.telegramUpdate(tg.channel.GetId(), 2); status != http.StatusOK {
		t.Errorf("webhook once the database is back: %d", status)
	}
	msgs := need(h.admin.Conversations.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: tg.conversation().GetId()}))(t).GetMessages()
	if len(msgs) != 2 {
		t.Errorf("%d messages in the Telegram conversation, want 2", len(msgs))
	}
}

// telegramUpdate posts a Telegram update carrying message n to the channel's webhook, and
// returns the answer's status and header.
func (h *harness) telegramUpdate(channelID string, n int) (int, http.Header) {
	h.t.Helper()
	update := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1795251600,"text":"Hello",
		"from":{"id":111222333,"is_bot":false,"first_name":"Ada"},"chat":{"id":111222333,"type":"private"}}}`, 10000+n, n)
	req, err := http.NewRequest(http.MethodPost, h.url+"/webhooks/telegram/"+channelID, strings.NewReader(update))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "tg-secret-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header
}

// wantUnavailable checks err is UNAVAILABLE with a RetryInfo, and says nothing of SQL.
func wantUnavailable(t *testing.T, call string, err error) {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeUnavailable {
		t.Errorf("%s during the outage: %v, want UNAVAILABLE", call, err)
		return
	}
	if msg := strings.ToLower(ce.Message()); strings.Contains(msg, "postgres") || strings.Contains(msg, "sqlstate") || strings.Contains(msg, "dial") {
		t.Errorf("%s: message %q leaks the database's error", call, ce.Message())
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if info, ok := v.(*errdetails.RetryInfo); ok && info.GetRetryDelay().AsDuration() > 0 {
				return
			}
		}
	}
	t.Errorf("%s: no RetryInfo detail in %v", call, ce)
}
