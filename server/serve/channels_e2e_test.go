package serve_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/webhook"
)

// sendAPI is a fake of a channel's send API on loopback: it records every request and answers
// what the test queued (a success by default).
type sendAPI struct {
	srv      *httptest.Server
	requests chan apiRequest
	mu       sync.Mutex
	answers  []apiAnswer
	success  func(apiRequest) string // the body of a default success
}

type apiRequest struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         map[string]any
}

type apiAnswer struct {
	status int
	body   string
}

func newSendAPI(t *testing.T, success func(apiRequest) string) *sendAPI {
	a := &sendAPI{requests: make(chan apiRequest, 64), success: success}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := apiRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
		json.Unmarshal(raw, &req.Body)
		a.mu.Lock()
		answer := apiAnswer{status: http.StatusOK, body: a.success(req)}
		if len(a.answers) > 0 {
			answer, a.answers = a.answers[0], a.answers[1:]
		}
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(answer.status)
		io.WriteString(w, answer.body)
		a.requests <- req
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// queue makes the next requests get these answers.
func (a *sendAPI) queue(answers ...apiAnswer) {
	a.mu.Lock()
	a.answers = append(a.answers, answers...)
	a.mu.Unlock()
}

func (a *sendAPI) next(t *testing.T) apiRequest {
	t.Helper()
	select {
	case r := <-a.requests:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("the send API got no request")
		return apiRequest{}
	}
}

// post sends a channel webhook and returns the status and body.
func (h *harness) post(path string, header http.Header, body string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+path, bytes.NewBufferString(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metaSigned is the X-Hub-Signature-256 header Meta sends with body.
func metaSigned(appSecret, body string) http.Header {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(body))
	return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}
}

// channelWorld is a channel of the given kind with credentials, a bound bot with a key, and
// the fake send API the server sends through.
type channelWorld struct {
	h       *harness
	channel *batonv1.Channel
	bot     *batonv1.Bot
	botAPI  interface {
		SendMessage(context.Context, *batonv1.SendMessageRequest) (*batonv1.SendMessageResponse, error)
	}
}

func (h *harness) channelWorld(kind batonv1.ChannelKind, externalID string, creds *batonv1.ChannelCredentials) channelWorld {
	h.t.Helper()
	ctx := context.Background()
	ch := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: kind, ExternalId: externalID, DisplayName: "Support", Credentials: creds,
	}))(h.t).GetChannel()
	bot := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Helper bot"}))(h.t).GetBot()
	need(h.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: bot.GetId(), ChannelId: ch.GetId()}))(h.t)
	return channelWorld{h: h, channel: ch, bot: bot, botAPI: h.key(batonv1.Role_ROLE_BOT, bot.GetId()).Conversations}
}

// conversation returns the channel's only conversation.
func (w channelWorld) conversation() *batonv1.Conversation {
	w.h.t.Helper()
	list := need(w.h.admin.Conversations.ListConversations(context.Background(), &batonv1.ListConversationsRequest{
		Filter: &batonv1.ConversationFilter{ChannelId: w.channel.GetId()},
	}))(w.h.t).GetConversations()
	if len(list) != 1 {
		w.h.t.Fatalf("%d conversations on the channel", len(list))
	}
	return list[0]
}

// message returns a message of the channel's conversation by id, once cond holds for it.
func (w channelWorld) messageWhen(id string, what string, cond func(*batonv1.Message) bool) *batonv1.Message {
	w.h.t.Helper()
	var found *batonv1.Message
	waitFor(w.h.t, what, func() bool {
		msgs := need(w.h.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: w.conversation().GetId()}))(w.h.t).GetMessages()
		for _, m := range msgs {
			if m.GetId() == id && cond(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func text(s string) *batonv1.MessageContent { return text_(s) }

func jsonEqual(t *testing.T, what string, want string, got map[string]any) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(w, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func withAPIs(meta, telegram string) func(*serve.Config) {
	return func(c *serve.Config) { c.ChannelAPIs = serve.ChannelAPIs{Meta: meta, Telegram: telegram} }
}

func TestMessengerEndToEnd(t *testing.T) {
	api := newSendAPI(t, func(r apiRequest) string {
		return `{"recipient_id":"` + r.Body["recipient"].(map[string]any)["id"].(string) + `","message_id":"m_reply_1"}`
	})
	h := start(t, withAPIs(api.srv.URL+"/v21.0", ""))
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: "page-token-1", AppId: "1517776481860111",
	})
	ch := w.channel.GetId()

	// Meta's subscription check.
	res, err := http.Get(h.url + "/webhooks/messenger/" + ch + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
	if err != nil {
		t.Fatal(err)
	}
	challenge, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(challenge) != "1158201444" {
		t.Fatalf("subscription check: %d %q", res.StatusCode, challenge)
	}

	// A customer writes.
	inbound := `{"object":"page","entry":[{"id":"1122334455","time":1795251600000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,
		"message":{"mid":"m_customer_1","text":"Where is my parcel?"}}]}]}`
	if status, body := h.post("/webhooks/messenger/"+ch, metaSigned("wrong-secret", inbound), inbound); status != http.StatusUnauthorized {
		t.Fatalf("a bad signature: %d %s", status, body)
	}
	if status, body := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, inbound), inbound); status != http.StatusOK {
		t.Fatalf("the message: %d %s", status, body)
	}
	conv := w.conversation()
	if conv.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatalf("owner %v", conv.GetOwner())
	}

	// The bot replies; the Send API receives exactly the request Meta documents.
	sent := need(w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), Content: text("It is on its way."),
	}))(t).GetMessage()
	req := api.next(t)
	if req.Method != http.MethodPost || req.Path != "/v21.0/me/messages" || req.Query["access_token"][0] != "page-token-1" {
		t.Errorf("send request %s %s %v", req.Method, req.Path, req.Query)
	}
	jsonEqual(t, "send body", `{"recipient":{"id":"6789"},"messaging_type":"RESPONSE",
		"message":{"text":"It is on its way.","metadata":"baton:`+sent.GetId()+`"}}`, req.Body)
	w.messageWhen(sent.GetId(), "the reply to be sent", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_SENT && m.GetChannelMessageId() == "m_reply_1"
	})

	// Meta echoes it (ours: ignored), then reports it delivered and read.
	echo := `{"object":"page","entry":[{"id":"1122334455","time":1795251601000,"messaging":[{
		"sender":{"id":"1122334455"},"recipient":{"id":"6789"},"timestamp":1795251601000,
		"message":{"is_echo":true,"app_id":1517776481860111,"metadata":"baton:` + sent.GetId() + `","mid":"m_reply_1","text":"It is on its way."}}]}]}`
	receipts := `{"object":"page","entry":[{"id":"1122334455","time":1795251602000,"messaging":[
		{"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"delivery":{"mids":["m_reply_1"],"watermark":1795251602000}},
		{"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251603000,"read":{"watermark":1795251603000}}]}]}`
	// An echo from Baton's own app without metadata (as Instagram sends them) is Baton's too.
	bare := `{"object":"page","entry":[{"id":"1122334455","time":1795251601500,"messaging":[{
		"sender":{"id":"1122334455"},"recipient":{"id":"6789"},"timestamp":1795251601500,
		"message":{"is_echo":true,"app_id":1517776481860111,"mid":"m_reply_unrecorded","text":"It is on its way."}}]}]}`
	for _, body := range []string{echo, bare, receipts} {
		if status, out := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, body), body); status != http.StatusOK {
			t.Fatalf("%d %s", status, out)
		}
	}
	w.messageWhen(sent.GetId(), "the read receipt", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_READ
	})
	if w.conversation().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Error("Baton's own echo moved the conversation")
	}

	// A human answers from the page's inbox: they own the conversation, and the bot is refused.
	human := `{"object":"page","entry":[{"id":"1122334455","time":1795251604000,"messaging":[{
		"sender":{"id":"1122334455"},"recipient":{"id":"6789"},"timestamp":1795251604000,
		"message":{"is_echo":true,"app_id":263902037430900,"mid":"m_human_1","text":"Hi, Sam here from support."}}]}]}`
	if status, out := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, human), human); status != http.StatusOK {
		t.Fatalf("%d %s", status, out)
	}
	if owner := w.conversation().GetOwner(); owner.GetKind() != batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN {
		t.Fatalf("after a human's reply the owner is %v", owner)
	}
	_, err = w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Can I help?")})
	if code(err) != connect.CodeFailedPrecondition {
		t.Errorf("the bot sending while a human answers: %v", err)
	}

	// The inbox passes the thread back (handover protocol): the bot owns again.
	back := `{"object":"page","entry":[{"id":"1122334455","time":1795251605000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251605000,
		"pass_thread_control":{"new_owner_app_id":"1517776481860111","metadata":"done"}}]}]}`
	if status, out := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, back), back); status != http.StatusOK {
		t.Fatalf("%d %s", status, out)
	}
	if owner := w.conversation().GetOwner(); owner.GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Errorf("after the thread came back the owner is %v", owner)
	}
}

func TestWhatsAppEndToEnd(t *testing.T) {
	var sends atomic.Int64
	api := newSendAPI(t, func(apiRequest) string {
		return `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.reply` + strconv.FormatInt(sends.Add(1), 10) + `"}]}`
	})
	h := start(t, withAPIs(api.srv.URL+"/v21.0", ""))
	const appSecret = "whatsapp-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP, "106540352242922", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-wa", AccessToken: "wa-token",
	})
	ch := w.channel.GetId()
	inbound := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
		"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
		"messages":[{"from":"16505551234","id":"wamid.customer1","timestamp":"1795251600","text":{"body":"Does it come in another color?"},"type":"text"}]}}]}]}`
	if status, out := h.post("/webhooks/whatsapp/"+ch, metaSigned(appSecret, inbound), inbound); status != http.StatusOK {
		t.Fatalf("%d %s", status, out)
	}
	conv := w.conversation()
	contact := need(h.admin.Conversations.GetContact(context.Background(), &batonv1.GetContactRequest{ContactId: conv.GetContactId()}))(t).GetContact()
	if contact.GetDisplayName() != "Sheena Nelson" || contact.GetExternalId() != "16505551234" {
		t.Errorf("contact %v", contact)
	}

	sent := need(w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), Content: text("Yes: blue and green."),
	}))(t).GetMessage()
	req := api.next(t)
	if req.Path != "/v21.0/106540352242922/messages" || req.Header.Get("Authorization") != "Bearer wa-token" {
		t.Errorf("send request %s %v", req.Path, req.Header.Get("Authorization"))
	}
	jsonEqual(t, "send body", `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",
		"type":"text","text":{"body":"Yes: blue and green.","preview_url":false},"biz_opaque_callback_data":"`+sent.GetId()+`"}`, req.Body)
	w.messageWhen(sent.GetId(), "the reply to be sent", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_SENT && m.GetChannelMessageId() == "wamid.reply1"
	})

	// Statuses arrive out of order: read, then delivered. Read stays.
	status := func(s string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
			"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
			"statuses":[{"id":"wamid.reply1","status":"` + s + `","timestamp":"1795251601","recipient_id":"16505551234"}]}}]}]}`
	}
	for _, s := range []string{"read", "delivered"} {
		body := status(s)
		if code, out := h.post("/webhooks/whatsapp/"+ch, metaSigned(appSecret, body), body); code != http.StatusOK {
			t.Fatalf("%s: %d %s", s, code, out)
		}
	}
	if m := w.messageWhen(sent.GetId(), "the read status", func(m *batonv1.Message) bool { return true }); m.GetStatus() != batonv1.DeliveryStatus_DELIVERY_STATUS_READ {
		t.Errorf("after read then delivered the status is %v", m.GetStatus())
	}

	// Outside the 24-hour window the Cloud API refuses: the message fails with its error.
	api.queue(apiAnswer{status: http.StatusBadRequest, body: `{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047,
		"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"AbCd"}}`})
	late := need(w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Still there?")}))(t).GetMessage()
	api.next(t)
	failed := w.messageWhen(late.GetId(), "the refusal", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED
	})
	if !strings.Contains(failed.GetError(), "131047") {
		t.Errorf("failed message error %q", failed.GetError())
	}

	// A carousel cannot be shown on WhatsApp: refused, or sent as text when asked.
	carousel := &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{Cards: []*batonv1.Card{
		{Title: "Blue", Subtitle: "In stock"}, {Title: "Green", Subtitle: "Two left"},
	}}}}
	_, err := w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: carousel})
	if code(err) != connect.CodeInvalidArgument {
		t.Errorf("a carousel on WhatsApp: %v", err)
	}
	fallback := need(w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: carousel, TextFallback: true}))(t).GetMessage()
	if fallback.GetContent().GetText() == nil || !strings.Contains(fallback.GetContent().GetText().GetText(), "Blue") {
		t.Errorf("text fallback stored %v", fallback.GetContent())
	}
	if req := api.next(t); req.Body["type"] != "text" {
		t.Errorf("fallback sent as %v", req.Body["type"])
	}
}

func TestTelegramEndToEnd(t *testing.T) {
	api := newSendAPI(t, func(r apiRequest) string {
		return `{"ok":true,"result":{"message_id":77,"chat":{"id":111222333,"type":"private"},"date":1795251601,"text":"Hello!"}}`
	})
	h := start(t, withAPIs("", api.srv.URL))
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM, "support_bot", &batonv1.ChannelCredentials{
		AccessToken: "123456:ABC-DEF", WebhookSecret: "tg-secret-token",
	})
	ch := w.channel.GetId()
	update := `{"update_id":10000,"message":{"message_id":1365,"date":1795251600,"text":"Hello",
		"from":{"id":111222333,"is_bot":false,"first_name":"Ada","last_name":"Lovelace","language_code":"en"},
		"chat":{"id":111222333,"first_name":"Ada","last_name":"Lovelace","type":"private"}}}`
	if status, _ := h.post("/webhooks/telegram/"+ch, http.Header{"X-Telegram-Bot-Api-Secret-Token": {"wrong"}}, update); status != http.StatusUnauthorized {
		t.Fatalf("a wrong secret token: %d", status)
	}
	if status, out := h.post("/webhooks/telegram/"+ch, http.Header{"X-Telegram-Bot-Api-Secret-Token": {"tg-secret-token"}}, update); status != http.StatusOK {
		t.Fatalf("%d %s", status, out)
	}
	conv := w.conversation()
	sent := need(w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Hello!")}))(t).GetMessage()
	req := api.next(t)
	if req.Path != "/bot123456:ABC-DEF/sendMessage" {
		t.Errorf("send path %s", req.Path)
	}
	jsonEqual(t, "send body", `{"chat_id":111222333,"text":"Hello!"}`, req.Body)
	w.messageWhen(sent.GetId(), "the reply to be sent", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_SENT && m.GetChannelMessageId() == "111222333:77"
	})
}

func TestGenericChannelSendsSignedAndRetries(t *testing.T) {
	h := start(t, loopback)
	ctx := context.Background()
	var answers = make(chan func(http.ResponseWriter), 8)
	received := make(chan delivery, 8)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- delivery{header: r.Header.Clone(), body: body}
		(<-answers)(w)
	}))
	t.Cleanup(sink.Close)
	answer := func(status int, body string) {
		answers <- func(w http.ResponseWriter) { w.WriteHeader(status); io.WriteString(w, body) }
	}

	secret := webhook.NewSecret()
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_GENERIC, "crm", &batonv1.ChannelCredentials{WebhookSecret: secret, SendUrl: sink.URL})
	if status, out := h.postGeneric(w.channel.GetId(), secret, "in-1", genericPayload); status != http.StatusOK {
		t.Fatalf("%d %s", status, out)
	}
	conv := w.conversation()

	// The first attempt meets a 503: the message waits for its retry, a minute later.
	answer(http.StatusServiceUnavailable, "")
	sent := need(w.botAPI.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Hello Ada")}))(t).GetMessage()
	first := <-received
	verifySignature(t, secret, first)
	var out batonv1.GenericOutboundMessage
	if err := protojson.Unmarshal(first.body, &out); err != nil {
		t.Fatal(err)
	}
	if out.GetId() != sent.GetId() || out.GetContact().GetExternalId() != "cust-7" || out.GetContent().GetText().GetText() != "Hello Ada" {
		t.Errorf("posted %v", &out)
	}
	w.messageWhen(sent.GetId(), "the failed attempt", func(m *batonv1.Message) bool { return m.GetError() != "" })

	answer(http.StatusOK, `{"id":"crm-42"}`)
	h.clock.Advance(2 * time.Minute)
	h.srv.KickOutbox()
	if again := <-received; again.header.Get("webhook-id") != first.header.Get("webhook-id") {
		t.Errorf("retried as %q, first sent as %q", again.header.Get("webhook-id"), first.header.Get("webhook-id"))
	}
	w.messageWhen(sent.GetId(), "the retry to succeed", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_SENT && m.GetChannelMessageId() == "crm-42" && m.GetError() == ""
	})

	// A 400 is a refusal for good: the message fails, and an event says why.
	answer(http.StatusBadRequest, `{"error":"unknown customer"}`)
	refused := need(w.botAPI.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Hello?")}))(t).GetMessage()
	<-received
	w.messageWhen(refused.GetId(), "the refusal", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED && strings.Contains(m.GetError(), "400")
	})
	evs := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_STATUS_CHANGED}, ConversationId: conv.GetId(),
	}}))(t).GetEvents()
	last := evs[len(evs)-1].GetMessage()
	if last.GetId() != refused.GetId() || last.GetStatus() != batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED || last.GetError() == "" {
		t.Errorf("last status event %v", last)
	}
}

func TestGenericSendToAnAddressTheSSRFPolicyRefusesFailsAtOnce(t *testing.T) {
	h := start(t) // the SSRF guard as in production: no private network allowed, loopback neither
	ctx := context.Background()
	var reached atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	t.Cleanup(sink.Close)
	secret := webhook.NewSecret()
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_GENERIC, "crm", &batonv1.ChannelCredentials{WebhookSecret: secret, SendUrl: sink.URL})
	if status, out := h.postGeneric(w.channel.GetId(), secret, "in-1", genericPayload); status != http.StatusOK {
		t.Fatalf("%d %s", status, out)
	}
	conv := w.conversation()
	statuses := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: new(uint64), Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_STATUS_CHANGED}, ConversationId: conv.GetId(),
	}})

	// The first attempt fails the message for good, and its status event says why.
	sent := need(w.botAPI.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Hello Ada")}))(t).GetMessage()
	const reason = "dial: address not allowed by the SSRF policy"
	ev := statuses.next(t, 1)[0].GetEvent().GetMessage()
	if ev.GetId() != sent.GetId() || ev.GetStatus() != batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED || ev.GetError() != reason {
		t.Fatalf("status event: message %s %v %q; want %s failed: %q", ev.GetId(), ev.GetStatus(), ev.GetError(), sent.GetId(), reason)
	}
	stored := w.messageWhen(sent.GetId(), "the stored message", func(*batonv1.Message) bool { return true })
	if stored.GetStatus() != batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED || stored.GetError() != reason {
		t.Errorf("stored message %v %q, want failed: %q", stored.GetStatus(), stored.GetError(), reason)
	}

	// No retry is scheduled: past the whole retry schedule, nothing is due.
	h.clock.Advance(2 * time.Hour)
	if due := need(h.srv.App().ClaimSends(ctx, 10))(t); len(due) != 0 {
		t.Errorf("%d messages due after the retry schedule, want none", len(due))
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the refused address was reached %d times", n)
	}
}

func TestHumanReplyingFromTheBusinessAppOwnsUntilIdle(t *testing.T) {
	h := start(t, withAPIs("http://127.0.0.1:1", ""))
	const appSecret = "whatsapp-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP, "106540352242922", &batonv1.ChannelCredentials{AppSecret: appSecret, AccessToken: "t"})
	ch := w.channel.GetId()
	post := func(body string) {
		t.Helper()
		if status, out := h.post("/webhooks/whatsapp/"+ch, metaSigned(appSecret, body), body); status != http.StatusOK {
			t.Fatalf("%d %s", status, out)
		}
	}
	post(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
		"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
		"messages":[{"from":"16505551234","id":"wamid.in1","timestamp":"1795251600","text":{"body":"Hi"},"type":"text"}]}}]}]}`)
	if w.conversation().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatal("the bot does not own the new conversation")
	}

	// A minute later someone answers from the WhatsApp Business app: Baton did not send it, so a
	// human owns now.
	h.clock.Advance(time.Minute)
	echo := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"smb_message_echoes","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
		"message_echoes":[{"from":"15550783881","to":"+16505551234","id":"wamid.echo1","timestamp":"1795251660","type":"text","text":{"body":"Sam here, I'll help."}}]}}]}]}`
	post(echo)
	post(echo) // a redelivery changes nothing more
	conv := w.conversation()
	if conv.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN {
		t.Fatalf("after the business app's reply the owner is %v", conv.GetOwner())
	}
	msgs := need(h.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: conv.GetId()}))(t).GetMessages()
	if len(msgs) != 2 || msgs[1].GetSender().GetKind() != batonv1.ActorKind_ACTOR_KIND_EXTERNAL_HUMAN || msgs[1].GetDirection() != batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND {
		t.Fatalf("messages %v", msgs)
	}
	if _, err := w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Bot here")}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("the bot sending over the human: %v", err)
	}

	// A day without activity ends the human stretch: the bot owns again.
	h.clock.Advance(25 * time.Hour)
	if err := h.srv.App().RunTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if owner := w.conversation().GetOwner(); owner.GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Errorf("after the session timeout the owner is %v", owner)
	}
}

// TestMessengerPluginUsers: a person writing through the Chat Plugin has no PSID, only a
// user_ref. Their message and postback are stored under a contact keyed by it, and the bot's
// reply goes back to the user_ref.
func TestMessengerPluginUsers(t *testing.T) {
	api := newSendAPI(t, func(apiRequest) string { return `{"message_id":"m_reply_plugin_1"}` }) // no recipient_id for a user_ref
	h := start(t, withAPIs(api.srv.URL+"/v21.0", ""))
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: "page-token-1", AppId: "1517776481860111",
	})
	ch := w.channel.GetId()
	inbound := `{"object":"page","entry":[{"id":"1122334455","time":1795251600500,"messaging":[
		{"sender":{"user_ref":"cp_5c1f8e2a9d7b4e06"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,
		 "message":{"mid":"m_plugin_1","text":"Is the store open on Sunday?"}},
		{"sender":{"user_ref":"cp_5c1f8e2a9d7b4e06"},"recipient":{"id":"1122334455"},"timestamp":1795251600400,
		 "postback":{"mid":"m_plugin_2","title":"Opening hours","payload":"HOURS"}}]}]}`
	if status, body := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, inbound), inbound); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	conv := w.conversation()
	contact := need(h.admin.Conversations.GetContact(context.Background(), &batonv1.GetContactRequest{ContactId: conv.GetContactId()}))(t).GetContact()
	if contact.GetExternalId() != "user_ref:cp_5c1f8e2a9d7b4e06" {
		t.Errorf("contact external id %q", contact.GetExternalId())
	}
	msgs := need(h.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: conv.GetId()}))(t).GetMessages()
	stored := map[string]*batonv1.MessageContent{}
	for _, m := range msgs {
		stored[m.GetChannelMessageId()] = m.GetContent()
	}
	if len(msgs) != 2 || stored["m_plugin_1"].GetText().GetText() != "Is the store open on Sunday?" || stored["m_plugin_2"].GetPostback().GetPayload() != "HOURS" {
		t.Fatalf("stored %v", msgs)
	}

	sent := need(w.botAPI.SendMessage(context.Background(), &batonv1.SendMessageRequest{
		ConversationId: conv.GetId(), Content: text("Yes, from 10 to 4."),
	}))(t).GetMessage()
	req := api.next(t)
	jsonEqual(t, "send body", `{"recipient":{"user_ref":"cp_5c1f8e2a9d7b4e06"},"messaging_type":"RESPONSE",
		"message":{"text":"Yes, from 10 to 4.","metadata":"baton:`+sent.GetId()+`"}}`, req.Body)
	w.messageWhen(sent.GetId(), "the reply to be sent", func(m *batonv1.Message) bool {
		return m.GetStatus() == batonv1.DeliveryStatus_DELIVERY_STATUS_SENT && m.GetChannelMessageId() == "m_reply_plugin_1"
	})
}

// TestMessengerHandoverInTimestampOrder: Meta retries deliveries, so handover events arrive out
// of order. One older than the last ownership change the channel reported changes nothing:
// not the owner, not the epoch, and no event says otherwise.
func TestMessengerHandoverInTimestampOrder(t *testing.T) {
	h := start(t, withAPIs("http://127.0.0.1:1", ""))
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, AccessToken: "page-token-1", AppId: "1517776481860111",
	})
	ch := w.channel.GetId()
	post := func(body string) {
		t.Helper()
		if status, out := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, body), body); status != http.StatusOK {
			t.Fatalf("%d %s", status, out)
		}
	}
	thread := func(psid, field string, ts int64) string {
		app := `"previous_owner_app_id":"263902037430900","new_owner_app_id":"1517776481860111"`
		if field == "take_thread_control" {
			app = `"previous_owner_app_id":"1517776481860111","new_owner_app_id":"263902037430900"`
		}
		return fmt.Sprintf(`{"object":"page","entry":[{"id":"1122334455","time":%d,"messaging":[{
			"sender":{"id":"%s"},"recipient":{"id":"1122334455"},"timestamp":%d,"%s":{%s,"metadata":"inbox"}}]}]}`, ts+500, psid, ts, field, app)
	}
	message := func(psid, mid string) string {
		return `{"object":"page","entry":[{"id":"1122334455","time":1795251600000,"messaging":[{
			"sender":{"id":"` + psid + `"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,"message":{"mid":"` + mid + `","text":"Hello"}}]}]}`
	}
	conversation := func(psid string) *batonv1.Conversation {
		t.Helper()
		for _, c := range need(h.admin.Conversations.ListConversations(context.Background(), &batonv1.ListConversationsRequest{
			Filter: &batonv1.ConversationFilter{ChannelId: ch},
		}))(t).GetConversations() {
			contact := need(h.admin.Conversations.GetContact(context.Background(), &batonv1.GetContactRequest{ContactId: c.GetContactId()}))(t).GetContact()
			if contact.GetExternalId() == psid {
				return c
			}
		}
		t.Fatalf("no conversation of %s", psid)
		return nil
	}
	events := func(c *batonv1.Conversation) int {
		t.Helper()
		return len(need(h.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{
			PageSize: 1000, Filter: &batonv1.EventFilter{ConversationId: c.GetId()},
		}))(t).GetEvents())
	}

	// The inbox takes the thread (12:00:02), then the delivery of its earlier pass (12:00:01),
	// retried, arrives: the human in the inbox keeps the conversation.
	post(message("6789", "m_a1"))
	post(thread("6789", "take_thread_control", 1795251602000))
	taken := conversation("6789")
	if taken.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN {
		t.Fatalf("after take_thread_control the owner is %v", taken.GetOwner())
	}
	before := events(taken)
	post(thread("6789", "pass_thread_control", 1795251601000))
	after := conversation("6789")
	if after.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_EXTERNAL_HUMAN || after.GetEpoch() != taken.GetEpoch() {
		t.Errorf("an older pass_thread_control moved the conversation: owner %v epoch %d, was epoch %d", after.GetOwner(), after.GetEpoch(), taken.GetEpoch())
	}
	if n := events(after); n != before {
		t.Errorf("an older pass_thread_control made %d events", n-before)
	}

	// The other way round: the inbox passes the thread back (12:00:02) while the bot owns
	// already (its take was not delivered yet); the take (12:00:01) then arrives, retried.
	post(message("7012", "m_b1"))
	post(thread("7012", "pass_thread_control", 1795251602000))
	passed := conversation("7012")
	before = events(passed)
	post(thread("7012", "take_thread_control", 1795251601000))
	after = conversation("7012")
	if after.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT || after.GetEpoch() != passed.GetEpoch() {
		t.Errorf("an older take_thread_control moved the conversation: owner %v epoch %d, was epoch %d", after.GetOwner(), after.GetEpoch(), passed.GetEpoch())
	}
	if n := events(after); n != before {
		t.Errorf("an older take_thread_control made %d events", n-before)
	}
	if after.GetEtag() != passed.GetEtag() {
		t.Errorf("recording the pass's time changed the etag from %q to %q", passed.GetEtag(), after.GetEtag())
	}

	// In order, the protocol works as before: a newer pass hands the first one back.
	post(thread("6789", "pass_thread_control", 1795251603000))
	if owner := conversation("6789").GetOwner(); owner.GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Errorf("after a newer pass_thread_control the owner is %v", owner)
	}
}

// logBuffer collects a server's log lines (JSON) for a test to read; the server logs from many
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the lines logged so far whose message contains msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if s, _ := r["msg"].(string); strings.Contains(s, msg) {
			out = append(out, r)
		}
	}
	return out
}

// TestMessengerDashboardTestEvent: the "Test" button of Meta's App Dashboard sends its sample in
// the changes[] form, with made-up ids. Baton answers 200, stores nothing, and says so in a log
// line naming the channel and the field, so that whoever sets the channel up sees it arrived.
func TestMessengerDashboardTestEvent(t *testing.T) {
	logs := &logBuffer{}
	h := start(t, withAPIs("http://127.0.0.1:1", ""), func(c *serve.Config) { c.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{AppSecret: appSecret, AccessToken: "t"})
	ch := w.channel.GetId()
	sample := `{"object":"page","entry":[{"id":"0","time":1795251600,"changes":[{"field":"messages","value":{
		"sender":{"id":"12334"},"recipient":{"id":"23245"},"timestamp":"1527459824",
		"message":{"mid":"test_message_id","text":"test_message","commands":[{"name":"command123"},{"name":"command456"}]}}}]}]}`
	if status, body := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, sample), sample); status != http.StatusOK || body != "EVENT_RECEIVED" {
		t.Fatalf("%d %s", status, body)
	}
	lines := logs.records(t, "test event")
	if len(lines) != 1 || lines[0]["channel"] != ch || lines[0]["field"] != "messages" {
		t.Errorf("log lines about the test event: %v", lines)
	}
	if convs := need(h.admin.Conversations.ListConversations(context.Background(), &batonv1.ListConversationsRequest{
		Filter: &batonv1.ConversationFilter{ChannelId: ch},
	}))(t).GetConversations(); len(convs) != 0 {
		t.Errorf("a test event stored %d conversations", len(convs))
	}
}
