package serve_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// replicas starts n servers, each with its own connection pool, on one PostgreSQL schema
// and one clock. Idle streams and publishers never poll (an hour), so anything that crosses
// replicas promptly crossed through the database's notifications.
func replicas(t *testing.T, n int) []*harness {
	t.Helper()
	url := pgtest.URL(t)
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	var hs []*harness
	for range n {
		st, err := postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, startOn(t, st, clk, func(c *serve.Config) { c.EventPollInterval = time.Hour }))
	}
	return hs
}

// secret creates a key through the first replica; every replica accepts it.
func secret(t *testing.T, h *harness, role batonv1.Role, subject string) string {
	t.Helper()
	return need(h.admin.APIKeys.CreateApiKey(context.Background(), &batonv1.CreateApiKeyRequest{Role: role, SubjectId: subject}))(t).GetSecret()
}

func TestReplicasStreamAcross(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	w := a.world(0)
	onB := subscribe(t, b.client(secret(t, a, batonv1.Role_ROLE_BOT, w.bot.GetId())), &batonv1.SubscribeRequest{AfterSequence: new(uint64)})
	a.ingest(w.channel.GetId(), "c", "m1", "written on A")
	got := onB.next(t, 3) // created, owner changed, message received
	if got[2].GetEvent().GetType() != batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED {
		t.Fatalf("events on B = %v", types(got))
	}
	// A live stream (already caught up) on B is woken by a write on A.
	a.ingest(w.channel.GetId(), "c", "m2", "again")
	if e := onB.next(t, 1)[0]; e.GetEvent().GetMessage().GetChannelMessageId() != "m2" {
		t.Fatalf("live event on B = %v", e)
	}
}

// TestReplicasConcurrentWriters has writers on three replicas commit concurrently while a
// subscriber on one replica, and then a resumed subscriber on another, read the log: every
// event arrives exactly once, in increasing sequence, each conversation's in its own order.
func TestReplicasConcurrentWriters(t *testing.T) {
	hs := replicas(t, 3)
	w := hs[0].world(0)
	const writers, perWriter = 6, 20
	first := subscribe(t, hs[2].admin, &batonv1.SubscribeRequest{AfterSequence: new(uint64), Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED},
	}})
	var wg sync.WaitGroup
	for i := range writers {
		h := hs[i%len(hs)]
		wg.Go(func() {
			for j := range perWriter {
				// Each writer is one customer writing in order; customers interleave.
				_, err := h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
					ChannelId: w.channel.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "w" + strconv.Itoa(i)},
					ChannelMessageId: fmt.Sprintf("w%d-%03d", i, j), Content: text_("hi"),
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	half := first.next(t, writers*perWriter/2)
	first.cancel()
	cursor := half[len(half)-1].GetEvent().GetSequence()
	rest := subscribe(t, hs[1].admin, &batonv1.SubscribeRequest{AfterSequence: &cursor, Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED},
	}})
	wg.Wait()
	all := append(half, rest.next(t, writers*perWriter-len(half))...)

	seen := map[string]bool{}
	lastOf := map[string]string{}
	for i, e := range all {
		ev := e.GetEvent()
		if i > 0 && ev.GetSequence() <= all[i-1].GetEvent().GetSequence() {
			t.Fatalf("sequence %d after %d", ev.GetSequence(), all[i-1].GetEvent().GetSequence())
		}
		id := ev.GetMessage().GetChannelMessageId()
		if seen[id] {
			t.Fatalf("message %s delivered twice", id)
		}
		seen[id] = true
		writer := id[:len(id)-4]
		if id <= lastOf[writer] {
			t.Fatalf("customer %s: %s after %s", writer, id, lastOf[writer])
		}
		lastOf[writer] = id
	}
	if len(seen) != writers*perWriter {
		t.Fatalf("%d distinct messages, want %d", len(seen), writers*perWriter)
	}
}

// TestReplicasAcceptRace has agents accept one handover through different replicas at once.
func TestReplicasAcceptRace(t *testing.T) {
	hs := replicas(t, 3)
	const agents = 9
	w := hs[0].world(agents)
	conv, ho := handedOff(t, hs[0], w, "race")
	keys := make([]*client.Client, agents)
	for i, ag := range w.agents {
		keys[i] = hs[i%len(hs)].client(secret(t, hs[0], batonv1.Role_ROLE_AGENT, ag.GetId()))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, agents)
	for i := range agents {
		wg.Go(func() {
			<-start
			_, errs[i] = keys[i].Handovers.AcceptHandover(context.Background(), &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()})
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch code(err) {
		case 0:
			winners++
		case connect.CodeFailedPrecondition:
		default:
			t.Errorf("agent %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d winners, want 1", winners)
	}
	timeline := need(hs[1].admin.Handovers.GetOwnershipTimeline(context.Background(), &batonv1.GetOwnershipTimelineRequest{ConversationId: conv.GetId()}))(t)
	for i, p := range timeline.GetPeriods() {
		if p.GetEpoch() != uint64(i+1) {
			t.Fatalf("timeline epochs not consecutive: %v", timeline.GetPeriods())
		}
	}
	if n := len(timeline.GetPeriods()); n != 3 { // bot, queue, the one agent
		t.Fatalf("%d ownership periods, want 3", n)
	}
}

// TestReplicasTimersFireOnce runs every replica's timers at once on a due offer.
func TestReplicasTimersFireOnce(t *testing.T) {
	hs := replicas(t, 3)
	w := hs[0].world(3)
	_, ho := handedOff(t, hs[0], w, "timers")
	hs[0].clock.Advance(61 * time.Second)
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Go(func() {
			if err := h.srv.App().RunTimers(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := getHandover(t, hs[1], ho.GetId())
	if got.GetOfferedAgentId() == "" || got.GetOfferedAgentId() == ho.GetOfferedAgentId() {
		t.Fatalf("after the due offer it is offered to %q, want another agent than %s", got.GetOfferedAgentId(), ho.GetOfferedAgentId())
	}
	if all := allEvents(t, hs[2], batonv1.EventType_EVENT_TYPE_HANDOVER_OFFER_EXPIRED); len(all) != 1 {
		t.Fatalf("%d offer expiries, want 1", len(all))
	}
}

func allEvents(t *testing.T, h *harness, typ batonv1.EventType) []*batonv1.Event {
	t.Helper()
	res := need(h.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{PageSize: 1000, Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{typ},
	}}))(t)
	return res.GetEvents()
}

// TestReplicasIdempotentIngest posts one channel message to every replica at once.
func TestReplicasIdempotentIngest(t *testing.T) {
	hs := replicas(t, 3)
	w := hs[0].world(0)
	const rounds = 10
	for r := range rounds {
		var wg sync.WaitGroup
		ids := make([]string, len(hs)*2)
		for i := range ids {
			h := hs[i%len(hs)]
			wg.Go(func() {
				res, err := h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
					ChannelId: w.channel.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "same-" + strconv.Itoa(r)},
					ChannelMessageId: "wamid." + strconv.Itoa(r), Content: text_("once"),
				})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = res.GetMessage().GetId()
			})
		}
		wg.Wait()
		if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
			t.Fatalf("round %d: message ids %v, want one", r, ids)
		}
	}
	stored := allEvents(t, hs[0], batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED)
	if len(stored) != rounds {
		t.Fatalf("%d messages received, want %d", len(stored), rounds)
	}
}

// TestReplicasDeliverWebhooksOnce has three replicas dispatch one webhook's deliveries while
// writers on all of them store messages: every delivery reaches the endpoint exactly once (no
// sender died, so no lease ran out), and each customer's in the order they wrote.
func TestReplicasDeliverWebhooksOnce(t *testing.T) {
	url := pgtest.URL(t)
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	var hs []*harness
	for range 3 {
		st, err := postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, startOn(t, st, clk, loopback))
	}
	ch := need(hs[0].admin.Channels.CreateChannel(context.Background(), &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site", DisplayName: "Website",
	}))(t).GetChannel()
	ep := newEndpoint(t)
	hs[0].hook(hs[0].admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     ep.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	const writers, perWriter = 6, 15
	var wg sync.WaitGroup
	for i := range writers {
		h := hs[i%len(hs)]
		wg.Go(func() {
			for j := range perWriter {
				_, err := h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
					ChannelId: ch.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "w" + strconv.Itoa(i)},
					ChannelMessageId: fmt.Sprintf("w%d-%03d", i, j), Content: text_("hi"),
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	last := map[string]string{}
	for _, d := range ep.next(t, writers*perWriter) {
		id := d.ev.GetEvent().GetMessage().GetChannelMessageId()
		seen[d.header.Get("webhook-id")]++
		customer := id[:2]
		if id <= last[customer] {
			t.Errorf("%s arrived after %s", id, last[customer])
		}
		last[customer] = id
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s sent %d times", id, n)
		}
	}
	if len(seen) != writers*perWriter {
		t.Errorf("%d distinct deliveries, want %d", len(seen), writers*perWriter)
	}
}
