package main

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store/sqlite"
)

// TestFAQBot runs the example against a real Baton: an answer, two messages it does not
// understand and the handoff that follows, and the greeting when the agent hands back.
func TestFAQBot(t *testing.T) {
	ctx := context.Background()
	baton, admin := startBaton(t)
	ch := need(admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site"}))(t).GetChannel()
	b := need(admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "FAQ"}))(t).GetBot()
	need(admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: b.GetId(), ChannelId: ch.GetId()}))(t)
	ag := need(admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "Ada", QueueIds: []string{domain.DefaultQueueID}}))(t).GetAgent()
	agent := client.New(baton, need(admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_AGENT, SubjectId: ag.GetId()}))(t).GetSecret())
	need(agent.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	botAPI := client.New(baton, need(admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_BOT, SubjectId: b.GetId()}))(t).GetSecret())

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, botAPI, b.GetId(), l, "http://"+l.Addr().String()+"/baton") }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	say := func(text string) *batonv1.Conversation {
		return need(admin.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
			ChannelId: ch.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "grace"},
			ChannelMessageId: text, Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: text}}},
		}))(t).GetConversation()
	}
	waitFor(t, "the webhook to pass verification", func() bool {
		hooks := need(admin.Bots.ListWebhooks(ctx, &batonv1.ListWebhooksRequest{BotId: b.GetId()}))(t).GetWebhooks()
		return len(hooks) == 1 && hooks[0].GetState() == batonv1.WebhookState_WEBHOOK_STATE_ACTIVE
	})
	conv := say("What are your opening hours?")
	awaitReplies(t, admin, conv.GetId(), "We are open Monday to Friday, 9:00 to 18:00.")
	say("blue banana")
	awaitReplies(t, admin, conv.GetId(), "We are open Monday to Friday, 9:00 to 18:00.", "Sorry, I did not get that. I can tell you about:")
	say("purple cucumber")
	awaitReplies(t, admin, conv.GetId(), "We are open Monday to Friday, 9:00 to 18:00.", "Sorry, I did not get that. I can tell you about:", "Let me find a human for you.")

	var handover *batonv1.Handover
	waitFor(t, "the handoff to be offered", func() bool {
		hs := need(admin.Handovers.ListHandovers(ctx, &batonv1.ListHandoversRequest{ConversationId: conv.GetId()}))(t).GetHandovers()
		if len(hs) == 1 && hs[0].GetState() == batonv1.HandoverState_HANDOVER_STATE_OFFERED {
			handover = hs[0]
		}
		return handover != nil
	})
	if handover.GetReason() != "the bot did not understand twice" {
		t.Fatalf("handoff reason %q", handover.GetReason())
	}
	need(agent.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: handover.GetId()}))(t)
	need(agent.Handovers.Handback(ctx, &batonv1.HandbackRequest{ConversationId: conv.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED}))(t)
	awaitReplies(t, admin, conv.GetId(), "We are open Monday to Friday, 9:00 to 18:00.", "Sorry, I did not get that. I can tell you about:",
		"Let me find a human for you.", "Welcome back! Anything else I can help with?")
}

// awaitReplies waits until the bot's messages in the conversation are want.
func awaitReplies(t *testing.T, admin *client.Client, conversationID string, want ...string) {
	t.Helper()
	var got []string
	waitFor(t, "the bot's replies", func() bool {
		got = got[:0]
		msgs := need(admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: conversationID}))(t)
		for _, m := range msgs.GetMessages() {
			if m.GetSender().GetKind() == batonv1.ActorKind_ACTOR_KIND_BOT {
				got = append(got, m.GetContent().GetText().GetText()+m.GetContent().GetQuickReplies().GetText())
			}
		}
		return len(got) >= len(want)
	})
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bot said %q, want %q", got, want)
		}
	}
}

func startBaton(t *testing.T) (string, *client.Client) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(ctx, serve.Config{Store: st, TimerInterval: -1,
		Webhooks: serve.WebhookConfig{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, l, 15*time.Second) }()
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		stop()
		<-done
		st.Close()
	})
	_, secret, err := srv.App().CreateAPIKey(ctx, domain.Principal{Role: domain.PrincipalAdmin, KeyID: "test"}, "admin", domain.PrincipalAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + l.Addr().String(), client.New("http://"+l.Addr().String(), secret)
}

// need unwraps a call's result, failing the test when the call failed.
func need[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// waitFor polls cond until it holds, failing the test after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
