package serve_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// chatWorld is a web chat channel with a webhook secret and a bound bot.
type chatWorld struct {
	channel *batonv1.Channel
	bot     *batonv1.Bot
	botAPI  *client.Client
}

func (h *harness) webchatChannel(name, secret string) *batonv1.Channel {
	h.t.Helper()
	return need(h.admin.Channels.CreateChannel(context.Background(), &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: name + "-" + h.t.Name(), DisplayName: name,
		Credentials: &batonv1.ChannelCredentials{WebhookSecret: secret},
	}))(h.t).GetChannel()
}

func (h *harness) chatWorld() chatWorld {
	h.t.Helper()
	ctx := context.Background()
	ch := h.webchatChannel("site", "whsec_site")
	bot := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Site bot"}))(h.t).GetBot()
	need(h.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: bot.GetId(), ChannelId: ch.GetId()}))(h.t)
	return chatWorld{channel: ch, bot: bot, botAPI: h.key(batonv1.Role_ROLE_BOT, bot.GetId())}
}

// chatStream collects a StreamChat stream's messages on a goroutine.
type chatStream struct {
	messages chan *batonv1.Message
	done     chan error
}

func streamChat(t *testing.T, c batonv1connect.WebChatServiceClient, token, after string) *chatStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.StreamChat(ctx, &batonv1.StreamChatRequest{Token: token, AfterMessageId: after})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &chatStream{messages: make(chan *batonv1.Message, 1024), done: make(chan error, 1)}
	go func() {
		defer close(s.messages)
		for stream.Receive() {
			for _, m := range stream.Msg().GetMessages() {
				s.messages <- m
			}
		}
		s.done <- stream.Err()
	}()
	t.Cleanup(func() { cancel(); stream.Close() })
	return s
}

// next returns the next n messages, failing the test if they do not arrive within a generous
// bound (a guard against hanging, not a synchronisation).
func (s *chatStream) next(t *testing.T, n int) []*batonv1.Message {
	t.Helper()
	var out []*batonv1.Message
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m, ok := <-s.messages:
			if !ok {
				t.Fatalf("stream ended after %d of %d messages: %v", len(out), n, <-s.done)
			}
			out = append(out, m)
		case <-timeout:
			t.Fatalf("got %d of %d messages", len(out), n)
		}
	}
	return out
}

// end waits for the stream to end and returns its error.
func (s *chatStream) end(t *testing.T) error {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-s.messages:
			if ok {
				t.Fatalf("unexpected message %s", m.GetId())
			}
			return <-s.done
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

// flipChar changes the i-th character of a token part to another of the base64url alphabet.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func messageIDs(msgs []*batonv1.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.GetId())
	}
	return out
}

func TestWebChat(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.chatWorld()
	chat := batonv1connect.NewWebChatServiceClient(http.DefaultClient, h.url) // no API key

	token := need(chat.StartChat(ctx, &batonv1.StartChatRequest{
		ChannelId: w.channel.GetId(), DisplayName: "Ada", Locale: "en-GB",
	}))(t).GetToken()
	// Opened before the visitor's first message: it waits for it.
	live := streamChat(t, chat, token, "")

	send := &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-1", Content: text_("Hello?")}
	sent := need(chat.SendChatMessage(ctx, send))(t).GetMessage()
	if sent.GetDirection() != batonv1.MessageDirection_MESSAGE_DIRECTION_INBOUND || sent.GetSender().GetKind() != batonv1.ActorKind_ACTOR_KIND_CUSTOMER {
		t.Fatalf("sent %v", sent)
	}
	retry := need(chat.SendChatMessage(ctx, send))(t).GetMessage()
	if retry.GetId() != sent.GetId() {
		t.Fatalf("a retry stored %s besides %s", retry.GetId(), sent.GetId())
	}

	// The conversation is the visitor's, owned by the channel's bot, and holds one message.
	conv := need(h.admin.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: sent.GetConversationId()}))(t).GetConversation()
	if conv.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT || conv.GetOwner().GetId() != w.bot.GetId() || conv.GetChannelId() != w.channel.GetId() {
		t.Fatalf("conversation %v", conv)
	}
	contact := need(h.admin.Conversations.GetContact(ctx, &batonv1.GetContactRequest{ContactId: conv.GetContactId()}))(t).GetContact()
	if !strings.HasPrefix(contact.GetExternalId(), "visitor_") || contact.GetDisplayName() != "Ada" || contact.GetLocale() != "en-GB" {
		t.Fatalf("contact %v", contact)
	}
	listed := need(h.admin.Conversations.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: conv.GetId()}))(t).GetMessages()
	if len(listed) != 1 {
		t.Fatalf("%d messages stored, want 1", len(listed))
	}

	if got := live.next(t, 1); got[0].GetId() != sent.GetId() {
		t.Fatalf("streamed %v, want the visitor's %s", messageIDs(got), sent.GetId())
	}
	// The reply comes a second later: the clock orders the conversation's messages.
	h.clock.Advance(time.Second)
	reply := need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text_("Hi Ada, how can I help?")}))(t).GetMessage()
	got := live.next(t, 1)[0]
	if got.GetId() != reply.GetId() || got.GetDirection() != batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND ||
		got.GetSender().GetKind() != batonv1.ActorKind_ACTOR_KIND_BOT || got.GetContent().GetText().GetText() != "Hi Ada, how can I help?" {
		t.Fatalf("streamed %v, want the bot's reply %s", got, reply.GetId())
	}

	// A widget reloading the page reads the whole chat again, or resumes after what it has.
	if got := streamChat(t, chat, token, "").next(t, 2); strings.Join(messageIDs(got), ",") != sent.GetId()+","+reply.GetId() {
		t.Fatalf("replayed %v, want [%s %s]", messageIDs(got), sent.GetId(), reply.GetId())
	}
	if got := streamChat(t, chat, token, sent.GetId()).next(t, 1); got[0].GetId() != reply.GetId() {
		t.Fatalf("resumed with %v, want %s", messageIDs(got), reply.GetId())
	}

	// Another visitor of the channel has a chat of their own, and cannot resume from this one.
	other := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: w.channel.GetId()}))(t).GetToken()
	if err := streamChat(t, chat, other, sent.GetId()).end(t); code(err) != connect.CodeInvalidArgument {
		t.Fatalf("another visitor resuming from this chat: %v, want INVALID_ARGUMENT", err)
	}
	theirs := need(chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: other, ClientMessageId: "c-1", Content: text_("Hi")}))(t).GetMessage()
	if theirs.GetConversationId() == conv.GetId() || theirs.GetId() == sent.GetId() {
		t.Fatalf("another visitor's message %v joined the first visitor's chat", theirs)
	}
}

func TestWebChatRefusals(t *testing.T) {
	// Streams check their token once an hour here: only the channel's change can end one in time.
	h := start(t, func(c *serve.Config) { c.KeyCheckInterval = time.Hour })
	ctx := context.Background()
	w := h.chatWorld()
	otherSite := h.webchatChannel("other-site", "whsec_other")
	bare := h.webchatChannel("no-secret", "")
	generic := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "generic-" + t.Name(),
		Credentials: &batonv1.ChannelCredentials{WebhookSecret: "whsec_generic"},
	}))(t).GetChannel()
	chat := batonv1connect.NewWebChatServiceClient(http.DefaultClient, h.url)

	// StartChat knows web chat channels only.
	for _, id := range []string{generic.GetId(), "ch_missing"} {
		if _, err := chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: id}); code(err) != connect.CodeNotFound {
			t.Errorf("StartChat(%s): %v, want NOT_FOUND", id, err)
		}
	}
	if _, err := chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: bare.GetId()}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("StartChat without a secret: %v, want FAILED_PRECONDITION", err)
	}

	token := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: w.channel.GetId()}))(t).GetToken()
	otherToken := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: otherSite.GetId()}))(t).GetToken()
	payload, mac, _ := strings.Cut(token, ".")
	otherPayload, otherMAC, _ := strings.Cut(otherToken, ".")
	forged := map[string]string{
		"garbage":                   "not-a-token",
		"tampered payload":          flipChar(payload, len(payload)/2) + "." + mac,
		"tampered mac":              payload + "." + flipChar(mac, 5),
		"other channel's payload":   otherPayload + "." + mac,
		"signed by another channel": payload + "." + otherMAC,
	}
	for name, bad := range forged {
		_, err := chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: bad, ClientMessageId: "c-1", Content: text_("Hi")})
		if code(err) != connect.CodeUnauthenticated {
			t.Errorf("%s: SendChatMessage: %v, want UNAUTHENTICATED", name, err)
		}
		if err := streamChat(t, chat, bad, "").end(t); code(err) != connect.CodeUnauthenticated {
			t.Errorf("%s: StreamChat: %v, want UNAUTHENTICATED", name, err)
		}
	}
	// Visitors send what customers send, not a bot's buttons.
	buttons := &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
		Text: "Pick", Replies: []*batonv1.QuickReply{{Title: "Yes", Payload: "yes"}},
	}}}
	if _, err := chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-2", Content: buttons}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("a visitor's quick replies: %v, want INVALID_ARGUMENT", err)
	}

	// A new channel secret revokes its visitors' tokens, and ends their open streams.
	need(chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-1", Content: text_("Hi")}))(t)
	live := streamChat(t, chat, token, "")
	live.next(t, 1)
	need(h.admin.Channels.UpdateChannel(ctx, &batonv1.UpdateChannelRequest{
		ChannelId: w.channel.GetId(), Credentials: &batonv1.ChannelCredentials{WebhookSecret: "whsec_rotated"},
	}))(t)
	if err := live.end(t); code(err) != connect.CodeUnauthenticated {
		t.Errorf("an open stream after rotation: %v, want UNAUTHENTICATED", err)
	}
	if _, err := chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-3", Content: text_("Hi")}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("SendChatMessage after rotation: %v, want UNAUTHENTICATED", err)
	}
}

// TestWebChatStreamsEveryMessageOnce has the bot reply in a burst while visitors' streams are
// open, each stream with room for two waiting events: each visitor gets every message of their
// chat once, in order, and nothing of another's. On two PostgreSQL replicas, the streams' replica
// reads nothing until the burst is stored, so that its streams fall behind and catch up from the
// store.
func TestWebChatStreamsEveryMessageOnce(t *testing.T) {
	small := func(c *serve.Config) { c.EventBuffer = 2 }
	t.Run("sqlite", func(t *testing.T) {
		h := start(t, small)
		webChatBurst(t, h, h, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
		var hs []*harness
		gate := &readGate{}
		for i := range 2 {
			st, err := postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
			if err != nil {
				t.Fatal(err)
			}
			var s store.Store = st
			if i == 1 {
				gate.Store = st
				s = gate
			}
			hs = append(hs, startOn(t, s, clk, small))
		}
		webChatBurst(t, hs[0], hs[1], gate)
	})
}

// readGate holds every Read while closed (its server's hub and streams read nothing), and lets
// them all go on when opened. A Listener all the same.
type readGate struct {
	store.Store
	mu sync.RWMutex
}

func (g *readGate) close() { g.mu.Lock() }
func (g *readGate) open()  { g.mu.Unlock() }

func (g *readGate) Read(ctx context.Context, fn func(store.Tx) error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.Store.Read(ctx, fn)
}

func (g *readGate) Listen(ctx context.Context, onCommit func()) error {
	return g.Store.(serve.Listener).Listen(ctx, onCommit)
}

func webChatBurst(t *testing.T, writer, reader *harness, gate *readGate) {
	ctx := context.Background()
	w := writer.chatWorld()
	chat := batonv1connect.NewWebChatServiceClient(http.DefaultClient, writer.url)
	var streams []*chatStream
	var convs []string
	for i := range 2 {
		token := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: w.channel.GetId()}))(t).GetToken()
		s := streamChat(t, batonv1connect.NewWebChatServiceClient(http.DefaultClient, reader.url), token, "")
		m := need(chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "hi", Content: text_("Hello " + strconv.Itoa(i))}))(t).GetMessage()
		if got := s.next(t, 1)[0]; got.GetId() != m.GetId() { // the stream is live
			t.Fatalf("visitor %d streamed %s, want %s", i, got.GetId(), m.GetId())
		}
		streams, convs = append(streams, s), append(convs, m.GetConversationId())
	}
	if gate != nil {
		gate.close()
	}
	const replies = 30
	for j := range replies {
		for _, conv := range convs {
			writer.clock.Advance(time.Millisecond) // the clock orders a conversation's messages
			need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv, Content: text_("reply " + strconv.Itoa(j))}))(t)
		}
	}
	if gate != nil {
		gate.open()
	}
	for i, conv := range convs {
		stored := need(writer.admin.Conversations.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: conv, PageSize: 100}))(t).GetMessages()
		if len(stored) != replies+1 {
			t.Fatalf("conversation %d holds %d messages, want %d", i, len(stored), replies+1)
		}
		got := messageIDs(streams[i].next(t, replies))
		if want := messageIDs(stored[1:]); !slices.Equal(got, want) {
			t.Fatalf("visitor %d streamed %v\nwant %v", i, got, want)
		}
	}
}
