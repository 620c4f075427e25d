package serve_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
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
