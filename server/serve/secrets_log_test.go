package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
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
// webhook secrets are used, rightly and wrongly, and rotated, and checks none of them, nor the
// key the store seals them with, reaches a log line, an event or a read of the API.
func TestSecretsNeverLogged(t *testing.T) {
	var logs lockedBuffer
	logger, err := telemetry.NewLogger(&logs, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	// Code that logs without the server's logger uses the default one, as in the binary.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := startOn(t, st, &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, loopback, func(c *serve.Config) { c.Logger = logger })
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
	hook, hookSecret := h.hook(w.botAPI.Bots, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: ep.srv.URL})
	secrets = append(secrets, hookSecret, strings.TrimPrefix(hookSecret, "whsec_"))
	h.ingest(w.channel.GetId(), "alice", "m1", "hello")
	ep.next(t, 4) // activation, then the conversation's first events: delivered and logged
	rotated := need(h.admin.Bots.RotateWebhookSecret(ctx, &batonv1.RotateWebhookSecretRequest{WebhookId: hook.GetId()}))(t)
	secrets = append(secrets, rotated.GetSecret(), strings.TrimPrefix(rotated.GetSecret(), "whsec_"))
	need(h.admin.Channels.UpdateChannel(ctx, &batonv1.UpdateChannelRequest{
		ChannelId:   tg.GetId(),
		Credentials: &batonv1.ChannelCredentials{AccessToken: "654321:telegram-new-token", WebhookSecret: "tg-webhook-secret"},
	}))(t)
	secrets = append(secrets, "telegram-new-token")

	// Reads show no secret: a channel says which credentials are set, a webhook nothing.
	var reads []proto.Message
	reads = append(reads, need(h.admin.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}))(t))
	reads = append(reads, need(h.admin.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: tg.GetId()}))(t))
	reads = append(reads, need(h.admin.Bots.ListWebhooks(ctx, &batonv1.ListWebhooksRequest{}))(t))
	reads = append(reads, need(h.admin.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: hook.GetId()}))(t))
	for _, r := range reads {
		text := protojson.Format(r)
		for _, s := range secrets[1:] { // the API key is no part of these reads
			if strings.Contains(text, s) {
				t.Errorf("a secret (%.8s…) is in a read: %s", s, text)
			}
		}
	}
	h.stop()

	// No event carries a secret.
	st, err = sqlite.Open(context.Background(), filepath.Join(dir, "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var events []domain.Event
	if err := st.Read(ctx, func(tx store.Tx) error {
		events, err = tx.ListEvents(ctx, 0, store.EventFilter{}, 10000)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatal("no events: the test proves nothing")
	}
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprintf("%s %+v", b, e)
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a secret (%.8s…) is in a %s event", s, e.Type)
			}
		}
	}
	// Nor does the log hold the key the store seals secrets with.
	keyText, err := os.ReadFile(sqlite.KeyFile(filepath.Join(dir, "baton.db")))
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, strings.TrimSpace(string(keyText)))

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
