package serve_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
)

// TestInternalNotes: a supervisor's note is in the transcript and the event log for agents and
// admins, and nowhere a bot or the visitor looks: not in the bot's messages or stream, not in
// the web chat's stream. It changes nothing of the conversation, a retry stores it once, and
// bots may not write one.
func TestInternalNotes(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.chatWorld()
	sup := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Sue", Role: batonv1.AgentRole_AGENT_ROLE_SUPERVISOR,
	}))(t).GetAgent()
	supAPI := h.key(batonv1.Role_ROLE_AGENT, sup.GetId())

	chat := batonv1connect.NewWebChatServiceClient(http.DefaultClient, h.url)
	token := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: w.channel.GetId()}))(t).GetToken()
	hello := need(chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-1", Content: text_("Hello")}))(t).GetMessage()
	convID := hello.GetConversationId()
	visitor := streamChat(t, chat, token, hello.GetId())
	botStream := subscribe(t, w.botAPI, &batonv1.SubscribeRequest{Filter: &batonv1.EventFilter{ConversationId: convID}})
	before := need(h.admin.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: convID}))(t).GetConversation()

	req := &batonv1.CreateNoteRequest{ConversationId: convID, Text: "VIP: refund without asking", RequestId: "note-1"}
	note := need(supAPI.Conversations.CreateNote(ctx, req))(t).GetNote()
	if note.GetDirection() != batonv1.MessageDirection_MESSAGE_DIRECTION_INTERNAL || note.GetSender().GetId() != sup.GetId() ||
		note.GetContent().GetText().GetText() != req.GetText() {
		t.Fatalf("note %v, want an internal text message by %s", note, sup.GetId())
	}
	if again := need(supAPI.Conversations.CreateNote(ctx, req))(t).GetNote(); again.GetId() != note.GetId() {
		t.Errorf("a retry stored another note: %s, want %s", again.GetId(), note.GetId())
	}
	after := need(h.admin.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: convID}))(t).GetConversation()
	if after.GetEtag() != before.GetEtag() || after.GetEpoch() != before.GetEpoch() {
		t.Errorf("a note changed the conversation: etag %s→%s, epoch %d→%d", before.GetEtag(), after.GetEtag(), before.GetEpoch(), after.GetEpoch())
	}
	_, err := w.botAPI.Conversations.CreateNote(ctx, &batonv1.CreateNoteRequest{ConversationId: convID, Text: "bots may not"})
	if code(err) != connect.CodePermissionDenied {
		t.Errorf("a bot's note: %v, want PermissionDenied", err)
	}

	// The bot replies after the note: its stream and the visitor's, in order, show the reply
	// and never the note before it.
	reply := need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: convID, Content: text_("Hi!")}))(t).GetMessage()
	for {
		e := botStream.next(t, 1)[0].GetEvent()
		if e.GetType() == batonv1.EventType_EVENT_TYPE_NOTE_CREATED || e.GetMessage().GetId() == note.GetId() {
			t.Fatalf("the bot's stream carried the note: %v", e)
		}
		if e.GetType() == batonv1.EventType_EVENT_TYPE_MESSAGE_SENT && e.GetMessage().GetId() == reply.GetId() {
			break
		}
	}
	if got := visitor.next(t, 1)[0]; got.GetId() != reply.GetId() {
		t.Errorf("the visitor's stream gave %s (%v), want the reply %s", got.GetId(), got.GetDirection(), reply.GetId())
	}
	// A stream that catches up from the store (a reload) skips the note as well.
	if got, want := messageIDs(streamChat(t, chat, token, "").next(t, 2)), []string{hello.GetId(), reply.GetId()}; !equal(got, want) {
		t.Errorf("the visitor's catch-up %v, want %v (no note)", got, want)
	}

	list := func(c interface {
		ListMessages(context.Context, *batonv1.ListMessagesRequest) (*batonv1.ListMessagesResponse, error)
	}) []string {
		return messageIDs(need(c.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: convID}))(t).GetMessages())
	}
	if got, want := list(w.botAPI.Conversations), []string{hello.GetId(), reply.GetId()}; !equal(got, want) {
		t.Errorf("the bot's transcript %v, want %v (no note)", got, want)
	}
	for name, c := range map[string]interface {
		ListMessages(context.Context, *batonv1.ListMessagesRequest) (*batonv1.ListMessagesResponse, error)
	}{"admin": h.admin.Conversations, "supervisor": supAPI.Conversations} {
		if got, want := list(c), []string{hello.GetId(), note.GetId(), reply.GetId()}; !equal(got, want) {
			t.Errorf("the %s's transcript %v, want %v", name, got, want)
		}
	}
	evs := need(supAPI.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
		ConversationId: convID, Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_NOTE_CREATED},
	}}))(t).GetEvents()
	if len(evs) != 1 || evs[0].GetMessage().GetId() != note.GetId() {
		t.Errorf("the supervisor's note events %v, want the one note", evs)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestChatAndEventStreamsShareLiveMessages: one live message goes to a bot's event stream and to
// the visitor's chat stream, and each gets its own wire form of it (the hub renders an event
// once per kind of stream, not once for all).
func TestChatAndEventStreamsShareLiveMessages(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.chatWorld()
	chat := batonv1connect.NewWebChatServiceClient(http.DefaultClient, h.url)
	token := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: w.channel.GetId()}))(t).GetToken()
	hello := need(chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-1", Content: text_("Hello")}))(t).GetMessage()
	convID := hello.GetConversationId()
	botStream := subscribe(t, w.botAPI, &batonv1.SubscribeRequest{Filter: &batonv1.EventFilter{
		ConversationId: convID, Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_SENT},
	}})
	visitor := streamChat(t, chat, token, hello.GetId())
	for i, words := range []string{"Hi!", "How can I help?"} {
		reply := need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: convID, Content: text_(words)}))(t).GetMessage()
		if e := botStream.next(t, 1)[0].GetEvent(); e.GetMessage().GetId() != reply.GetId() {
			t.Errorf("reply %d: the bot's stream gave %v, want the event of %s", i, e, reply.GetId())
		}
		if m := visitor.next(t, 1)[0]; m.GetId() != reply.GetId() || m.GetContent().GetText().GetText() != words {
			t.Errorf("reply %d: the visitor's stream gave %v, want %s", i, m, reply.GetId())
		}
	}
}
