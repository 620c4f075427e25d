package serve_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// officeHours is Monday to Friday, 09:00–17:00 in Paris, with the given out-of-hours action.
func officeHours(action batonv1.OutOfHoursAction) *batonv1.BusinessHours {
	h := &batonv1.BusinessHours{TimeZone: "Europe/Paris", OutOfHoursAction: action}
	for d := batonv1.Weekday_WEEKDAY_MONDAY; d <= batonv1.Weekday_WEEKDAY_FRIDAY; d++ {
		h.Intervals = append(h.Intervals, &batonv1.OpenInterval{Weekday: d, Start: "09:00", End: "17:00"})
	}
	return h
}

// sentText is the text of a Messenger send request, after checking it is to the customer.
func sentText(t *testing.T, r apiRequest) string {
	t.Helper()
	if r.Path != "/v21.0/me/messages" || r.Body["recipient"].(map[string]any)["id"] != "6789" {
		t.Fatalf("send request %s %v", r.Path, r.Body)
	}
	return r.Body["message"].(map[string]any)["text"].(string)
}

// The story of one customer on Messenger, told through the fake Send API: a handoff out of
// hours stays with the bot and the customer is told; in hours, with "queued" switched off,
// nothing is said until the agent joins by name; the handback says the bot is back.
func TestAcknowledgementsEndToEnd(t *testing.T) {
	ctx := context.Background()
	api := newSendAPI(t, func(apiRequest) string { return `{"recipient_id":"6789","message_id":"m_out"}` })
	h := start(t, withAPIs(api.srv.URL+"/v21.0", "")) // Saturday 21 November 2026, 10:00 in Paris
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: "page-token-1", AppId: "1517776481860111",
	})
	ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Ann", QueueIds: []string{domain.DefaultQueueID}, Capacity: 2,
	}))(t).GetAgent()
	agent := h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
	need(agent.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)

	q := need(h.admin.Routing.UpdateQueue(ctx, &batonv1.UpdateQueueRequest{
		QueueId:       domain.DefaultQueueID,
		BusinessHours: officeHours(batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_STAY_WITH_BOT),
		Acknowledgements: &batonv1.CustomerAcknowledgements{
			Enabled:       true,
			DisabledKinds: []batonv1.AcknowledgementKind{batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_QUEUED},
			Templates: []*batonv1.AcknowledgementTemplate{{
				Kind: batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_OUT_OF_HOURS, Language: "en",
				Text: "We are closed until Monday 9:00; our assistant stays with you.",
			}},
		},
	}))(t).GetQueue()
	if q.GetBusinessHours().GetTimeZone() != "Europe/Paris" || len(q.GetBusinessHours().GetIntervals()) != 5 || !q.GetAcknowledgements().GetEnabled() {
		t.Fatalf("the queue as stored: %v", q)
	}

	inbound := `{"object":"page","entry":[{"id":"1122334455","time":1795251600000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,
		"message":{"mid":"m_customer_1","text":"I want a human"}}]}]}`
	if status, body := h.post("/webhooks/messenger/"+w.channel.GetId(), metaSigned(appSecret, inbound), inbound); status != http.StatusOK {
		t.Fatalf("the message: %d %s", status, body)
	}
	conv := w.conversation()
	bot := h.key(batonv1.Role_ROLE_BOT, w.bot.GetId())
	events := subscribe(t, bot, &batonv1.SubscribeRequest{
		Filter: &batonv1.EventFilter{ConversationId: conv.GetId(), Types: []batonv1.EventType{
			batonv1.EventType_EVENT_TYPE_HANDOVER_FAILED, batonv1.EventType_EVENT_TYPE_MESSAGE_SENT,
		}},
	})

	// Out of hours: the bot keeps the conversation and is told why; the customer is told too.
	res := need(bot.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "asked for a human"}))(t)
	ho := res.GetHandover()
	if ho.GetState() != batonv1.HandoverState_HANDOVER_STATE_FAILED ||
		ho.GetFailureReason() != batonv1.FailureReason_FAILURE_REASON_OUT_OF_HOURS ||
		ho.GetOutOfHours() != batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_STAYED_WITH_BOT {
		t.Errorf("out-of-hours handoff: %v", ho)
	}
	if res.GetConversation().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Errorf("owner after an out-of-hours handoff: %v", res.GetConversation().GetOwner())
	}
	if got := sentText(t, api.next(t)); got != "We are closed until Monday 9:00; our assistant stays with you." {
		t.Errorf("out-of-hours message %q", got)
	}
	seen := events.next(t, 2)
	if seen[0].GetEvent().GetHandover().GetOutOfHours() != batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_STAYED_WITH_BOT {
		t.Errorf("the handover.failed event does not say out of hours: %v", seen[0].GetEvent())
	}
	if m := seen[1].GetEvent().GetMessage(); m.GetSender().GetKind() != batonv1.ActorKind_ACTOR_KIND_SYSTEM ||
		m.GetDirection() != batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND {
		t.Errorf("the bot sees the acknowledgement as %v", seen[1].GetEvent())
	}

	// Monday 10:00 in Paris: open. "Queued" is switched off, so the customer hears nothing
	// until Ann joins: messages of a conversation leave in order, so a queued message would
	// have come first.
	h.clock.Advance(48 * time.Hour)
	need(agent.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	res = need(bot.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "asked for a human"}))(t)
	if res.GetHandover().GetOutOfHours() != batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_UNSPECIFIED ||
		res.GetConversation().GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE {
		t.Fatalf("handoff in hours: %v", res)
	}
	need(agent.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: res.GetHandover().GetId()}))(t)
	if got := sentText(t, api.next(t)); got != "Ann has joined the conversation." {
		t.Errorf("after accept the customer got %q", got)
	}

	need(agent.Handovers.Handback(ctx, &batonv1.HandbackRequest{
		ConversationId: conv.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED,
	}))(t)
	if got := sentText(t, api.next(t)); got != domain.DefaultAckTexts[domain.AckBackWithBot] {
		t.Errorf("after handback the customer got %q", got)
	}

	// Exactly those three acknowledgements are stored, each sent, each from Baton.
	var acks []string
	for _, m := range need(bot.Conversations.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: conv.GetId()}))(t).GetMessages() {
		if m.GetSender().GetKind() == batonv1.ActorKind_ACTOR_KIND_SYSTEM {
			acks = append(acks, m.GetContent().GetText().GetText())
		}
	}
	if len(acks) != 3 {
		t.Errorf("acknowledgements stored: %q", acks)
	}
	select {
	case r := <-api.requests:
		t.Errorf("an unexpected send: %v", r.Body)
	default:
	}
}

// Bad business hours are refused with the field that is wrong.
func TestBusinessHoursRefused(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		hours func(*batonv1.BusinessHours)
		field string
	}{
		{"unknown time zone", func(b *batonv1.BusinessHours) { b.TimeZone = "Mars/Olympus" }, "business_hours.time_zone"},
		{"end before start", func(b *batonv1.BusinessHours) { b.Intervals[0].End = "08:00" }, "business_hours.intervals[0]"},
		{"bad time", func(b *batonv1.BusinessHours) { b.Intervals[0].Start = "9:00" }, "business_hours.intervals[0].start"},
		{"out of order", func(b *batonv1.BusinessHours) { b.Intervals[0], b.Intervals[1] = b.Intervals[1], b.Intervals[0] }, "business_hours.intervals[1]"},
		{"bad date", func(b *batonv1.BusinessHours) { b.ClosedDates = []string{"christmas"} }, "business_hours.closed_dates[0]"},
		{"no action", func(b *batonv1.BusinessHours) { b.OutOfHoursAction = 0 }, "business_hours.out_of_hours_action"},
		{"other queue missing", func(b *batonv1.BusinessHours) {
			b.OutOfHoursAction, b.OutOfHoursQueueId = batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_OTHER_QUEUE, "q_missing"
		}, "business_hours.out_of_hours_queue_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := officeHours(batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_QUEUE)
			tt.hours(b)
			_, err := h.admin.Routing.UpdateQueue(ctx, &batonv1.UpdateQueueRequest{QueueId: domain.DefaultQueueID, BusinessHours: b})
			if code(err) != connect.CodeInvalidArgument {
				t.Fatalf("UpdateQueue: %v, want INVALID_ARGUMENT", err)
			}
			if fields := violatedFields(err); !slices.Contains(fields, tt.field) {
				t.Errorf("violations %q, want %s", fields, tt.field)
			}
		})
	}
}

// violatedFields lists the fields an INVALID_ARGUMENT error names: protovalidate's
// violations, or the BadRequest detail of a rule the domain checks.
func violatedFields(err error) []string {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var out []string
	for _, d := range ce.Details() {
		switch v, _ := d.Value(); v := v.(type) {
		case *errdetails.BadRequest:
			for _, f := range v.GetFieldViolations() {
				out = append(out, f.GetField())
			}
		case *validate.Violations:
			for _, viol := range v.GetViolations() {
				out = append(out, protovalidate.FieldPathString(viol.GetField()))
			}
		}
	}
	return out
}

// A closed queue sends handoffs to its night queue, which tells each customer their place in
// line and, once an agent holds a conversation, how long it waited.
func TestOutOfHoursRedirectTellsPositionAndWait(t *testing.T) {
	ctx := context.Background()
	api := newSendAPI(t, func(apiRequest) string { return `{"message_id":"m_out"}` })
	h := start(t, withAPIs(api.srv.URL+"/v21.0", "")) // a Saturday: the default queue is closed
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: "page-token-1", AppId: "1517776481860111",
	})
	night := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{
		DisplayName: "Night", Acknowledgements: &batonv1.CustomerAcknowledgements{Enabled: true},
	}))(t).GetQueue()
	hours := officeHours(batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_OTHER_QUEUE)
	hours.OutOfHoursQueueId = night.GetId()
	need(h.admin.Routing.UpdateQueue(ctx, &batonv1.UpdateQueueRequest{QueueId: domain.DefaultQueueID, BusinessHours: hours}))(t)
	ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Ann", QueueIds: []string{night.GetId()}, Capacity: 3,
	}))(t).GetAgent()
	agent := h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
	need(agent.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	bot := h.key(batonv1.Role_ROLE_BOT, w.bot.GetId())

	handoff := func(customer string) *batonv1.Handover {
		t.Helper()
		in := `{"object":"page","entry":[{"id":"1122334455","time":1795251600000,"messaging":[{
			"sender":{"id":"` + customer + `"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,
			"message":{"mid":"m_` + customer + `","text":"a human please"}}]}]}`
		if status, body := h.post("/webhooks/messenger/"+w.channel.GetId(), metaSigned(appSecret, in), in); status != http.StatusOK {
			t.Fatalf("the message: %d %s", status, body)
		}
		conv := need(h.admin.Conversations.ListConversations(ctx, &batonv1.ListConversationsRequest{
			Filter: &batonv1.ConversationFilter{ChannelId: w.channel.GetId(), OwnerKind: batonv1.OwnerKind_OWNER_KIND_BOT},
		}))(t).GetConversations()[0]
		ho := need(bot.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "human"}))(t).GetHandover()
		if ho.GetQueueId() != night.GetId() || ho.GetOutOfHours() != batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_REDIRECTED {
			t.Fatalf("handoff out of hours: %v", ho)
		}
		return ho
	}
	told := func(customer string) string {
		t.Helper()
		r := api.next(t)
		if got := r.Body["recipient"].(map[string]any)["id"]; got != customer {
			t.Fatalf("a message to %v, want %s: %v", got, customer, r.Body)
		}
		return r.Body["message"].(map[string]any)["text"].(string)
	}

	first := handoff("1001")
	if got := told("1001"); got != "Thanks for your patience: you are number 1 in line. The estimated wait is a few minutes." {
		t.Errorf("first customer: %q", got)
	}
	h.clock.Advance(4 * time.Minute)
	need(agent.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	need(agent.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: first.GetId()}))(t)
	if got := told("1001"); got != "Ann has joined the conversation." {
		t.Errorf("first customer, accepted: %q", got)
	}

	handoff("1002")
	if got := told("1002"); got != "Thanks for your patience: you are number 1 in line. The estimated wait is about 4 minutes." {
		t.Errorf("second customer: %q", got)
	}
	handoff("1003")
	if got := told("1003"); got != "Thanks for your patience: you are number 2 in line. The estimated wait is about 4 minutes." {
		t.Errorf("third customer: %q", got)
	}
}

// Agents racing to accept one handover: the winner's transaction stores the customer's "agent
// joined", the losers' roll back with theirs, so the customer is told exactly once.
func TestRacingAcceptsAcknowledgeOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { racingAccepts(t, start(t)) })
	t.Run("postgres", func(t *testing.T) { racingAccepts(t, replicas(t, 1)[0]) })
}

func racingAccepts(t *testing.T, h *harness) {
	const agents = 8
	ctx := context.Background()
	need(h.admin.Routing.UpdateQueue(ctx, &batonv1.UpdateQueueRequest{
		QueueId: domain.DefaultQueueID, Acknowledgements: &batonv1.CustomerAcknowledgements{Enabled: true},
	}))(t)
	w := h.world(agents)
	conv, ho := handedOff(t, h, w, "race")

	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range agents {
		wg.Go(func() {
			<-start
			w.agentAPI[i].Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()})
		})
	}
	close(start)
	wg.Wait()

	var texts []string
	for _, m := range need(h.admin.Conversations.ListMessages(ctx, &batonv1.ListMessagesRequest{ConversationId: conv.GetId()}))(t).GetMessages() {
		if m.GetSender().GetKind() == batonv1.ActorKind_ACTOR_KIND_SYSTEM {
			texts = append(texts, m.GetContent().GetText().GetText())
		}
	}
	// The handoff's "queued", then one "agent joined".
	if len(texts) != 2 || !strings.HasPrefix(texts[0], "Thanks for your patience") || texts[1] != "Agent has joined the conversation." {
		t.Errorf("acknowledgements after the race: %q", texts)
	}
}
