package serve_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/telemetry"
	"github.com/batonhq/baton/server/webhook"
)

// lockedBuffer is a log destination the server's goroutines write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSecretsNeverLogged logs everything at debug level while API keys, channel tokens and
// webhook secrets are used, rightly and wrongly, and checks none of them reaches a line.
func TestSecretsNeverLogged(t *testing.T) {
	var logs lockedBuffer
	logger, err := telemetry.NewLogger(&logs, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	// Code that logs without the server's logger uses the default one, as in the binary.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)
	h := start(t, loopback, func(c *serve.Config) { c.Logger = logger })
	ctx := context.Background()
	_, apiKey, err := h.srv.App().CreateAPIKey(ctx, domain.Principal{Role: domain.PrincipalAdmin, KeyID: "test"}, "ops", domain.PrincipalAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{apiKey}
	need(h.client(apiKey).Routing.GetQueue(ctx, &batonv1.GetQueueRequest{QueueId: "default"}))(t)
	if _, err := h.client(apiKey+"x").Routing.GetQueue(ctx, &batonv1.GetQueueRequest{QueueId: "default"}); err == nil {
		t.Fatal("a wrong key was accepted")
	}

	ch, chSecret := h.genericChannel()
	secrets = append(secrets, chSecret)
	if status, _ := h.postGeneric(ch, webhook.NewSecret(), "m0", `{}`); status != http.StatusUnauthorized {
		t.Fatalf("wrongly signed webhook = %d", status)
	}
	tg := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM, ExternalId: "tg", DisplayName: "Telegram",
		Credentials: &batonv1.ChannelCredentials{AccessToken: "123456:telegram-bot-token", WebhookSecret: "tg-webhook-secret"},
	}))(t).GetChannel()
	secrets = append(secrets, "telegram-bot-token", "tg-webhook-secret")
	if status, _ := h.post("/webhooks/telegram/"+tg.GetId(), http.Header{"X-Telegram-Bot-Api-Secret-Token": {"tg-wrong-secret"}}, `{}`); status != http.StatusUnauthorized {
		t.Fatalf("telegram webhook with a wrong secret = %d", status)
	}
	// Rightly authenticated but unreadable: refused, and logged with what went wrong.
	h.post("/webhooks/telegram/"+tg.GetId(), http.Header{"X-Telegram-Bot-Api-Secret-Token": {"tg-webhook-secret"}}, `{"update_id":`)
	h.postGeneric(ch, chSecret, "m0", `{"not":"a message"`)

	w := h.world(0)
	ep := newEndpoint(t)
	_, hookSecret := h.hook(w.botAPI.Bots, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL})
	secrets = append(secrets, hookSecret, strings.TrimPrefix(hookSecret, "whsec_"))
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	ep.next(t, 4) // activation, then the conversation's first events: delivered and logged
	h.stop()

	out := logs.String()
	if out == "" {
		t.Fatal("nothing was logged: the test proves nothing")
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a secret (%.8s…) reached the log", s)
		}
	}
}
