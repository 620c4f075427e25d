package serve_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/webhook"
)

// genericChannel creates a generic channel with a webhook secret and returns its id and secret.
func (h *harness) genericChannel() (string, string) {
	h.t.Helper()
	secret := webhook.NewSecret()
	ch := need(h.admin.Channels.CreateChannel(context.Background(), &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "crm", DisplayName: "CRM chat",
		Credentials: &batonv1.ChannelCredentials{WebhookSecret: secret},
	}))(h.t).GetChannel()
	return ch.GetId(), secret
}

// postGeneric POSTs body to the channel's generic webhook, signed by the Standard Webhooks
// reference library with secret at the server's time, and returns the status and body.
func (h *harness) postGeneric(channelID, secret, msgID string, body string) (int, string) {
	h.t.Helper()
	return h.postGenericAt(h.clock.Now(), channelID, secret, msgID, body)
}

// postGenericAt is postGeneric signed at ts.
func (h *harness) postGenericAt(ts time.Time, channelID, secret, msgID string, body string) (int, string) {
	h.t.Helper()
	header := http.Header{}
	if secret != "" {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			h.t.Fatal(err)
		}
		sig, err := wh.Sign(msgID, ts, []byte(body))
		if err != nil {
			h.t.Fatal(err)
		}
		header.Set("webhook-signature", sig)
	}
	header.Set("webhook-id", msgID)
	header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	return h.post("/webhooks/generic/"+channelID, header, body)
}

func (h *harness) messageCount(channelID string) int {
	h.t.Helper()
	n := 0
	convs := need(h.admin.Conversations.ListConversations(context.Background(), &batonv1.ListConversationsRequest{Filter: &batonv1.ConversationFilter{ChannelId: channelID}}))(h.t).GetConversations()
	for _, c := range convs {
		n += len(need(h.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: c.GetId()}))(h.t).GetMessages())
	}
	return n
}

const genericPayload = `{"messages": [
	{"id": "src-1", "contact": {"externalId": "cust-7", "displayName": "Ada"}, "content": {"text": {"text": "Hello"}}},
	{"id": "src-2", "contact": {"external_id": "cust-7"}, "content": {"text": {"text": "Anyone?"}}}
]}`

func TestGenericWebhookStoresSignedMessagesOnce(t *testing.T) {
	h := start(t)
	ch, secret := h.genericChannel()

	status, body := h.postGeneric(ch, secret, "evt-1", genericPayload)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var res batonv1.GenericWebhookResult
	if err := unmarshalJSON(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.GetResults()) != 2 || res.GetResults()[0].GetMessageId() == "" || res.GetResults()[1].GetDuplicate() {
		t.Fatalf("results %v", res.GetResults())
	}
	convs := need(h.admin.Conversations.ListConversations(context.Background(), &batonv1.ListConversationsRequest{Filter: &batonv1.ConversationFilter{ChannelId: ch}}))(t).GetConversations()
	msgs := need(h.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: convs[0].GetId()}))(t).GetMessages()
	// The test clock stands still, so both messages have one time: compare them by id.
	stored := map[string]string{}
	for _, m := range msgs {
		stored[m.GetChannelMessageId()] = m.GetContent().GetText().GetText()
	}
	if len(convs) != 1 || len(msgs) != 2 || stored["src-1"] != "Hello" || stored["src-2"] != "Anyone?" {
		t.Fatalf("stored %v / %v", convs, msgs)
	}

	// The source did not hear the answer and sends again: acknowledged, nothing new stored.
	status, body = h.postGeneric(ch, secret, "evt-1", genericPayload)
	if err := unmarshalJSON(body, &res); err != nil || status != http.StatusOK || !res.GetResults()[0].GetDuplicate() || !res.GetResults()[1].GetDuplicate() {
		t.Errorf("redelivery: %d %s", status, body)
	}
	if n := h.messageCount(ch); n != 2 {
		t.Errorf("%d messages after the redelivery, want 2", n)
	}
}

func TestGenericWebhookRefusals(t *testing.T) {
	h := start(t)
	ch, secret := h.genericChannel()
	one := `{"messages": [{"id": "x-1", "contact": {"externalId": "c"}, "content": {"text": {"text": "hi"}}}]}`
	cases := []struct {
		name   string
		post   func() (int, string)
		status int
	}{
		{"unsigned", func() (int, string) { return h.postGeneric(ch, "", "e1", one) }, http.StatusUnauthorized},
		{"signed with another secret", func() (int, string) { return h.postGeneric(ch, webhook.NewSecret(), "e1", one) }, http.StatusUnauthorized},
		{"a replay from yesterday", func() (int, string) {
			return h.postGenericAt(h.clock.Now().Add(-24*time.Hour), ch, secret, "e1", one)
		}, http.StatusUnauthorized},
		{"not JSON", func() (int, string) { return h.postGeneric(ch, secret, "e2", `{"messages": [`) }, http.StatusBadRequest},
		{"no messages", func() (int, string) { return h.postGeneric(ch, secret, "e3", `{"messages": []}`) }, http.StatusBadRequest},
		{"an unknown channel", func() (int, string) { return h.postGeneric("ch_missing", secret, "e4", one) }, http.StatusNotFound},
	}
	for _, c := range cases {
		if status, body := c.post(); status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
	}
	if n := h.messageCount(ch); n != 0 {
		t.Errorf("refused requests stored %d messages", n)
	}
}

func TestGenericWebhookOneBadMessageLosesNoOther(t *testing.T) {
	h := start(t)
	ch, secret := h.genericChannel()
	status, body := h.postGeneric(ch, secret, "e1", `{"messages": [
		{"id": "ok-1", "contact": {"externalId": "c1"}, "content": {"text": {"text": "first"}}},
		{"id": "", "contact": {"externalId": "c2"}, "content": {"text": {"text": "no id"}}},
		{"id": "ok-2", "contact": {"externalId": "c3"}, "content": {"text": {"text": "third"}}}
	]}`)
	var res batonv1.GenericWebhookResult
	if err := unmarshalJSON(body, &res); err != nil || status != http.StatusBadRequest {
		t.Fatalf("%d %s", status, body)
	}
	r := res.GetResults()
	if len(r) != 3 || r[0].GetMessageId() == "" || r[1].GetError() == "" || r[1].GetMessageId() != "" || r[2].GetMessageId() == "" {
		t.Errorf("results %v", r)
	}
	if n := h.messageCount(ch); n != 2 {
		t.Errorf("%d messages stored, want the 2 good ones", n)
	}
}

func unmarshalJSON(s string, m *batonv1.GenericWebhookResult) error {
	return protojson.Unmarshal([]byte(s), m)
}

// The server keeps the channels webhooks name for a while; a change made through it must not
// wait for that.
func TestGenericWebhookSecretChangeTakesEffectAtOnce(t *testing.T) {
	h := start(t)
	ch, old := h.genericChannel()
	one := `{"messages": [{"id": "r-%d", "contact": {"externalId": "c"}, "content": {"text": {"text": "hi"}}}]}`
	if status, body := h.postGeneric(ch, old, "e1", fmt.Sprintf(one, 1)); status != http.StatusOK {
		t.Fatalf("before the change: %d %s", status, body)
	}
	rotated := webhook.NewSecret()
	need(h.admin.Channels.UpdateChannel(context.Background(), &batonv1.UpdateChannelRequest{
		ChannelId: ch, Credentials: &batonv1.ChannelCredentials{WebhookSecret: rotated},
	}))(t)
	if status, body := h.postGeneric(ch, old, "e2", fmt.Sprintf(one, 2)); status != http.StatusUnauthorized {
		t.Errorf("the old secret after the change: %d %s, want 401", status, body)
	}
	if status, body := h.postGeneric(ch, rotated, "e3", fmt.Sprintf(one, 3)); status != http.StatusOK {
		t.Errorf("the new secret after the change: %d %s, want 200", status, body)
	}
}

func TestChannelWebhooksAnswer413ToOversizedBodies(t *testing.T) {
	const limit = 4096
	h := start(t, func(c *serve.Config) { c.MaxRequestBytes = limit })
	ctx := context.Background()
	// Each case is a payload the channel's webhook stores a message from, sent as the channel
	// would (signed), padded with JSON whitespace to just over the limit, far over it (past
	// the server's slack for Connect's framing too), and to the limit exactly.
	type webhookCase struct {
		kind  batonv1.ChannelKind
		creds *batonv1.ChannelCredentials
		body  string
		post  func(channelID, body string) (int, string)
	}
	metaPost := func(kind string) func(string, string) (int, string) {
		return func(channelID, body string) (int, string) {
			return h.post("/webhooks/"+kind+"/"+channelID, metaSigned("app-secret", body), body)
		}
	}
	secret := webhook.NewSecret()
	cases := map[string]webhookCase{
		"generic": {batonv1.ChannelKind_CHANNEL_KIND_GENERIC, &batonv1.ChannelCredentials{WebhookSecret: secret}, genericPayload,
			func(channelID, body string) (int, string) { return h.postGeneric(channelID, secret, "big-1", body) }},
		"messenger": {batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, &batonv1.ChannelCredentials{AppSecret: "app-secret"},
			`{"object":"page","entry":[{"id":"page-1","time":1795251600000,"messaging":[{"sender":{"id":"6789"},"recipient":{"id":"page-1"},"timestamp":1795251600000,"message":{"mid":"m1","text":"hi"}}]}]}`,
			metaPost("messenger")},
		"instagram": {batonv1.ChannelKind_CHANNEL_KIND_INSTAGRAM, &batonv1.ChannelCredentials{AppSecret: "app-secret"},
			`{"object":"instagram","entry":[{"id":"ig-1","time":1795251600000,"messaging":[{"sender":{"id":"6789"},"recipient":{"id":"ig-1"},"timestamp":1795251600000,"message":{"mid":"m1","text":"hi"}}]}]}`,
			metaPost("instagram")},
		"whatsapp": {batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP, &batonv1.ChannelCredentials{AppSecret: "app-secret"},
			`{"object":"whatsapp_business_account","entry":[{"id":"waba","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"phone-1"},
			"contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.1","timestamp":"1795251600","text":{"body":"hi"},"type":"text"}]}}]}]}`,
			metaPost("whatsapp")},
		"telegram": {batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM, &batonv1.ChannelCredentials{WebhookSecret: "tg-secret"},
			`{"update_id":1,"message":{"message_id":1,"date":1795251600,"text":"hi","from":{"id":111,"is_bot":false,"first_name":"Ada"},"chat":{"id":111,"type":"private"}}}`,
			func(channelID, body string) (int, string) {
				return h.post("/webhooks/telegram/"+channelID, http.Header{"X-Telegram-Bot-Api-Secret-Token": {"tg-secret"}}, body)
			}},
	}
	externalIDs := map[string]string{"generic": "crm", "messenger": "page-1", "instagram": "ig-1", "whatsapp": "phone-1", "telegram": "support_bot"}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ch := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
				Kind: c.kind, ExternalId: externalIDs[name], DisplayName: name, Credentials: c.creds,
			}))(t).GetChannel().GetId()
			padded := func(size int) string { return c.body + strings.Repeat(" ", size-len(c.body)) }
			for _, size := range []int{limit + 1, 4 * limit} {
				status, out := c.post(ch, padded(size))
				if want := fmt.Sprintf("the body is over the limit of %d bytes\n", limit); status != http.StatusRequestEntityTooLarge || out != want {
					t.Errorf("a body of %d bytes: %d %q, want 413 %q", size, status, out, want)
				}
				if n := h.messageCount(ch); n != 0 {
					t.Errorf("a body of %d bytes stored %d messages", size, n)
				}
			}
			if status, out := c.post(ch, padded(limit)); status != http.StatusOK || h.messageCount(ch) == 0 {
				t.Errorf("the same payload at the limit: %d %s, %d messages stored", status, out, h.messageCount(ch))
			}
		})
	}

	// The Connect API has its own limit, answered RESOURCE_EXHAUSTED.
	_, err := h.admin.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
		ChannelId: "ch_any", Contact: &batonv1.ContactProfile{ExternalId: "c"}, ChannelMessageId: "m", Content: text_(strings.Repeat("x", 2*limit)),
	})
	if code(err) != connect.CodeResourceExhausted {
		t.Errorf("an oversized RPC: %v, want resource_exhausted", err)
	}
}
