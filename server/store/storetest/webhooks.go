package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Webhooks and their outbox: the deliveries AppendEvents records, claims, and attempts.

var webhookResource = resource[domain.Webhook]{
	value:   func(h *harness) domain.Webhook { return h.webhookValue() },
	minimal: func(h *harness) domain.Webhook { return domain.Webhook{ID: h.id("hook")} },
	change: func(h *harness, w domain.Webhook) domain.Webhook {
		w.BotID = h.id("bot")
		w.URL += "/changed"
		w.EventTypes = []domain.EventType{domain.EventConversationClosed}
		w.ChannelIDs = []string{"ch-c"}
		w.State = domain.WebhookActive
		w.InactiveReason = "changed"
		w.InactivePolicy = domain.PolicyHandoff
		w.ConsecutiveFailures = 2
		w.Secret += "-changed"
		w.PreviousSecret += "-changed"
		w.PreviousSecretExpireTime = at(48 * time.Hour)
		w.VerifyTime = at(time.Minute)
		w.CreateTime = at(-time.Hour)
		w.UpdateTime = at(time.Hour)
		return w
	},
	create: func(h *harness, tx store.Tx, w domain.Webhook) error { return tx.CreateWebhook(h.ctx, w) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Webhook, error) { return tx.GetWebhook(h.ctx, id) },
	update: func(h *harness, tx store.Tx, w domain.Webhook) error { return tx.UpdateWebhook(h.ctx, w) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteWebhook(h.ctx, id) },
	id:     func(w *domain.Webhook) *string { return &w.ID },
	rev:    func(w *domain.Webhook) *int64 { return &w.Revision },
	lock:   store.KindWebhook,
}

// testWebhookOnePerBot checks a bot has one webhook at most, while firehoses are any number.
func testWebhookOnePerBot(h *harness) {
	bot := h.id("bot")
	first := h.webhook(func(w *domain.Webhook) { w.BotID = bot })
	second := h.webhookValue(func(w *domain.Webhook) { w.BotID = bot })
	err := h.tryWrite(func(tx store.Tx) error { return tx.CreateWebhook(h.ctx, second) })
	wantErr(h.t, "second webhook of a bot", err, store.ErrDuplicate)

	fire := []domain.Webhook{h.webhook(firehose), h.webhook(firehose)}
	h.write(func(tx store.Tx) error {
		wantErr(h.t, "second webhook of a bot, in a Write going on", tx.CreateWebhook(h.ctx, second), store.ErrDuplicate)
		fire = append(fire, h.webhookValue(firehose))
		return tx.CreateWebhook(h.ctx, fire[2])
	})
	for _, w := range fire {
		diff(h.t, "firehose", w, webhookResource.mustFetch(h, w.ID))
	}

	other := h.webhook()
	clash := other
	clash.BotID = bot
	err = h.tryWrite(func(tx store.Tx) error { return tx.UpdateWebhook(h.ctx, clash) })
	wantErr(h.t, "update to a bot that has a webhook", err, store.ErrDuplicate)
	diff(h.t, "webhook after refused update", other, webhookResource.mustFetch(h, other.ID))
	diff(h.t, "the bot's webhook", first, webhookResource.mustFetch(h, first.ID))

	h.write(func(tx store.Tx) error { return tx.DeleteWebhook(h.ctx, first.ID) })
	h.write(func(tx store.Tx) error { return tx.CreateWebhook(h.ctx, second) })
	diff(h.t, "the bot's new webhook", second, webhookResource.mustFetch(h, second.ID))
}

func listWebhooks(h *harness, botID string) lister[domain.Webhook] {
	return func(tx store.Tx, p store.Page) ([]domain.Webhook, string, error) {
		return tx.ListWebhooks(h.ctx, botID, p)
	}
}

// testWebhookList checks webhooks list oldest first (by CreateTime, then id), all or a bot's.
func testWebhookList(h *harness) {
	bot := h.id("bot")
	var all []domain.Webhook
	for i := range 7 {
		created := func(w *domain.Webhook) { w.CreateTime = at(time.Duration(i%3) * time.Minute) }
		switch i {
		case 4:
			all = append(all, h.webhook(created, func(w *domain.Webhook) { w.BotID = bot }))
		case 1, 5:
			all = append(all, h.webhook(created, firehose))
		default:
			all = append(all, h.webhook(created))
		}
	}
	slices.SortStableFunc(all, func(a, b domain.Webhook) int { return a.CreateTime.Compare(b.CreateTime) })
	checkPages(h, "all webhooks", all, listWebhooks(h, ""))
	checkPages(h, "the bot's webhooks", []domain.Webhook{all[slices.IndexFunc(all, func(w domain.Webhook) bool {
		return w.BotID == bot
	})]}, listWebhooks(h, bot))
	diff(h.t, "webhooks of a bot without any", []domain.Webhook(nil), walk(h, 2, listWebhooks(h, "bot-without")))
}

// deliveryOf is the id of the delivery of e to w.
func deliveryOf(w domain.Webhook, e domain.Event) string { return domain.DeliveryID(w.ID, e.ID) }

// mustWrite runs fn in a Write and returns what it returned, failing the test on error.
func mustWrite[T any](h *harness, fn func(store.Tx) (T, error)) T {
	h.t.Helper()
	var v T
	h.write(func(tx store.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v
}

func claim(h *harness, now, leaseUntil time.Time, limit int) []domain.Delivery {
	h.t.Helper()
	return mustWrite(h, func(tx store.Tx) ([]domain.Delivery, error) {
		return tx.ClaimDeliveries(h.ctx, now, leaseUntil, limit)
	})
}

func getDelivery(h *harness, id string) domain.Delivery {
	h.t.Helper()
	return mustRead(h, func(tx store.Tx) (domain.Delivery, error) { return tx.GetDelivery(h.ctx, id) })
}

func updateDelivery(h *harness, id string, change func(*domain.Delivery)) domain.Delivery {
	h.t.Helper()
	return mustWrite(h, func(tx store.Tx) (domain.Delivery, error) {
		d, err := tx.GetDelivery(h.ctx, id)
		if err != nil {
			return d, err
		}
		change(&d)
		return d, tx.UpdateDeliveries(h.ctx, []domain.Delivery{d})
	})
}

func listDeliveries(h *harness, q store.DeliveryQuery) lister[domain.Delivery] {
	return func(tx store.Tx, p store.Page) ([]domain.Delivery, string, error) {
		return tx.ListDeliveries(h.ctx, q, p)
	}
}

func deliveryIDs(ds []domain.Delivery) []string {
	return ids(ds, func(d domain.Delivery) string { return d.ID })
}

// event is an event of the conversation (none when "") with an id of its own.
func (h *harness) event(conversationID string, mods ...func(*domain.Event)) domain.Event {
	return eventValue(domain.EventMessageReceived, append([]func(*domain.Event){func(e *domain.Event) {
		e.ID, e.ConversationID, e.ChannelID = h.id("ev"), conversationID, "ch-a"
	}}, mods...)...)
}

// testSubscribes checks AppendEvents records a delivery for a webhook exactly when
// domain.Webhook.Subscribes says the webhook subscribes to the event, given its bot's Standby as
// stored then. It crosses webhooks (bots' with or without standby, of bots with no row, pending,
// inactive, firehoses, filtered by type and channel) with events (of each of those bots, of
// another bot and of none; for the bot or not; of each type and channel the filters name, and
// of none), so that the store's rule and the domain's cannot drift apart.
func testSubscribes(h *harness) {
	standby := map[string]bool{}
	newBot := func(on bool) string {
		b := h.bot(func(b *domain.Bot) { b.Standby = on })
		standby[b.ID] = on
		return b.ID
	}
	botA, botS, botP, botT := newBot(false), newBot(true), newBot(true), newBot(true)
	ghost := h.id("bot-without-row") // a webhook's bot need not be stored: it has no standby then
	types := func(ts ...domain.EventType) func(*domain.Webhook) {
		return func(w *domain.Webhook) { w.EventTypes = ts }
	}
	chans := func(ids ...string) func(*domain.Webhook) { return func(w *domain.Webhook) { w.ChannelIDs = ids } }
	ofBot := func(id string) func(*domain.Webhook) {
		return func(w *domain.Webhook) { firehose(w); w.BotID = id }
	}
	active, inactive, pending := withHookState(domain.WebhookActive), withHookState(domain.WebhookInactive), withHookState(domain.WebhookPending)
	hooks := []domain.Webhook{
		h.webhook(ofBot(botA)),
		h.webhook(ofBot(botS)),
		h.webhook(ofBot(ghost), inactive),
		h.webhook(ofBot(botP), pending),
		h.webhook(ofBot(botT), types(domain.EventMessageReceived), chans("ch-a", "ch-b")),
		h.webhook(firehose),
		h.webhook(firehose, inactive, types(domain.EventMessageReceived, domain.EventConversationClosed)),
		h.webhook(firehose, chans("ch-a")),
		h.webhook(firehose, active, types(domain.EventConversationUpdated), chans("ch-b")),
		h.webhook(firehose, pending),
	}

	// events returns one event of each kind, with ids of their own.
	events := func() []domain.Event {
		var out []domain.Event
		for _, bot := range []string{botA, botS, botP, botT, ghost, "bot-other", ""} {
			shapes := []func(*domain.Event){
				func(e *domain.Event) { e.ConversationID = "" }, // about the bot itself
				func(e *domain.Event) { e.Owner = domain.BotOwner(bot) },
				func(e *domain.Event) {
					e.Owner = domain.QueueOwner("q-1")
					e.OwnerChange = &domain.OwnerChange{From: domain.BotOwner(bot), To: e.Owner, Epoch: 2, Reason: "handoff"}
				},
				func(e *domain.Event) { e.Owner = domain.AgentOwner("agent-1") },
				func(e *domain.Event) { e.Owner = domain.BotOwner("bot-other") },
			}
			for _, shape := range shapes {
				for _, typ := range []domain.EventType{domain.EventMessageReceived, domain.EventConversationUpdated} {
					for _, ch := range []string{"ch-a", "ch-b", ""} {
						out = append(out, eventValue(typ, func(e *domain.Event) {
							e.ID, e.BotID, e.ChannelID, e.ConversationID = h.id("ev"), bot, ch, "conv-1"
						}, shape))
					}
				}
			}
		}
		return out
	}
	// appendAll appends the events in batches of 1 to 6 per AppendEvents.
	appendAll := func(events []domain.Event) {
		for i, n := 0, 1; i < len(events); i, n = i+n, n%6+1 {
			h.appendOnly(events[i:min(i+n, len(events))]...)
		}
	}
	want := map[string][]string{} // webhook id: the ids of its events, in the order appended
	expect := func(events []domain.Event) {
		recorded := 0
		for _, w := range hooks {
			for _, e := range events {
				if w.Subscribes(e, standby[w.BotID]) {
					want[w.ID] = append(want[w.ID], e.ID)
					recorded++
				}
			}
		}
		if recorded == 0 || recorded == len(hooks)*len(events) {
			h.t.Fatalf("the cases are degenerate: %d deliveries of %d events to %d webhooks", recorded, len(events), len(hooks))
		}
	}

	first := events()
	appendAll(first)
	expect(first)
	// What counts is the bot's standby when the event is stored.
	for _, id := range []string{botA, botS} {
		b := botResource.mustFetch(h, id)
		b.Standby = !b.Standby
		h.write(func(tx store.Tx) error { return tx.UpdateBot(h.ctx, b) })
		standby[id] = b.Standby
	}
	second := events()
	appendAll(second)
	expect(second)

	for _, w := range hooks {
		listed := walk(h, 1000, listDeliveries(h, store.DeliveryQuery{WebhookID: w.ID}))
		got := ids(listed, func(d domain.Delivery) string { return d.EventID })
		slices.Reverse(got) // listed newest first
		diff(h.t, fmt.Sprintf("events recorded for webhook %s (bot %q, %s, types %v, channels %v)",
			w.ID, w.BotID, w.State, w.EventTypes, w.ChannelIDs), want[w.ID], got)
	}
}

// testDeliveryFields checks a recorded delivery: its id, its event's type, conversation and
// time, pending and due at the event's time, and the trace parent of the appending context.
func testDeliveryFields(h *harness) {
	hook := h.webhook(firehose)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	traced := trace.ContextWithSpanContext(h.ctx, sc)
	const traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if got := store.TraceParent(traced); got != traceParent {
		h.t.Fatalf("store.TraceParent = %q, want %q", got, traceParent)
	}

	in := []domain.Event{
		h.event("conv-1", func(e *domain.Event) { e.ID, e.Time = "", at(time.Second).In(elsewhere) }), // id made up
		h.event("", func(e *domain.Event) { e.Type, e.Time = domain.EventAgentPresenceChanged, at(time.Minute) }),
	}
	var out []domain.Event
	err := h.s.Write(traced, func(tx store.Tx) error {
		var err error
		out, err = tx.AppendEvents(traced, in)
		return err
	})
	if err != nil {
		h.t.Fatalf("AppendEvents: %v", err)
	}
	untraced := h.appendOnly(h.event("conv-1"))
	want := func(e domain.Event, traceParent string) domain.Delivery {
		return domain.Delivery{
			ID: deliveryOf(hook, e), WebhookID: hook.ID, EventID: e.ID, EventType: e.Type, ConversationID: e.ConversationID,
			State: domain.DeliveryStatePending, NextAttemptTime: e.Time, TraceParent: traceParent,
			CreateTime: e.Time, UpdateTime: e.Time,
		}
	}
	for _, w := range []domain.Delivery{want(out[0], traceParent), want(out[1], traceParent), want(untraced[0], "")} {
		if w.ID != w.EventID+"."+hook.ID {
			h.t.Errorf("delivery id %q, want the event's id, a dot and the webhook's", w.ID)
		}
		diff(h.t, "delivery "+w.ID, w, getDelivery(h, w.ID))
	}

	_, err = readValue(h, func(tx store.Tx) (domain.Delivery, error) { return tx.GetDelivery(h.ctx, "missing") })
	wantNotFound(h.t, "get", err, "missing")
	found := getDelivery(h, deliveryOf(hook, out[0]))
	found.Attempts = 7
	err = h.tryWrite(func(tx store.Tx) error { return tx.UpdateDeliveries(h.ctx, []domain.Delivery{found, {ID: "missing"}}) })
	wantNotFound(h.t, "update", err, "missing")
	diff(h.t, "delivery beside a missing one, after the failed update", want(out[0], traceParent), getDelivery(h, deliveryOf(hook, out[0])))

	// A rolled back Write records nothing.
	lost := h.event("conv-2")
	_ = h.tryWrite(func(tx store.Tx) error {
		if _, err := tx.AppendEvents(h.ctx, []domain.Event{lost}); err != nil {
			h.t.Errorf("AppendEvents: %v", err)
		}
		return errors.New("boom")
	})
	_, err = readValue(h, func(tx store.Tx) (domain.Delivery, error) { return tx.GetDelivery(h.ctx, deliveryOf(hook, lost)) })
	wantNotFound(h.t, "delivery of a rolled back event", err, "")
}

// testDeliveryUpdate checks UpdateDelivery overwrites the state, counters, times and lease.
func testDeliveryUpdate(h *harness) {
	hook := h.webhook(firehose)
	e := h.append(h.event("conv-1"))[0]
	got := updateDelivery(h, deliveryOf(hook, e), func(d *domain.Delivery) {
		d.State = domain.DeliveryStateDead
		d.Attempts, d.Failures = 5, 4
		d.NextAttemptTime = at(time.Hour)
		d.LeaseExpireTime = at(2 * time.Hour).In(elsewhere)
		d.UpdateTime = at(3 * time.Hour)
	})
	diff(h.t, "updated delivery", got, getDelivery(h, got.ID))
	got = updateDelivery(h, got.ID, func(d *domain.Delivery) {
		d.State, d.LeaseExpireTime = domain.DeliveryStatePending, time.Time{}
	})
	diff(h.t, "delivery updated again, lease cleared", got, getDelivery(h, got.ID))

	// Several in one call, read back in id order whatever order they were asked in.
	more := h.append(h.event("conv-2"), h.event("conv-3"))
	ids := []string{deliveryOf(hook, more[1]), deliveryOf(hook, more[0]), got.ID}
	several := mustWrite(h, func(tx store.Tx) ([]domain.Delivery, error) {
		ds, err := tx.GetDeliveries(h.ctx, append(ids, "missing"))
		if err != nil {
			return nil, err
		}
		for i := range ds {
			ds[i].State, ds[i].Attempts, ds[i].UpdateTime = domain.DeliveryStateDelivered, i+1, at(time.Duration(i)*time.Minute)
		}
		return ds, tx.UpdateDeliveries(h.ctx, ds)
	})
	diff(h.t, "deliveries got, in id order", sorted(ids), deliveryIDs(several))
	diff(h.t, "deliveries updated together", several, mustRead(h, func(tx store.Tx) ([]domain.Delivery, error) {
		return tx.GetDeliveries(h.ctx, ids)
	}))
	diff(h.t, "deliveries of no ids", []domain.Delivery(nil), mustRead(h, func(tx store.Tx) ([]domain.Delivery, error) {
		return tx.GetDeliveries(h.ctx, nil)
	}))
}

// testGetEvent checks GetEvents reads committed events, with their sequences.
func testGetEvent(h *harness) {
	get := func(id string) (domain.Event, error) {
		events, err := readValue(h, func(tx store.Tx) ([]domain.Event, error) { return tx.GetEvents(h.ctx, []string{id, "missing"}) })
		if err != nil || len(events) != 1 {
			return domain.Event{}, fmt.Errorf("GetEvents(%s, missing) = %d events, %w", id, len(events), err)
		}
		return events[0], nil
	}
	out := h.appendOnly(h.event("conv-1", func(e *domain.Event) { e.Owner = domain.BotOwner("bot-1") }))
	got, err := get(out[0].ID)
	if err != nil {
		h.t.Fatalf("GetEvent: %v", err)
	}
	if got.Sequence == 0 || out[0].Sequence != 0 && out[0].Sequence != got.Sequence {
		h.t.Errorf("GetEvent's sequence = %d, want it set (AppendEvents returned %d)", got.Sequence, out[0].Sequence)
	}
	want := out[0]
	want.Sequence = got.Sequence
	diff(h.t, "event as appended", want, got)
	diff(h.t, "event as listed", listEvents(h, 0, store.EventFilter{}, 10), []domain.Event{got})

	later := h.append(h.event("conv-2"), h.event("conv-1"))
	several := mustRead(h, func(tx store.Tx) ([]domain.Event, error) {
		return tx.GetEvents(h.ctx, []string{later[1].ID, got.ID, later[0].ID})
	})
	diff(h.t, "events got, in sequence order", listEvents(h, 0, store.EventFilter{}, 10), several)
	none := mustRead(h, func(tx store.Tx) ([]domain.Event, error) { return tx.GetEvents(h.ctx, []string{"missing"}) })
	diff(h.t, "events of a missing id", []domain.Event(nil), none)
}

// checkClaimed checks what a claim returned: want's deliveries, in any order among those of one
// event, oldest event first, each leased until leaseUntil, as the store says too.
func checkClaimed(h *harness, what string, events []domain.Event, want []string, got []domain.Delivery, leaseUntil time.Time) {
	h.t.Helper()
	diff(h.t, what, sorted(want), sorted(deliveryIDs(got)))
	index := func(d domain.Delivery) int {
		return slices.IndexFunc(events, func(e domain.Event) bool { return e.ID == d.EventID })
	}
	if !slices.IsSortedFunc(got, func(a, b domain.Delivery) int { return index(a) - index(b) }) {
		h.t.Errorf("%s: claimed %v, want them oldest first", what, deliveryIDs(got))
	}
	for _, d := range got {
		if !d.LeaseExpireTime.Equal(leaseUntil) {
			h.t.Errorf("%s: %s leased until %v, want %v", what, d.ID, d.LeaseExpireTime, leaseUntil)
		}
		diff(h.t, what+": stored "+d.ID, d, getDelivery(h, d.ID))
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// testClaimInOrder checks each webhook's deliveries of one conversation leave one at a time, in
// order: an earlier pending one holds the later ones back, leased or not due yet, until it is
// delivered or dead. Other conversations, and other webhooks, go meanwhile. (Events without a
// conversation are one sequence.)
func testClaimInOrder(h *harness) {
	hook, other := h.webhook(firehose), h.webhook(firehose)
	e := []domain.Event{h.event("c1"), h.event("c1"), h.event("c2"), h.event("c1"), h.event(""), h.event("")}
	h.append(e[:3]...)
	h.append(e[3:]...)
	d := func(w domain.Webhook, i int) string { return deliveryOf(w, e[i]) }
	both := func(events ...int) []string {
		var out []string
		for _, i := range events {
			out = append(out, d(hook, i), d(other, i))
		}
		return out
	}
	now, later, lease := at(time.Minute), at(10*time.Minute), at(time.Hour)

	checkClaimed(h, "the oldest", e, both(0), claim(h, now, lease, 2), lease)
	checkClaimed(h, "the first of each conversation", e, both(2, 4), claim(h, now, lease, 10), lease)
	checkClaimed(h, "with the first ones leased", e, nil, claim(h, now, lease, 10), lease)

	updateDelivery(h, d(hook, 0), func(v *domain.Delivery) {
		v.State, v.Attempts, v.LeaseExpireTime, v.UpdateTime = domain.DeliveryStateDelivered, 1, time.Time{}, now
	})
	checkClaimed(h, "after the first was delivered", e, []string{d(hook, 1)}, claim(h, now, lease, 10), lease)

	updateDelivery(h, d(hook, 1), func(v *domain.Delivery) {
		v.Attempts, v.Failures, v.NextAttemptTime, v.LeaseExpireTime = 1, 1, later, time.Time{}
	})
	checkClaimed(h, "with the second waiting to be retried", e, nil, claim(h, now, lease, 10), lease)
	checkClaimed(h, "once the retry is due", e, []string{d(hook, 1)}, claim(h, later, lease, 10), lease)

	updateDelivery(h, d(hook, 1), func(v *domain.Delivery) {
		v.State, v.Attempts, v.Failures, v.LeaseExpireTime = domain.DeliveryStateDead, 5, 5, time.Time{}
	})
	updateDelivery(h, d(hook, 4), func(v *domain.Delivery) { v.State, v.LeaseExpireTime = domain.DeliveryStateDelivered, time.Time{} })
	checkClaimed(h, "after the second died and the first without conversation was delivered", e,
		[]string{d(hook, 3), d(hook, 5)}, claim(h, later, lease, 10), lease)
}

// testClaimRace has claimers race, each claim in a Write of its own, until none finds anything
// due: every head of a conversation is claimed exactly once, and no delivery behind one.
func testClaimRace(h *harness) {
	const conversations, claimers = 40, 8
	hooks := []domain.Webhook{h.webhook(firehose), h.webhook(firehose)}
	var events []domain.Event
	want := map[string]bool{}
	for i := range conversations {
		conv := fmt.Sprintf("conv-%02d", i)
		first, second := h.event(conv), h.event(conv)
		events = append(events, first, second)
		for _, w := range hooks {
			want[deliveryOf(w, first)] = true
		}
	}
	h.append(events...)

	now, lease := at(time.Minute), at(time.Hour)
	raceClaims(h, claimers, want, "deliveries", func(tx store.Tx) ([]string, error) {
		got, err := tx.ClaimDeliveries(h.ctx, now, lease, 3)
		return deliveryIDs(got), err
	})
}

// testClaimLease checks a delivery is claimed again once its lease has expired, and not before;
// and that a delivery is not due before its event's time.
func testClaimLease(h *harness) {
	hook := h.webhook(firehose)
	e := []domain.Event{h.event("c1"), h.event("c2", func(e *domain.Event) { e.Time = at(5 * time.Minute) })}
	h.append(e...)
	first := []string{deliveryOf(hook, e[0])}
	checkClaimed(h, "first claim", e, first, claim(h, at(time.Minute), at(2*time.Minute), 10), at(2*time.Minute))
	checkClaimed(h, "while leased", e, nil, claim(h, at(90*time.Second), at(3*time.Minute), 10), at(3*time.Minute))
	checkClaimed(h, "when the lease expires", e, first, claim(h, at(2*time.Minute), at(time.Hour), 10), at(time.Hour))
	checkClaimed(h, "at the later event's time", e, []string{deliveryOf(hook, e[1])},
		claim(h, at(5*time.Minute), at(6*time.Minute), 10), at(6*time.Minute))
}

// testClaimWebhookState checks the deliveries of an inactive webhook are recorded but wait for it
// to be active again, and that a pending webhook records none.
func testClaimWebhookState(h *harness) {
	hook := h.webhook(firehose, withHookState(domain.WebhookInactive))
	unverified := h.webhook(firehose, withHookState(domain.WebhookPending))
	e := h.append(h.event("c1"))
	_, err := readValue(h, func(tx store.Tx) (domain.Delivery, error) {
		return tx.GetDelivery(h.ctx, deliveryOf(unverified, e[0]))
	})
	wantNotFound(h.t, "delivery to a pending webhook", err, "")
	getDelivery(h, deliveryOf(hook, e[0]))

	now, lease := at(time.Minute), at(time.Hour)
	checkClaimed(h, "inactive webhook", e, nil, claim(h, now, lease, 10), lease)
	h.write(func(tx store.Tx) error { return tx.UpdateWebhook(h.ctx, domain.Activate(hook, now)) })
	checkClaimed(h, "webhook activated", e, []string{deliveryOf(hook, e[0])}, claim(h, now, lease, 10), lease)
}

// testDeliveryList checks deliveries list newest first, each filter alone and together.
func testDeliveryList(h *harness) {
	hook, other := h.webhook(firehose), h.webhook(firehose)
	var events []domain.Event
	for i := range 9 {
		conv := []string{"c1", "c2", ""}[i%3]
		events = append(events, h.event(conv, func(e *domain.Event) { e.Time = at(time.Duration(i) * time.Minute) }))
	}
	h.append(events[:4]...)
	h.append(events[4:]...)
	for i, state := range map[int]domain.DeliveryState{1: domain.DeliveryStateDelivered, 4: domain.DeliveryStateDead, 7: domain.DeliveryStateDelivered} {
		updateDelivery(h, deliveryOf(hook, events[i]), func(d *domain.Delivery) { d.State = state })
	}
	var all []domain.Delivery // newest first
	for _, e := range slices.Backward(events) {
		all = append(all, getDelivery(h, deliveryOf(hook, e)))
	}
	where := func(keep func(d domain.Delivery) bool) []domain.Delivery {
		return slices.DeleteFunc(slices.Clone(all), func(d domain.Delivery) bool { return !keep(d) })
	}
	var otherC2 []domain.Delivery
	for _, e := range slices.Backward(events) {
		if e.ConversationID == "c2" {
			otherC2 = append(otherC2, getDelivery(h, deliveryOf(other, e)))
		}
	}
	ended := []domain.DeliveryState{domain.DeliveryStateDelivered, domain.DeliveryStateDead}
	type Q = store.DeliveryQuery
	for _, c := range []struct {
		name string
		q    Q
		want []domain.Delivery
	}{
		{"all", Q{WebhookID: hook.ID}, all},
		{"conversation", Q{WebhookID: hook.ID, ConversationID: "c1"}, where(func(d domain.Delivery) bool { return d.ConversationID == "c1" })},
		{"states", Q{WebhookID: hook.ID, States: ended}, where(func(d domain.Delivery) bool { return d.State != domain.DeliveryStatePending })},
		{"created", Q{WebhookID: hook.ID, CreatedAfter: at(2 * time.Minute), CreatedBefore: at(7 * time.Minute)}, where(func(d domain.Delivery) bool {
			return !d.CreateTime.Before(at(2*time.Minute)) && d.CreateTime.Before(at(7*time.Minute))
		})},
		{"together", Q{WebhookID: hook.ID, ConversationID: "c2", States: []domain.DeliveryState{domain.DeliveryStatePending}, CreatedAfter: at(time.Minute)},
			where(func(d domain.Delivery) bool {
				return d.ConversationID == "c2" && d.State == domain.DeliveryStatePending && !d.CreateTime.Before(at(time.Minute))
			})},
		{"other webhook", Q{WebhookID: other.ID, ConversationID: "c2"}, otherC2},
		{"unknown webhook", Q{WebhookID: "missing"}, nil},
	} {
		if len(c.want) > 0 {
			checkPages(h, "deliveries, "+c.name, c.want, listDeliveries(h, c.q))
		} else {
			diff(h.t, "deliveries, "+c.name, c.want, walk(h, 2, listDeliveries(h, c.q)))
		}
	}
}

// testRequeue checks RequeueDeliveries applies domain.Redeliver to the deliveries its query
// selects, and to them alone.
func testRequeue(h *harness) {
	hook, other := h.webhook(firehose), h.webhook(firehose)
	var events []domain.Event
	for i, conv := range []string{"c1", "c1", "c1", "c2", "c3"} {
		events = append(events, h.event(conv, func(e *domain.Event) { e.Time = at(time.Duration(i) * time.Minute) }))
	}
	h.append(events...)
	ended := func(state domain.DeliveryState, attempts int) func(*domain.Delivery) {
		return func(d *domain.Delivery) {
			d.State, d.Attempts, d.Failures, d.NextAttemptTime, d.UpdateTime = state, attempts, attempts, at(time.Hour), at(time.Hour)
		}
	}
	updateDelivery(h, deliveryOf(hook, events[0]), ended(domain.DeliveryStateDelivered, 1))
	updateDelivery(h, deliveryOf(hook, events[1]), ended(domain.DeliveryStateDead, 5))
	claim(h, at(time.Hour), at(2*time.Hour), 10) // leases the heads: c1's third (after the delivered and the dead), c2's, c3's
	updateDelivery(h, deliveryOf(hook, events[3]), ended(domain.DeliveryStateDead, 5))
	updateDelivery(h, deliveryOf(hook, events[4]), ended(domain.DeliveryStateDelivered, 2))
	updateDelivery(h, deliveryOf(other, events[1]), ended(domain.DeliveryStateDead, 5))

	snapshot := func() map[string]domain.Delivery {
		out := map[string]domain.Delivery{}
		for _, w := range []domain.Webhook{hook, other} {
			for _, e := range events {
				out[deliveryOf(w, e)] = getDelivery(h, deliveryOf(w, e))
			}
		}
		return out
	}
	requeue := func(what string, q store.DeliveryQuery, now time.Time, want ...int) {
		h.t.Helper()
		before := snapshot()
		n := mustWrite(h, func(tx store.Tx) (int, error) { return tx.RequeueDeliveries(h.ctx, q, now) })
		if n != len(want) {
			h.t.Errorf("%s: requeued %d, want %d", what, n, len(want))
		}
		after := snapshot()
		for _, i := range want {
			id := deliveryOf(hook, events[i])
			before[id] = domain.Redeliver(before[id], now)
		}
		for id, d := range before {
			diff(h.t, what+": "+id, d, after[id])
		}
	}
	done := []domain.DeliveryState{domain.DeliveryStateDead, domain.DeliveryStateDelivered}
	requeue("ended ones of c1", store.DeliveryQuery{WebhookID: hook.ID, ConversationID: "c1", States: done}, at(2*time.Hour), 0, 1)
	requeue("dead ones created in a window", store.DeliveryQuery{
		WebhookID: hook.ID, States: []domain.DeliveryState{domain.DeliveryStateDead},
		CreatedAfter: at(2 * time.Minute), CreatedBefore: at(4 * time.Minute),
	}, at(3*time.Hour), 3)
	requeue("all of the webhook", store.DeliveryQuery{WebhookID: hook.ID}, at(4*time.Hour), 0, 1, 2, 3, 4)
	requeue("unknown webhook", store.DeliveryQuery{WebhookID: "missing"}, at(5*time.Hour))
}

// testAttempts checks attempts list by delivery, oldest first, in one call.
func testAttempts(h *harness) {
	hook := h.webhook(firehose)
	e := h.append(h.event("c1"), h.event("c2"), h.event("c3"))
	d1, d2, d3 := deliveryOf(hook, e[0]), deliveryOf(hook, e[1]), deliveryOf(hook, e[2])
	attempt := func(id string, n int, status int, msg string) domain.Attempt {
		return domain.Attempt{
			DeliveryID: id, Number: n, Time: at(time.Duration(n) * time.Minute).In(elsewhere),
			StatusCode: status, Error: msg, Latency: time.Duration(n)*time.Second + 250*time.Microsecond,
		}
	}
	in := []domain.Attempt{
		attempt(d1, 1, 503, "the endpoint answered 503"),
		attempt(d2, 1, 0, "dial tcp: connection refused"),
		attempt(d1, 2, 500, "the endpoint answered 500"),
		attempt(d1, 3, 204, ""),
	}
	h.write(func(tx store.Tx) error { return tx.AddAttempts(h.ctx, in[:3]) })
	h.write(func(tx store.Tx) error { return tx.AddAttempts(h.ctx, in[3:]) })
	h.write(func(tx store.Tx) error { return tx.AddAttempts(h.ctx, nil) })
	err := h.tryWrite(func(tx store.Tx) error { return tx.AddAttempts(h.ctx, in[1:2]) })
	if !errors.Is(err, store.ErrDuplicate) {
		h.t.Errorf("adding an attempt again: %v, want ErrDuplicate", err)
	}
	list := func(ids ...string) map[string][]domain.Attempt {
		return mustRead(h, func(tx store.Tx) (map[string][]domain.Attempt, error) { return tx.ListAttempts(h.ctx, ids) })
	}
	diff(h.t, "attempts", map[string][]domain.Attempt{d1: {in[0], in[2], in[3]}, d2: {in[1]}}, list(d1, d2, d3, "missing"))
	diff(h.t, "attempts of one", map[string][]domain.Attempt{d2: {in[1]}}, list(d2))
	diff(h.t, "attempts of none", map[string][]domain.Attempt{}, list())
}

// testDeleteWebhook checks deleting a webhook deletes its deliveries and their attempts, and
// no other webhook's.
func testDeleteWebhook(h *harness) {
	hook, other := h.webhook(firehose), h.webhook(firehose)
	e := h.append(h.event("c1"), h.event("c2"))
	h.write(func(tx store.Tx) error {
		return tx.AddAttempts(h.ctx, []domain.Attempt{
			{DeliveryID: deliveryOf(hook, e[0]), Number: 1, Time: t0, StatusCode: 500},
			{DeliveryID: deliveryOf(other, e[0]), Number: 1, Time: t0, StatusCode: 500},
		})
	})
	kept := walk(h, 0, listDeliveries(h, store.DeliveryQuery{WebhookID: other.ID}))
	h.write(func(tx store.Tx) error { return tx.DeleteWebhook(h.ctx, hook.ID) })

	_, err := webhookResource.fetch(h, hook.ID)
	wantNotFound(h.t, "deleted webhook", err, hook.ID)
	for _, ev := range e {
		_, err := readValue(h, func(tx store.Tx) (domain.Delivery, error) { return tx.GetDelivery(h.ctx, deliveryOf(hook, ev)) })
		wantNotFound(h.t, "delivery of a deleted webhook", err, "")
	}
	diff(h.t, "deliveries of a deleted webhook", []domain.Delivery(nil), walk(h, 0, listDeliveries(h, store.DeliveryQuery{WebhookID: hook.ID})))
	attempts := mustRead(h, func(tx store.Tx) (map[string][]domain.Attempt, error) {
		return tx.ListAttempts(h.ctx, []string{deliveryOf(hook, e[0]), deliveryOf(other, e[0])})
	})
	if _, ok := attempts[deliveryOf(hook, e[0])]; ok || len(attempts[deliveryOf(other, e[0])]) != 1 {
		h.t.Errorf("attempts after deleting a webhook: %v, want the other webhook's alone", attempts)
	}
	diff(h.t, "the other webhook's deliveries", kept, walk(h, 0, listDeliveries(h, store.DeliveryQuery{WebhookID: other.ID})))

	later := h.append(h.event("c1"))
	if got := walk(h, 0, listDeliveries(h, store.DeliveryQuery{WebhookID: hook.ID})); len(got) != 0 {
		h.t.Errorf("deliveries recorded for a deleted webhook: %v", strings.Join(deliveryIDs(got), ", "))
	}
	getDelivery(h, deliveryOf(other, later[0]))
}

// testDeliveryConcurrentUpdates runs read-modify-write transactions on two deliveries from
// many goroutines, as senders recording attempts and Redeliver do, asking for them in either
// order: GetDeliveries in a Write serialises them without a deadlock, so no update is lost.
func testDeliveryConcurrentUpdates(h *harness) {
	const workers, rounds = 8, 25
	hook := h.webhook(firehose)
	e := h.append(h.event("conv-1"), h.event("conv-2"))
	ids := []string{deliveryOf(hook, e[0]), deliveryOf(hook, e[1])}
	var wg sync.WaitGroup
	for w := range workers {
		asked := ids
		if w%2 == 1 {
			asked = []string{ids[1], ids[0]}
		}
		wg.Go(func() {
			for range rounds {
				err := h.s.Write(h.ctx, func(tx store.Tx) error {
					ds, err := tx.GetDeliveries(h.ctx, asked)
					if err != nil {
						return err
					}
					for i := range ds {
						ds[i].Attempts++
					}
					return tx.UpdateDeliveries(h.ctx, ds)
				})
				if err != nil {
					h.t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if got := getDelivery(h, id).Attempts; got != workers*rounds {
			h.t.Errorf("%s: attempts %d after %d increments", id, got, workers*rounds)
		}
	}
}
