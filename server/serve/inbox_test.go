package serve_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// inboxWorld is a realistic desk: Ana serves Billing and Sales, Ben Billing, Sue supervises;
// conversations wait in Billing, Sales and Legal (which Ana does not serve), one is offered
// to Ben, one to Ana by name, and Ana owns one whose customer wrote again.
type inboxWorld struct {
	w                               world
	billing, sales, legal           string
	ana, ben, sue                   *batonv1.Agent
	anaAPI, benAPI, sueAPI          *client.Client
	owned, sales1, billing1, legal1 *batonv1.Conversation
	offeredBen, offeredAna          *batonv1.Conversation
}

func (h *harness) inboxWorld() inboxWorld {
	h.t.Helper()
	ctx := context.Background()
	t := h.t
	iw := inboxWorld{w: h.world(0)}
	queue := func(name string) string {
		return need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{
			DisplayName: name, OfferTimeout: durationpb.New(10 * time.Minute),
		}))(t).GetQueue().GetId()
	}
	iw.billing, iw.sales, iw.legal = queue("Billing"), queue("Sales"), queue("Legal")
	agent := func(name string, role batonv1.AgentRole, capacity int32, queues ...string) (*batonv1.Agent, *client.Client) {
		ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
			DisplayName: name, Role: role, Capacity: capacity, QueueIds: queues,
		}))(t).GetAgent()
		return ag, h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
	}
	iw.ana, iw.anaAPI = agent("Ana", batonv1.AgentRole_AGENT_ROLE_AGENT, 3, iw.billing, iw.sales)
	iw.ben, iw.benAPI = agent("Ben", batonv1.AgentRole_AGENT_ROLE_AGENT, 2, iw.billing)
	iw.sue, iw.sueAPI = agent("Sue", batonv1.AgentRole_AGENT_ROLE_SUPERVISOR, 5)
	presence := func(api *client.Client, p batonv1.Presence) {
		need(api.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: p}))(t)
	}
	toAgent := func(id string) *batonv1.HandoverTarget {
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_AgentId{AgentId: id}}
	}
	toQueue := func(id string) *batonv1.HandoverTarget {
		return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: id}}
	}
	handoff := func(customer, text string, target *batonv1.HandoverTarget, reason string) *batonv1.Conversation {
		conv := h.ingest(iw.w.channel.GetId(), customer, "m-"+customer, text).GetConversation()
		return need(iw.w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
			ConversationId: conv.GetId(), Target: target, Reason: reason, Summary: "summary of " + customer, QueueAnyway: true,
		}))(t).GetConversation()
	}

	// 09:00 Ana takes a billing conversation and answers; 09:01 the customer writes again.
	presence(iw.anaAPI, batonv1.Presence_PRESENCE_ONLINE)
	iw.owned = handoff("owned", "I was charged twice", toQueue(iw.billing), "billing dispute")
	need(iw.anaAPI.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: iw.owned.GetActiveHandoverId()}))(t)
	need(iw.anaAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: iw.owned.GetId(), Content: text_("Looking into it.")}))(t)
	h.clock.Advance(time.Minute)
	h.ingest(iw.w.channel.GetId(), "owned", "m-owned-2", "Any news?\nIt has been a while.")

	// While Ana is away, conversations queue: 09:02 in Sales, 09:04 in Billing (its last
	// message a bot's picture), 09:05 in Legal.
	presence(iw.anaAPI, batonv1.Presence_PRESENCE_AWAY)
	h.clock.Advance(time.Minute)
	iw.sales1 = handoff("sales-1", "Do you ship to Norway?", toQueue(iw.sales), "pre-sales question")
	h.clock.Advance(90 * time.Second)
	conv := h.ingest(iw.w.channel.GetId(), "billing-1", "m-billing-1", "Where is my invoice?").GetConversation()
	h.clock.Advance(30 * time.Second)
	need(iw.w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: &batonv1.MessageContent{
		Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, Url: "https://cdn.example.com/invoice.png", Caption: "Your  invoice",
		}},
	}}))(t)
	iw.billing1 = need(iw.w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
		ConversationId: conv.GetId(), Target: toQueue(iw.billing),
		Reason: "invoice missing", Summary: "summary of billing-1", QueueAnyway: true,
		Intake: []*batonv1.IntakeAnswer{{Question: "Order number?", Answer: "A-17"}},
	}))(t).GetConversation()
	h.clock.Advance(time.Minute)
	iw.legal1 = handoff("legal-1", "I want my data deleted", toQueue(iw.legal), "GDPR request")

	// 09:06 Ben is online and is offered a billing conversation; 09:07 Ana is back, and the bot
	// hands one to her by name (through the channel's default queue).
	presence(iw.benAPI, batonv1.Presence_PRESENCE_ONLINE)
	h.clock.Advance(time.Minute)
	iw.offeredBen = handoff("billing-2", "Refund please", toQueue(iw.billing), "refund")
	presence(iw.anaAPI, batonv1.Presence_PRESENCE_ONLINE)
	h.clock.Advance(time.Minute)
	iw.offeredAna = handoff("billing-3", "Wrong VAT number on my bill", toAgent(iw.ana.GetId()), "VAT correction")

	h.clock.Advance(3 * time.Minute) // 09:10
	return iw
}

// TestAgentInbox builds an inbox and reads it: each list, its order, counts and row fields,
// what stays out of it, and the cursor a desk follows it from.
func TestAgentInbox(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	iw := h.inboxWorld()

	in := need(iw.anaAPI.Handovers.GetInbox(ctx, &batonv1.GetInboxRequest{}))(t)
	ids := func(items []*batonv1.InboxItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.GetConversation().GetId())
		}
		return out
	}
	wantIDs := func(what string, items []*batonv1.InboxItem, want ...*batonv1.Conversation) {
		t.Helper()
		var w []string
		for _, c := range want {
			w = append(w, c.GetId())
		}
		if got := ids(items); !slices.Equal(got, w) {
			t.Errorf("%s = %v, want %v", what, got, w)
		}
	}
	wantIDs("offers", in.GetOffers(), iw.offeredAna)
	wantIDs("owned", in.GetOwned(), iw.owned)
	// Oldest wait first; Legal's is not Ana's queue, and the offer to Ana is among her offers.
	wantIDs("waiting", in.GetWaiting(), iw.sales1, iw.billing1, iw.offeredBen)
	if c := in.GetCounts(); c.GetOffers() != 1 || c.GetOwned() != 1 || c.GetWaiting() != 3 {
		t.Errorf("counts = %v, want 1 offer, 1 owned, 3 waiting", c)
	}

	// Ana's offer came through the channel's default queue, and expires by its timeout.
	offer := in.GetOffers()[0]
	if got, want := offer.GetHandover().GetOfferExpireTime().AsTime(), h.clock.Now().Add(-3*time.Minute+domain.DefaultOfferTimeout); !got.Equal(want) {
		t.Errorf("offer expires at %v, want %v", got, want)
	}
	if offer.GetHandover().GetState() != batonv1.HandoverState_HANDOVER_STATE_OFFERED || offer.GetHandover().GetOfferedAgentId() != iw.ana.GetId() {
		t.Errorf("offer handover = %v", offer.GetHandover())
	}
	wantRow(t, "offer", offer, iw.w.channel, "Customer billing-3", "VAT correction", "Wrong VAT number on my bill",
		batonv1.MessageDirection_MESSAGE_DIRECTION_INBOUND, 3*time.Minute)

	// Owned: waiting since the customer's unanswered message at 09:01, whitespace folded.
	wantRow(t, "owned", in.GetOwned()[0], iw.w.channel, "Customer owned", "billing dispute", "Any news? It has been a while.",
		batonv1.MessageDirection_MESSAGE_DIRECTION_INBOUND, 9*time.Minute)
	if got := in.GetOwned()[0].GetHandover().GetState(); got != batonv1.HandoverState_HANDOVER_STATE_ACCEPTED {
		t.Errorf("owned handover state = %v, want ACCEPTED", got)
	}

	w := in.GetWaiting()
	wantRow(t, "waiting in Sales", w[0], iw.w.channel, "Customer sales-1", "pre-sales question", "Do you ship to Norway?",
		batonv1.MessageDirection_MESSAGE_DIRECTION_INBOUND, 8*time.Minute)
	wantRow(t, "waiting in Billing", w[1], iw.w.channel, "Customer billing-1", "invoice missing", "[image] Your invoice",
		batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND, 6*time.Minute)
	if got := w[1].GetHandover().GetIntake(); len(got) != 1 || got[0].GetAnswer() != "A-17" {
		t.Errorf("waiting intake = %v, want the order number", got)
	}
	if got := w[2].GetHandover(); got.GetState() != batonv1.HandoverState_HANDOVER_STATE_OFFERED || got.GetOfferedAgentId() != iw.ben.GetId() {
		t.Errorf("third waiting handover = %v, want offered to Ben", got)
	}

	// A small page lists fewer; the counts still count all.
	small := need(iw.anaAPI.Handovers.GetInbox(ctx, &batonv1.GetInboxRequest{PageSize: 1}))(t)
	wantIDs("waiting, page of 1", small.GetWaiting(), iw.sales1)
	if small.GetCounts().GetWaiting() != 3 {
		t.Errorf("waiting count with a page of 1 = %d, want 3", small.GetCounts().GetWaiting())
	}

	// A supervisor reads Ana's inbox as she does, and in its own sees every queue.
	forAna := need(iw.sueAPI.Handovers.GetInbox(ctx, &batonv1.GetInboxRequest{AgentId: iw.ana.GetId()}))(t)
	wantIDs("Ana's waiting, read by Sue", forAna.GetWaiting(), iw.sales1, iw.billing1, iw.offeredBen)
	own := need(iw.sueAPI.Handovers.GetInbox(ctx, &batonv1.GetInboxRequest{}))(t)
	wantIDs("Sue's waiting", own.GetWaiting(), iw.sales1, iw.billing1, iw.legal1, iw.offeredBen, iw.offeredAna)
	if len(own.GetOffers())+len(own.GetOwned()) != 0 {
		t.Errorf("Sue has offers %v and owns %v, want none", ids(own.GetOffers()), ids(own.GetOwned()))
	}

	// Once Ana answers, her conversation's customer waits no more.
	need(iw.anaAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: iw.owned.GetId(), Content: text_("Refunded.")}))(t)
	again := need(iw.anaAPI.Handovers.GetInbox(ctx, &batonv1.GetInboxRequest{}))(t)
	wantRow(t, "owned, answered", again.GetOwned()[0], iw.w.channel, "Customer owned", "billing dispute", "Refunded.",
		batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND, 0)

	// The cursor follows what the inbox shows: the offer's events are at or before it, and a
	// desk subscribed after it hears the next change. (Filtered on the offered conversation,
	// which nothing else touches meanwhile.)
	cursor := again.GetCursor()
	offerFilter := &batonv1.EventFilter{ConversationId: iw.offeredAna.GetId()}
	past := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: offerFilter, PageSize: 1000}))(t).GetEvents()
	if len(past) == 0 || past[len(past)-1].GetSequence() > cursor {
		t.Fatalf("offer's events %d, the last after the cursor %d", len(past), cursor)
	}
	events := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: &cursor, Filter: offerFilter})
	need(iw.anaAPI.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: offer.GetHandover().GetId()}))(t)
	first := events.next(t, 1)[0].GetEvent()
	accepted := []batonv1.EventType{batonv1.EventType_EVENT_TYPE_HANDOVER_ACCEPTED, batonv1.EventType_EVENT_TYPE_OWNER_CHANGED}
	if first.GetSequence() <= past[len(past)-1].GetSequence() || !slices.Contains(accepted, first.GetType()) {
		t.Errorf("first event after the cursor = #%d %v, want the accept's", first.GetSequence(), first.GetType())
	}
}

// TestInboxAccess: an agent reads its own inbox only, admins must name the agent, bots may not.
func TestInboxAccess(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	iw := h.inboxWorld()
	for _, c := range []struct {
		name string
		api  *client.Client
		req  *batonv1.GetInboxRequest
		want connect.Code
	}{
		{"agent reads another's", iw.benAPI, &batonv1.GetInboxRequest{AgentId: iw.ana.GetId()}, connect.CodePermissionDenied},
		{"admin names nobody", h.admin, &batonv1.GetInboxRequest{}, connect.CodeInvalidArgument},
		{"bot", iw.w.botAPI, &batonv1.GetInboxRequest{AgentId: iw.ana.GetId()}, connect.CodePermissionDenied},
		{"unknown agent", h.admin, &batonv1.GetInboxRequest{AgentId: "agt_missing"}, connect.CodeNotFound},
		{"page too large", iw.anaAPI, &batonv1.GetInboxRequest{PageSize: 201}, connect.CodeInvalidArgument},
	} {
		if _, err := c.api.Handovers.GetInbox(ctx, c.req); code(err) != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	in := need(h.admin.Handovers.GetInbox(ctx, &batonv1.GetInboxRequest{AgentId: iw.ana.GetId()}))(t)
	if c := in.GetCounts(); c.GetOffers() != 1 || c.GetOwned() != 1 || c.GetWaiting() != 3 {
		t.Errorf("Ana's counts read by an admin = %v, want 1, 1, 3", c)
	}
}

// TestQueueStatuses reads the supervisor's view of queues: waiting counts, the oldest wait,
// and who is there with what load; an agent sees its own queues only.
func TestQueueStatuses(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	iw := h.inboxWorld()

	type load struct {
		id               string
		presence         batonv1.Presence
		active, capacity int32
	}
	type status struct {
		waiting int32
		oldest  time.Duration
		online  int32
		agents  []load
	}
	ana := load{iw.ana.GetId(), batonv1.Presence_PRESENCE_ONLINE, 1, 3}
	ben := load{iw.ben.GetId(), batonv1.Presence_PRESENCE_ONLINE, 0, 2}
	byID := func(a, b load) []load {
		if a.id > b.id {
			return []load{b, a}
		}
		return []load{a, b}
	}
	want := map[string]status{
		"default":  {waiting: 1, oldest: 3 * time.Minute},
		iw.billing: {waiting: 2, oldest: 6 * time.Minute, online: 2, agents: byID(ana, ben)},
		iw.sales:   {waiting: 1, oldest: 8 * time.Minute, online: 1, agents: []load{ana}},
		iw.legal:   {waiting: 1, oldest: 5 * time.Minute},
	}
	read := func(api *client.Client, pageSize int32) map[string]status {
		t.Helper()
		got := map[string]status{}
		req := &batonv1.ListQueueStatusesRequest{PageSize: pageSize}
		for range 10 {
			res := need(api.Routing.ListQueueStatuses(ctx, req))(t)
			for _, s := range res.GetQueueStatuses() {
				st := status{waiting: s.GetWaiting(), oldest: s.GetOldestWait().AsDuration(), online: s.GetAgentsOnline()}
				for _, a := range s.GetAgents() {
					st.agents = append(st.agents, load{a.GetAgentId(), a.GetPresence(), a.GetActiveConversations(), a.GetCapacity()})
				}
				got[s.GetQueueId()] = st
			}
			if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		return got
	}
	for name, api := range map[string]*client.Client{"supervisor": iw.sueAPI, "admin": h.admin} {
		if got := read(api, 3); !reflect.DeepEqual(got, want) {
			t.Errorf("%s's queue view = %v, want %v", name, got, want)
		}
	}
	if got := read(iw.anaAPI, 0); !reflect.DeepEqual(got, map[string]status{iw.billing: want[iw.billing], iw.sales: want[iw.sales]}) {
		t.Errorf("Ana's queue view = %v, want Billing and Sales", got)
	}
	if _, err := iw.w.botAPI.Routing.ListQueueStatuses(ctx, &batonv1.ListQueueStatusesRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("bot reads queue statuses: %v, want PERMISSION_DENIED", err)
	}
}

func wantRow(t *testing.T, what string, it *batonv1.InboxItem, ch *batonv1.Channel, contact, reason, preview string, dir batonv1.MessageDirection, wait time.Duration) {
	t.Helper()
	got := []any{it.GetContactDisplayName(), it.GetChannelId(), it.GetChannelKind(), it.GetChannelDisplayName(),
		it.GetHandover().GetReason(), it.GetLastMessagePreview(), it.GetLastMessageDirection(), it.GetWaitTime().AsDuration(),
		it.GetHandover().GetConversationId() == it.GetConversation().GetId(), it.GetLastMessageTime().IsValid()}
	want := []any{contact, ch.GetId(), ch.GetKind(), ch.GetDisplayName(), reason, preview, dir, wait, true, true}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s row = %v, want %v", what, got, want)
			return
		}
	}
	if s := it.GetHandover().GetSummary(); s == "" {
		t.Errorf("%s row has no handoff summary", what)
	}
}
