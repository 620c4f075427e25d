package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Events and remembered requests.

func eventValue(typ domain.EventType, mods ...func(*domain.Event)) domain.Event {
	return apply(domain.Event{
		Type:  typ,
		Time:  t0,
		Actor: domain.System,
		Owner: domain.Nobody,
	}, mods)
}

// head returns Store.LastSequence.
func (h *harness) head() uint64 {
	h.t.Helper()
	seq, err := h.s.LastSequence(h.ctx)
	if err != nil {
		h.t.Fatalf("LastSequence: %v", err)
	}
	return seq
}

// appendOnly stores events in one Write and returns them as AppendEvents did.
func (h *harness) appendOnly(events ...domain.Event) []domain.Event {
	h.t.Helper()
	var out []domain.Event
	h.write(func(tx store.Tx) error {
		var err error
		out, err = tx.AppendEvents(h.ctx, events)
		return err
	})
	return out
}

// append stores events in one Write and returns them as ListEvents does: with their ids and
// sequences.
func (h *harness) append(events ...domain.Event) []domain.Event {
	h.t.Helper()
	before := h.head()
	h.appendOnly(events...)
	out := listEvents(h, before, store.EventFilter{}, len(events)+1)
	if len(out) != len(events) {
		h.t.Fatalf("%d events appended, %d listed", len(events), len(out))
	}
	return out
}

func listEvents(h *harness, after uint64, f store.EventFilter, limit int) []domain.Event {
	h.t.Helper()
	return mustRead(h, func(tx store.Tx) ([]domain.Event, error) { return tx.ListEvents(h.ctx, after, f, limit) })
}

func lastSequence(h *harness) uint64 {
	h.t.Helper()
	return mustRead(h, func(tx store.Tx) (uint64, error) { return tx.LastSequence(h.ctx) })
}

// checkIncreasing checks each event's sequence is above the one before, starting above after.
func checkIncreasing(h *harness, after uint64, events []domain.Event) bool {
	h.t.Helper()
	for _, e := range events {
		if e.Sequence <= after {
			h.t.Errorf("event %s has sequence %d, want more than %d", e.ID, e.Sequence, after)
			return false
		}
		after = e.Sequence
	}
	return true
}

// checkGapFree checks each event's sequence is the one before plus one.
func checkGapFree(h *harness, events []domain.Event) {
	h.t.Helper()
	for i := 1; i < len(events); i++ {
		if prev, e := events[i-1], events[i]; e.Sequence != prev.Sequence+1 {
			h.t.Errorf("sequences jump from %d to %d", prev.Sequence, e.Sequence)
			return
		}
	}
}

// checkAppended checks what AppendEvents returned: each event as given, with an id (a new one
// unless given), and either its sequence, above the ones before, or 0 until it commits.
func checkAppended(h *harness, in, out []domain.Event) {
	h.t.Helper()
	diff(h.t, "appended events", unstored(in), unstored(out))
	seen := map[string]bool{}
	var after uint64
	for i, e := range out {
		if e.ID == "" || seen[e.ID] || (in[i].ID != "" && e.ID != in[i].ID) {
			h.t.Errorf("event %d has id %q, want a new one or the one given (%q)", i, e.ID, in[i].ID)
		}
		seen[e.ID] = true
		if e.Sequence != 0 {
			checkIncreasing(h, after, []domain.Event{e})
			after = e.Sequence
		}
	}
}

// checkListed checks the events listed after committing are the appended ones, in the order
// appended, with any sequence AppendEvents returned kept.
func checkListed(h *harness, appended, listed []domain.Event) {
	h.t.Helper()
	want := slices.Clone(appended)
	for i := range want {
		if want[i].Sequence == 0 && i < len(listed) {
			want[i].Sequence = listed[i].Sequence
		}
	}
	diff(h.t, "events listed after committing", want, listed)
}

func testEventAppend(h *harness) {
	in := []domain.Event{
		eventValue(domain.EventConversationCreated),
		eventValue(domain.EventMessageReceived, func(e *domain.Event) { e.ID = "given-id" }),
		eventValue(domain.EventOwnerChanged),
	}
	var first, second []domain.Event
	h.write(func(tx store.Tx) error {
		var err error
		if first, err = tx.AppendEvents(h.ctx, in[:2]); err != nil {
			return err
		}
		second, err = tx.AppendEvents(h.ctx, in[2:])
		return err
	})
	more := []domain.Event{eventValue(domain.EventHandoverRequested), eventValue(domain.EventHandoverOffered)}
	third := h.appendOnly(more...)
	if none := h.appendOnly(); len(none) != 0 {
		h.t.Errorf("appending no event returned %d", len(none))
	}

	appended := slices.Concat(first, second, third)
	checkAppended(h, slices.Concat(in, more), appended)
	last := h.head()
	listed := listEvents(h, 0, store.EventFilter{}, 100)
	checkIncreasing(h, 0, listed)
	checkListed(h, appended, listed)
	if n := len(listed); n > 0 && last != listed[n-1].Sequence {
		h.t.Errorf("LastSequence returned %d, want the last sequence %d", last, listed[n-1].Sequence)
	}
}

// unstored returns events without what storing them assigns.
func unstored(events []domain.Event) []domain.Event {
	out := make([]domain.Event, len(events))
	for i, e := range events {
		e.Sequence, e.ID = 0, ""
		out[i] = e
	}
	return out
}

// testEventRoundTrip checks an event comes back exactly as appended, resources included.
func testEventRoundTrip(h *harness) {
	ch := h.channel()
	conv := h.conversationValue(ch)
	msg := h.messageValue(conv, func(m *domain.Message) { m.Content = json.RawMessage(`{"text":"Ça marche","n":[1,2.5]}`) })
	ho := h.handoverValue(conv)
	agent := h.agentValue(func(a *domain.Agent) { a.Active = 2 })
	contact := h.contactValue(ch)
	e := eventValue(domain.EventHandoverAccepted, func(e *domain.Event) {
		e.ID = "event-1"
		e.Time = t0.In(elsewhere)
		e.ConversationID, e.ChannelID, e.BotID, e.AgentID, e.ContactID = conv.ID, ch.ID, "bot-1", agent.ID, contact.ID
		e.Actor = domain.Actor{Kind: domain.ActorAgent, ID: agent.ID}
		e.Owner = domain.AgentOwner(agent.ID)
		e.Epoch = 12
		e.Conversation, e.Message, e.Handover, e.Agent, e.Contact = &conv, &msg, &ho, &agent, &contact
		e.OwnerChange = &domain.OwnerChange{
			From: domain.QueueOwner("q1"), To: domain.AgentOwner(agent.ID), Epoch: 12, Reason: "accepted", HandoverID: ho.ID,
		}
	})
	in := []domain.Event{e, eventValue(domain.EventBotMuted, func(e *domain.Event) { e.ID = "event-2" })}
	out := h.append(in...)
	for i := range out {
		in[i].Sequence = out[i].Sequence
	}
	in[0].Message = new(inJSON(msg)) // as the event's JSON carries it
	// A handover's trace context is telemetry, not part of its story: events never carry it.
	in[0].Handover = new(*in[0].Handover)
	in[0].Handover.TraceParent = ""
	diff(h.t, "events", in, out)
	if got := out[0].Message.Content; string(got) != string(msg.Content) {
		h.t.Errorf("content = %s, want %s byte for byte", got, msg.Content)
	}
}

func testEventFilters(h *harness) {
	ev := func(typ domain.EventType, conv, ch, bot string) domain.Event {
		return eventValue(typ, func(e *domain.Event) { e.ConversationID, e.ChannelID, e.BotID = conv, ch, bot })
	}
	out := h.append(
		ev(domain.EventMessageReceived, "c1", "ch1", "b1"),
		ev(domain.EventHandoverRequested, "c2", "ch1", "b1"),
		ev(domain.EventMessageSent, "c1", "ch2", "b2"),
		ev(domain.EventAgentPresenceChanged, "", "", ""),
		ev(domain.EventMessageSent, "c1", "ch1", "b1"),
	)
	e1, e2, e3, e4, e5 := out[0], out[1], out[2], out[3], out[4]
	sent := []domain.EventType{domain.EventMessageSent}
	messages := []domain.EventType{domain.EventMessageReceived, domain.EventMessageSent}

	type F = store.EventFilter
	for _, c := range []struct {
		name  string
		after uint64
		f     F
		limit int
		want  []domain.Event
	}{
		{"none", 0, F{}, 10, out},
		{"conversation", 0, F{ConversationID: "c1"}, 10, []domain.Event{e1, e3, e5}},
		{"bot", 0, F{BotID: "b1"}, 10, []domain.Event{e1, e2, e5}},
		{"channel", 0, F{ChannelID: "ch2"}, 10, []domain.Event{e3}},
		{"types", 0, F{Types: messages}, 10, []domain.Event{e1, e3, e5}},
		{"conversation and type", 0, F{ConversationID: "c1", Types: sent}, 10, []domain.Event{e3, e5}},
		{"conversation and bot", 0, F{ConversationID: "c1", BotID: "b1"}, 10, []domain.Event{e1, e5}},
		{"no match", 0, F{BotID: "b1", ChannelID: "ch2"}, 10, nil},
		{"after", e1.Sequence, F{}, 10, []domain.Event{e2, e3, e4, e5}},
		{"after, conversation", e3.Sequence, F{ConversationID: "c1"}, 10, []domain.Event{e5}},
		{"after the last", e5.Sequence, F{}, 10, nil},
		{"limit", 0, F{}, 2, []domain.Event{e1, e2}},
		{"limit after", e2.Sequence, F{}, 2, []domain.Event{e3, e4}},
		{"limit, conversation", 0, F{ConversationID: "c1"}, 2, []domain.Event{e1, e3}},
	} {
		diff(h.t, "events, filter "+c.name, c.want, listEvents(h, c.after, c.f, c.limit))
		// A live stream selects from memory what the store would list.
		if c.after == 0 && c.limit == 10 {
			var selected []domain.Event
			for _, e := range out {
				if c.f.Selects(e) {
					selected = append(selected, e)
				}
			}
			diff(h.t, "events selected, filter "+c.name, c.want, selected)
		}
	}
}

func testLastSequence(h *harness) {
	if got := lastSequence(h); got != 0 {
		h.t.Errorf("LastSequence of an empty store = %d, want 0", got)
	}
	if got := h.head(); got != 0 {
		h.t.Errorf("Store.LastSequence of an empty store = %d, want 0", got)
	}
	out := h.append(eventValue(domain.EventBotMuted), eventValue(domain.EventBotUnmuted))
	if got := lastSequence(h); got != out[1].Sequence {
		h.t.Errorf("LastSequence = %d, want %d", got, out[1].Sequence)
	}
	if got := h.head(); got != out[1].Sequence {
		h.t.Errorf("Store.LastSequence = %d, want %d", got, out[1].Sequence)
	}
	h.write(func(tx store.Tx) error {
		stored, err := tx.AppendEvents(h.ctx, []domain.Event{eventValue(domain.EventBotMuted, func(e *domain.Event) { e.BotID = "b9" })})
		if err != nil {
			return err
		}
		// Within its transaction, the new event counts if it was numbered at once.
		want := out[1].Sequence
		if stored[0].Sequence != 0 {
			want = stored[0].Sequence
		}
		got, err := tx.LastSequence(h.ctx)
		if got != want {
			h.t.Errorf("LastSequence in the appending transaction = %d, want %d", got, want)
		}
		return err
	})
	head := h.head()
	if got := lastSequence(h); got != head || got <= out[1].Sequence {
		h.t.Errorf("LastSequence after another append = %d, Store.LastSequence %d; want them equal, more than %d",
			got, head, out[1].Sequence)
	}
}

// testNumbering checks events are numbered in the order they were appended, without gaps,
// also when a Write appending events rolled back.
func testNumbering(h *harness) {
	batch := func(n int) []domain.Event {
		events := make([]domain.Event, n)
		for i := range events {
			events[i] = eventValue(domain.EventMessageReceived, func(e *domain.Event) { e.ID = h.id("event") })
		}
		return events
	}
	var in, appended []domain.Event
	appendBatch := func(n int) {
		events := batch(n)
		in = append(in, events...)
		appended = append(appended, h.appendOnly(events...)...)
	}
	appendBatch(3)
	appendBatch(1)
	boom := errors.New("boom")
	err := h.tryWrite(func(tx store.Tx) error {
		if _, err := tx.AppendEvents(h.ctx, batch(2)); err != nil {
			return err
		}
		return boom
	})
	wantErr(h.t, "Write rolled back", err, boom)
	appendBatch(2)
	appendBatch(1)

	last := h.head()
	listed := listEvents(h, 0, store.EventFilter{}, 100)
	checkAppended(h, in, appended)
	checkListed(h, appended, listed)
	checkIncreasing(h, 0, listed)
	checkGapFree(h, listed)
	if n := len(listed); n > 0 && last != listed[n-1].Sequence {
		h.t.Errorf("LastSequence returned %d, want the last sequence %d", last, listed[n-1].Sequence)
	}
}

// testOwnerChanges checks ListOwnerChanges lists a conversation's owner changes alone, in the
// order they were stored, the appending transaction's own included.
func testOwnerChanges(h *harness) {
	change := func(conv string, epoch uint64) domain.Event {
		return eventValue(domain.EventOwnerChanged, func(e *domain.Event) {
			e.ConversationID, e.Epoch = conv, epoch
			e.OwnerChange = &domain.OwnerChange{From: domain.Nobody, To: domain.QueueOwner("q1"), Epoch: epoch, Reason: "routed"}
		})
	}
	other := func(conv string, typ domain.EventType) domain.Event {
		return eventValue(typ, func(e *domain.Event) { e.ConversationID = conv })
	}
	list := func(conv string) []domain.Event {
		return mustRead(h, func(tx store.Tx) ([]domain.Event, error) { return tx.ListOwnerChanges(h.ctx, conv) })
	}
	h.appendOnly(change("c1", 1), other("c1", domain.EventMessageReceived))
	h.appendOnly(change("c2", 1))
	h.appendOnly(other("c1", domain.EventHandoverRequested), change("c1", 2), change("c1", 3))
	h.appendOnly(change("c1", 4))
	want := []domain.Event{change("c1", 1), change("c1", 2), change("c1", 3), change("c1", 4)}
	diff(h.t, "owner changes", want, unstored(list("c1")))

	h.write(func(tx store.Tx) error {
		if _, err := tx.AppendEvents(h.ctx, []domain.Event{change("c1", 5)}); err != nil {
			return err
		}
		got, err := tx.ListOwnerChanges(h.ctx, "c1")
		diff(h.t, "owner changes in the appending transaction", append(want, change("c1", 5)), unstored(got))
		return err
	})
	owner := store.EventFilter{ConversationID: "c1", Types: []domain.EventType{domain.EventOwnerChanged}}
	diff(h.t, "owner changes as listed", listEvents(h, 0, owner, 10), list("c1"))
	diff(h.t, "owner changes of a conversation without any", []domain.Event(nil), list("c3"))
}

func testRememberRequest(h *harness) {
	lookup := func(scope, key string) string {
		return mustRead(h, func(tx store.Tx) (string, error) { return tx.LookupRequest(h.ctx, scope, key) })
	}
	remember := func(scope, key, id string) error {
		return h.tryWrite(func(tx store.Tx) error { return tx.RememberRequest(h.ctx, scope, key, id, at(time.Second)) })
	}
	if got := lookup("handoff", "k1"); got != "" {
		h.t.Errorf("unknown request looked up as %q", got)
	}
	wantErr(h.t, "remember", remember("handoff", "k1", "r1"), nil)
	wantErr(h.t, "remember again", remember("handoff", "k1", "r2"), store.ErrDuplicate)
	wantErr(h.t, "same key, other scope", remember("send", "k1", "r3"), nil)
	wantErr(h.t, "same scope, other key", remember("handoff", "k2", "r4"), nil)
	for _, c := range []struct{ scope, key, want string }{
		{"handoff", "k1", "r1"}, {"send", "k1", "r3"}, {"handoff", "k2", "r4"}, {"send", "k2", ""},
	} {
		if got := lookup(c.scope, c.key); got != c.want {
			h.t.Errorf("LookupRequest(%s, %s) = %q, want %q", c.scope, c.key, got, c.want)
		}
	}
}
