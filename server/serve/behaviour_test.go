package serve_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
)

// handedOff returns a conversation waiting in the default queue.
func handedOff(t *testing.T, h *harness, w world, customer string) (*batonv1.Conversation, *batonv1.Handover) {
	t.Helper()
	conv := h.ingest(w.channel.GetId(), customer, customer+"-m1", "I need a human").GetConversation()
	res := need(w.botAPI.Handovers.Handoff(context.Background(), &batonv1.HandoffRequest{
		ConversationId: conv.GetId(), Reason: "asked for a human", QueueAnyway: true,
	}))(t)
	return res.GetConversation(), res.GetHandover()
}

// TestConcurrentAcceptHasOneWinner races many agents accepting one handover.
func TestConcurrentAcceptHasOneWinner(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { concurrentAccept(t, start(t)) })
	t.Run("postgres", func(t *testing.T) { concurrentAccept(t, replicas(t, 1)[0]) })
}

func concurrentAccept(t *testing.T, h *harness) {
	const agents = 12
	w := h.world(agents)
	conv, ho := handedOff(t, h, w, "race")

	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]error, agents)
	for i := range agents {
		wg.Go(func() {
			<-start
			_, results[i] = w.agentAPI[i].Handovers.AcceptHandover(context.Background(), &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()})
		})
	}
	close(start)
	wg.Wait()

	winners := 0
	for i, err := range results {
		switch code(err) {
		case 0:
			winners++
		case connect.CodeFailedPrecondition:
			if !strings.Contains(err.Error(), "accepted") {
				t.Errorf("agent %d: unclear refusal %v", i, err)
			}
		default:
			t.Errorf("agent %d: %v, want success or FAILED_PRECONDITION", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d agents won the accept, want exactly 1", winners)
	}
	got := need(h.admin.Conversations.GetConversation(context.Background(), &batonv1.GetConversationRequest{ConversationId: conv.GetId()}))(t)
	if got.GetConversation().GetEpoch() != conv.GetEpoch()+1 || got.GetConversation().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_AGENT {
		t.Fatalf("after the race: %v, want one agent owner at epoch %d", got.GetConversation(), conv.GetEpoch()+1)
	}
}

// TestBotSeesOnlyItsChannels checks a bot is refused conversations of channels it is not
// bound to, on every path: get, send, hand off, list and the event stream. The refusal is
// NOT_FOUND, as for an id that does not exist, so that it tells nothing of other bots' data.
func TestBotSeesOnlyItsChannels(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	other := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "other",
	}))(t).GetChannel()
	mine := h.ingest(w.channel.GetId(), "c1", "m1", "hello").GetConversation()
	theirs := h.ingest(other.GetId(), "c2", "m2", "hello").GetConversation()

	if _, err := w.botAPI.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: theirs.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("get other channel's conversation: %v, want NOT_FOUND", err)
	}
	if _, err := w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: theirs.GetId(), Content: text_("hi")}); code(err) != connect.CodeNotFound {
		t.Errorf("send to other channel's conversation: %v, want NOT_FOUND", err)
	}
	if _, err := w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: theirs.GetId(), Reason: "x"}); code(err) != connect.CodeNotFound {
		t.Errorf("hand off other channel's conversation: %v, want NOT_FOUND", err)
	}
	if _, err := w.botAPI.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
		ChannelId: other.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "x"}, ChannelMessageId: "x", Content: text_("x"),
	}); code(err) != connect.CodeNotFound {
		t.Errorf("ingest on other channel: %v, want NOT_FOUND", err)
	}
	list := need(w.botAPI.Conversations.ListConversations(ctx, &batonv1.ListConversationsRequest{}))(t)
	if len(list.GetConversations()) != 1 || list.GetConversations()[0].GetId() != mine.GetId() {
		t.Errorf("bot lists %v, want only its own conversation", list.GetConversations())
	}
	events := need(w.botAPI.Events.ListEvents(ctx, &batonv1.ListEventsRequest{}))(t)
	for _, e := range events.GetEvents() {
		if e.GetConversationId() == theirs.GetId() {
			t.Errorf("bot read an event of another channel: %v", e)
		}
	}
	if _, err := w.botAPI.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{BotId: "bot_other"}}); code(err) != connect.CodeNotFound {
		t.Errorf("events of another bot: %v, want NOT_FOUND", err)
	}
}

func TestEveryCallNeedsAValidKey(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	for name, key := range map[string]string{"none": "", "unknown": "key_nope.secret", "malformed": "garbage"} {
		_, err := h.client(key).Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{})
		if code(err) != connect.CodeUnauthenticated {
			t.Errorf("%s key: %v, want UNAUTHENTICATED", name, err)
		}
	}
	res := need(h.admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_SERVICE}))(t)
	svc := h.client(res.GetSecret())
	need(svc.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}))(t)
	// A right id with a wrong secret is refused like any unknown key.
	forged := res.GetApiKey().GetId() + ".AAAA"
	if _, err := h.client(forged).Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("forged secret: %v, want UNAUTHENTICATED", err)
	}
	need(h.admin.APIKeys.DeleteApiKey(ctx, &batonv1.DeleteApiKeyRequest{ApiKeyId: res.GetApiKey().GetId()}))(t)
	if _, err := svc.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("revoked key: %v, want UNAUTHENTICATED", err)
	}
	if _, err := svc.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("revoked key create: %v", err)
	}
}

func TestInvalidRequestsNameTheField(t *testing.T) {
	h := start(t)
	_, err := h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
		ChannelId: "", Contact: &batonv1.ContactProfile{ExternalId: "c"}, ChannelMessageId: "m", Content: text_("x"),
	})
	if code(err) != connect.CodeInvalidArgument {
		t.Fatalf("empty channel id: %v, want INVALID_ARGUMENT", err)
	}
	var ce *connect.Error
	errors.As(err, &ce)
	found := false
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if vs, ok := v.(*validate.Violations); ok {
				for _, viol := range vs.GetViolations() {
					if viol.GetField().GetElements()[0].GetFieldName() == "channel_id" {
						found = true
					}
				}
			}
		}
	}
	if !found {
		t.Fatalf("no violation naming channel_id in %v", ce.Details())
	}
	// A malformed request stores nothing.
	if n := len(need(h.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{}))(t).GetEvents()); n != 0 {
		t.Fatalf("%d events stored by a refused request", n)
	}
}

func TestRetriesAreIdempotent(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(1)
	first := h.ingest(w.channel.GetId(), "c", "wamid.1", "hi")
	again := h.ingest(w.channel.GetId(), "c", "wamid.1", "hi")
	if !again.GetDuplicate() || again.GetMessage().GetId() != first.GetMessage().GetId() {
		t.Fatalf("redelivery: duplicate=%v id %s, want the original %s", again.GetDuplicate(), again.GetMessage().GetId(), first.GetMessage().GetId())
	}
	conv := first.GetConversation().GetId()
	send := &batonv1.SendMessageRequest{ConversationId: conv, Content: text_("hello"), RequestId: "r-1"}
	a := need(w.botAPI.Conversations.SendMessage(ctx, send))(t)
	b := need(w.botAPI.Conversations.SendMessage(ctx, send))(t)
	if a.GetMessage().GetId() != b.GetMessage().GetId() {
		t.Fatalf("retried send stored a second message")
	}
	msgs := need(h.admin.Conversations.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: conv}))(t)
	if len(msgs.GetMessages()) != 2 {
		t.Fatalf("%d messages, want 2 (one in, one out)", len(msgs.GetMessages()))
	}
	ho := &batonv1.HandoffRequest{ConversationId: conv, Reason: "r", RequestId: "h-1"}
	x := need(w.botAPI.Handovers.Handoff(ctx, ho))(t)
	y := need(w.botAPI.Handovers.Handoff(ctx, ho))(t)
	if x.GetHandover().GetId() != y.GetHandover().GetId() {
		t.Fatalf("retried handoff created a second handover")
	}
	c1 := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "b", RequestId: "create-1"}))(t)
	c2 := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "b", RequestId: "create-1"}))(t)
	if c1.GetBot().GetId() != c2.GetBot().GetId() {
		t.Fatalf("retried create made two bots")
	}
}

// TestHandoffWithNobodyAvailable checks the bot keeps the conversation and is told why.
func TestHandoffWithNobodyAvailable(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	conv := h.ingest(w.channel.GetId(), "c", "m", "human please").GetConversation()
	res := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "human"}))(t)
	if res.GetHandover().GetState() != batonv1.HandoverState_HANDOVER_STATE_FAILED ||
		res.GetHandover().GetFailureReason() != batonv1.FailureReason_FAILURE_REASON_NO_AGENT_ONLINE {
		t.Fatalf("handover = %v, want failed for no agent online", res.GetHandover())
	}
	if got := res.GetConversation(); got.GetOwner().GetId() != w.bot.GetId() || got.GetEpoch() != conv.GetEpoch() {
		t.Fatalf("conversation = %v, want still the bot's at the same epoch", got)
	}
}

// TestProtocols checks one port answers Connect, gRPC and gRPC-Web, health and reflection.
func TestProtocols(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	key := need(h.admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_ADMIN}))(t).GetSecret()
	for name, c := range map[string]*client.Client{
		"grpc":     h.client(key, client.WithHTTPClient(h2cClient()), client.WithClientOptions(connect.WithGRPC())),
		"grpc-web": h.client(key, client.WithClientOptions(connect.WithGRPCWeb())),
		"json":     h.client(key, client.WithClientOptions(connect.WithProtoJSON())),
	} {
		res, err := c.Routing.GetQueue(ctx, &batonv1.GetQueueRequest{QueueId: "default"})
		if err != nil || res.GetQueue().GetId() != "default" {
			t.Errorf("%s: %v %v", name, res, err)
		}
	}
	if got := post(t, h.url+"/grpc.health.v1.Health/Check", "", `{"service":"baton.v1.HandoverService"}`); !strings.Contains(got, "SERVING") {
		t.Errorf("grpc health = %s", got)
	}
	if got := post(t, h.url+"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "", ""); got == "" {
		t.Errorf("no reflection endpoint")
	}
	resp, err := http.Get(h.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}
	// Connect's JSON protocol works with plain HTTP, as the README's curl walkthrough uses it.
	req, _ := http.NewRequest(http.MethodPost, h.url+"/baton.v1.RoutingService/GetQueue", strings.NewReader(`{"queueId":"default"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id":"default"`) {
		t.Errorf("curl-style call = %d %s", resp.StatusCode, body)
	}
}

// TestResumeFromCursor reads part of the log, disconnects, and resumes from the cursor:
// nothing skipped, nothing repeated.
func TestResumeFromCursor(t *testing.T) {
	h := start(t)
	w := h.world(0)
	for i := range 5 {
		h.ingest(w.channel.GetId(), "c", "m"+string(rune('a'+i)), "hi")
	}
	all := need(h.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{PageSize: 1000}))(t).GetEvents()
	first := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: new(uint64)})
	head := first.next(t, 4)
	first.cancel()
	cursor := head[3].GetEvent().GetSequence()
	rest := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: &cursor})
	h.ingest(w.channel.GetId(), "c", "late", "still there?")
	tail := rest.next(t, len(all)-4+1) // the remaining stored events, then the late message
	seen := append(head, tail...)
	for i := 1; i < len(seen); i++ {
		if seen[i].GetEvent().GetSequence() != seen[i-1].GetEvent().GetSequence()+1 {
			t.Fatalf("gap or repeat at %d: %d after %d", i, seen[i].GetEvent().GetSequence(), seen[i-1].GetEvent().GetSequence())
		}
	}
}

// TestTimers drives the clock: offers expire to the next agent, idle conversations return to
// the bot, mutes lift by themselves and silent agents go offline.
func TestTimers(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(2)
	_, ho := handedOff(t, h, w, "timers")
	firstAgent := ho.GetOfferedAgentId()

	h.clock.Advance(59 * time.Second)
	runTimers(t, h)
	if got := getHandover(t, h, ho.GetId()); got.GetOfferedAgentId() != firstAgent {
		t.Fatalf("offer moved before its timeout: %v", got)
	}
	h.clock.Advance(2 * time.Second)
	runTimers(t, h)
	got := getHandover(t, h, ho.GetId())
	if got.GetOfferedAgentId() == firstAgent || got.GetState() != batonv1.HandoverState_HANDOVER_STATE_OFFERED {
		t.Fatalf("after the offer timeout: %v, want offered to the other agent", got)
	}
	second := w.agentAPI[0]
	if got.GetOfferedAgentId() == w.agents[1].GetId() {
		second = w.agentAPI[1]
	}
	accepted := need(second.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)
	conv := accepted.GetConversation()

	// Mute the bot for an hour while the agent works; it lifts by itself.
	need(second.Conversations.MuteBot(ctx, &batonv1.MuteBotRequest{
		Scope: &batonv1.MuteBotRequest_ConversationId{ConversationId: conv.GetId()}, Duration: durationpb.New(time.Hour),
	}))(t)
	h.clock.Advance(time.Hour)
	runTimers(t, h)
	c := getConversation(t, h, conv.GetId())
	if c.GetBotMutedUntil() != nil {
		t.Fatalf("mute did not expire: %v", c)
	}

	// Idle past the session timeout (24h by default), the conversation returns to the bot.
	h.clock.Advance(24 * time.Hour)
	runTimers(t, h)
	c = getConversation(t, h, conv.GetId())
	if c.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatalf("after the session timeout the owner is %v, want the bot", c.GetOwner())
	}
	if got := getHandover(t, h, ho.GetId()); got.GetEndReason() != batonv1.EndReason_END_REASON_SESSION_TIMEOUT {
		t.Fatalf("engagement after timeout: %v", got)
	}
	// The agents sent no heartbeat all along: they are offline now.
	agents := need(h.admin.Routing.ListAgents(ctx, &batonv1.ListAgentsRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	if len(agents.GetAgents()) != 0 {
		t.Fatalf("%d agents still online without heartbeats", len(agents.GetAgents()))
	}
}

func runTimers(t *testing.T, h *harness) {
	t.Helper()
	if err := h.srv.App().RunTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func getHandover(t *testing.T, h *harness, id string) *batonv1.Handover {
	t.Helper()
	return need(h.admin.Handovers.GetHandover(context.Background(), &batonv1.GetHandoverRequest{HandoverId: id}))(t).GetHandover()
}

func getConversation(t *testing.T, h *harness, id string) *batonv1.Conversation {
	t.Helper()
	return need(h.admin.Conversations.GetConversation(context.Background(), &batonv1.GetConversationRequest{ConversationId: id}))(t).GetConversation()
}

// TestTakeoverAndMute: an agent takes over from the bot, a supervisor from that agent, and a
// muted bot loses its conversation to the queue.
func TestTakeoverAndMute(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(2)
	conv := h.ingest(w.channel.GetId(), "c", "m", "hi").GetConversation()
	took := need(w.agentAPI[0].Handovers.Takeover(ctx, &batonv1.TakeoverRequest{ConversationId: conv.GetId(), Reason: "VIP"}))(t)
	if took.GetConversation().GetOwner().GetId() != w.agents[0].GetId() {
		t.Fatalf("takeover owner = %v", took.GetConversation().GetOwner())
	}
	if _, err := w.agentAPI[1].Handovers.Takeover(ctx, &batonv1.TakeoverRequest{ConversationId: conv.GetId()}); code(err) != connect.CodeNotFound {
		t.Fatalf("agent taking over a conversation it cannot see: %v, want NOT_FOUND", err)
	}
	supervisor := w.agents[1].GetId()
	need(h.admin.Routing.UpdateAgent(ctx, &batonv1.UpdateAgentRequest{AgentId: supervisor, Role: batonv1.AgentRole_AGENT_ROLE_SUPERVISOR.Enum()}))(t)
	sup := need(w.agentAPI[1].Handovers.Takeover(ctx, &batonv1.TakeoverRequest{ConversationId: conv.GetId()}))(t)
	if sup.GetConversation().GetOwner().GetId() != supervisor {
		t.Fatalf("supervisor takeover owner = %v", sup.GetConversation().GetOwner())
	}

	other := h.ingest(w.channel.GetId(), "d", "m2", "hi").GetConversation()
	muted := need(w.agentAPI[1].Conversations.MuteBot(ctx, &batonv1.MuteBotRequest{
		Scope: &batonv1.MuteBotRequest_ConversationId{ConversationId: other.GetId()},
	}))(t).GetConversation()
	if muted.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Fatalf("muted bot still owns: %v", muted.GetOwner())
	}
	if until := muted.GetBotMutedUntil().AsTime(); !until.Equal(h.clock.Now().Add(72 * time.Hour)) {
		t.Fatalf("default mute until %v, want 72h from now", until)
	}
	if _, err := w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: other.GetId(), Content: text_("hi")}); code(err) != connect.CodeFailedPrecondition {
		t.Fatalf("muted bot send: %v, want FAILED_PRECONDITION", err)
	}
}

// post sends a Connect JSON call with plain net/http and returns the body (or the status line
// when the call failed).
func post(t *testing.T, url, key, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return string(b)
}

// TestCORS checks a browser on an allowed origin may call the API and others may not.
func TestCORS(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.AllowedOrigins = []string{"https://desk.example"} })
	for origin, allowed := range map[string]bool{"https://desk.example": true, "https://evil.example": false} {
		req, _ := http.NewRequest(http.MethodOptions, h.url+"/baton.v1.RoutingService/GetQueue", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type") // sorted, as browsers send it
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin") == origin; got != allowed {
			t.Errorf("origin %s allowed = %v, want %v", origin, got, allowed)
		}
	}
}

// TestOfflineAgentLosesOffer: an agent going offline passes its live offer to the next agent
// at once, without waiting for the offer timeout.
func TestOfflineAgentLosesOffer(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(2)
	_, ho := handedOff(t, h, w, "offline")
	first := 0
	if ho.GetOfferedAgentId() == w.agents[1].GetId() {
		first = 1
	}
	need(w.agentAPI[first].Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_OFFLINE}))(t)
	got := getHandover(t, h, ho.GetId())
	if got.GetOfferedAgentId() != w.agents[1-first].GetId() {
		t.Fatalf("after the agent went offline the offer is to %q, want %q", got.GetOfferedAgentId(), w.agents[1-first].GetId())
	}
}

// TestLapsedOfferComesBack: an offer that expired is not a decline; once its agent is free
// again the waiting conversation is offered to it, not stranded.
func TestLapsedOfferComesBack(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(1)
	need(h.admin.Routing.UpdateAgent(ctx, &batonv1.UpdateAgentRequest{AgentId: w.agents[0].GetId(), Capacity: proto.Int32(1)}))(t)
	first, ho1 := handedOff(t, h, w, "first")
	_, ho2 := handedOff(t, h, w, "second")
	need(w.agentAPI[0].Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho1.GetId()}))(t)
	h.clock.Advance(61 * time.Second)
	runTimers(t, h)
	if got := getHandover(t, h, ho2.GetId()); got.GetState() != batonv1.HandoverState_HANDOVER_STATE_REQUESTED {
		t.Fatalf("second handover after its offer lapsed: %v, want waiting", got.GetState())
	}
	need(w.agentAPI[0].Handovers.Handback(ctx, &batonv1.HandbackRequest{
		ConversationId: first.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED,
	}))(t)
	runTimers(t, h)
	if got := getHandover(t, h, ho2.GetId()); got.GetOfferedAgentId() != w.agents[0].GetId() {
		t.Fatalf("second handover once the agent is free: offered to %q, want %q", got.GetOfferedAgentId(), w.agents[0].GetId())
	}
}

// TestUnboundBotStopsReceivingEvents: events of a channel belong to the bot bound to it now.
func TestUnboundBotStopsReceivingEvents(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	h.ingest(w.channel.GetId(), "c", "m1", "hello")
	need(h.admin.Bots.UnbindChannel(ctx, &batonv1.UnbindChannelRequest{BotId: w.bot.GetId(), ChannelId: w.channel.GetId()}))(t)
	before := len(need(w.botAPI.Events.ListEvents(ctx, &batonv1.ListEventsRequest{PageSize: 1000}))(t).GetEvents())
	h.ingest(w.channel.GetId(), "c", "m2", "still there?")
	after := need(w.botAPI.Events.ListEvents(ctx, &batonv1.ListEventsRequest{PageSize: 1000}))(t).GetEvents()
	if len(after) != before {
		t.Fatalf("the unbound bot read %d new events of the channel: %v", len(after)-before, after[before:])
	}
}

// gatedStore holds the first Write after it is armed until released, and says when one has
// arrived: a request is then surely in flight inside the server.
type gatedStore struct {
	store.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	if g.armed.CompareAndSwap(true, false) {
		close(g.entered)
		<-g.release
	}
	return g.Store.Write(ctx, fn)
}

// TestShutdownLetsRequestsFinish: a request in flight when shutdown starts completes, while
// event streams end.
func TestShutdownLetsRequestsFinish(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gate := &gatedStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
	srv, err := serve.New(context.Background(), serve.Config{Store: gate, TimerInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l, 5*time.Second) }()
	_, key, err := srv.App().CreateAPIKey(context.Background(), domain.Principal{Role: domain.PrincipalAdmin, KeyID: "t"}, "", domain.PrincipalAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New("http://"+l.Addr().String(), key)
	stream, err := c.Events.Subscribe(context.Background(), &batonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	gate.armed.Store(true)
	result := make(chan error, 1)
	go func() {
		_, err := c.Routing.CreateQueue(context.Background(), &batonv1.CreateQueueRequest{DisplayName: "late"})
		result <- err
	}()
	<-gate.entered // the request is inside the server
	stop()
	close(gate.release)
	if err := <-result; err != nil {
		t.Fatalf("request in flight at shutdown: %v", err)
	}
	for stream.Receive() { // the stream ends
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestServeReturnsWhenTheListenerFails: a dead listener ends Serve with an error, not a hang.
func TestServeReturnsWhenTheListenerFails(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := serve.New(context.Background(), serve.Config{Store: st, TimerInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := srv.Serve(context.Background(), l, time.Second); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}

// TestYoungHandoverIsOfferedBehindStuckOnes: many older handovers nobody can take (their
// queue has no agent) do not keep a younger one an agent can take from being offered.
func TestYoungHandoverIsOfferedBehindStuckOnes(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	empty := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "nobody here"}))(t).GetQueue()
	for i := range 210 { // more than one timer batch
		conv := h.ingest(w.channel.GetId(), "stuck-"+strconv.Itoa(i), "s"+strconv.Itoa(i), "help").GetConversation()
		need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
			ConversationId: conv.GetId(), Reason: "r", QueueAnyway: true,
			Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: empty.GetId()}},
		}))(t)
	}
	_, young := handedOff(t, h, w, "young") // to the default queue, nobody online yet
	ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "Late", QueueIds: []string{"default"}}))(t).GetAgent()
	need(h.admin.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{AgentId: ag.GetId(), Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	runTimers(t, h)
	if got := getHandover(t, h, young.GetId()); got.GetOfferedAgentId() != ag.GetId() {
		t.Fatalf("young handover offered to %q, want %q", got.GetOfferedAgentId(), ag.GetId())
	}
}

// TestAgentsSeeContactsOfTheirChannels: an agent sees the contacts of channels whose default
// queue it serves, and no others.
func TestAgentsSeeContactsOfTheirChannels(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(1) // the agent serves the default queue, the channel's default
	contact := h.ingest(w.channel.GetId(), "c", "m", "hi").GetContact()
	need(w.agentAPI[0].Conversations.GetContact(ctx, &batonv1.GetContactRequest{ContactId: contact.GetId()}))(t)

	other := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "elsewhere"}))(t).GetQueue()
	stranger := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "S", QueueIds: []string{other.GetId()}}))(t).GetAgent()
	api := h.key(batonv1.Role_ROLE_AGENT, stranger.GetId())
	if _, err := api.Conversations.GetContact(ctx, &batonv1.GetContactRequest{ContactId: contact.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("stranger GetContact: %v, want NOT_FOUND", err)
	}
	if _, err := api.Conversations.ListContacts(ctx, &batonv1.ListContactsRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("stranger ListContacts without a channel: %v, want PERMISSION_DENIED", err)
	}
	if _, err := api.Conversations.ListContacts(ctx, &batonv1.ListContactsRequest{ChannelId: w.channel.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("stranger ListContacts of the channel: %v, want NOT_FOUND", err)
	}
}

// TestRevokedKeyEndsItsStream: revoking a key ends the event streams opened with it at once
// (their periodic check is an hour away here).
func TestRevokedKeyEndsItsStream(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.KeyCheckInterval = time.Hour })
	ctx := context.Background()
	res := need(h.admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_SERVICE}))(t)
	stream, err := h.client(res.GetSecret()).Events.Subscribe(ctx, &batonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	need(h.admin.APIKeys.DeleteApiKey(ctx, &batonv1.DeleteApiKeyRequest{ApiKeyId: res.GetApiKey().GetId()}))(t)
	for stream.Receive() {
	}
	if code(stream.Err()) != connect.CodeUnauthenticated {
		t.Fatalf("stream of a revoked key ended with %v, want UNAUTHENTICATED", stream.Err())
	}
}
