package storetest

import (
	"encoding/json"
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

func (h *harness) append(events ...domain.Event) []domain.Event {
	h.t.Helper()
	var out []domain.Event
	h.write(func(tx store.Tx) error {
		var err error
		out, err = tx.AppendEvents(h.ctx, events)
		return err
	})
	return out
}

func listEvents(h *harness, after uint64, f store.EventFilter, limit int) []domain.Event {
	h.t.Helper()
	return mustRead(h, func(tx store.Tx) ([]domain.Event, error) { return tx.ListEvents(h.ctx, after, f, limit) })
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
	third := h.append(more...)
	if none := h.append(); len(none) != 0 {
		h.t.Errorf("appending no event returned %d", len(none))
	}

	all := slices.Concat(first, second, third)
	checkIncreasing(h, 0, all)
	seen := map[string]bool{}
	for i, e := range all {
		if e.ID == "" || seen[e.ID] {
			h.t.Errorf("event %d has id %q, want a new one", i, e.ID)
		}
		seen[e.ID] = true
	}
	if all[1].ID != "given-id" {
		h.t.Errorf("given id became %q", all[1].ID)
	}
	diff(h.t, "appended events", unstored(slices.Concat(in, more)), unstored(all))
	diff(h.t, "listed events", all, listEvents(h, 0, store.EventFilter{}, 100))
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
	out := h.append(e, eventValue(domain.EventBotMuted))
	diff(h.t, "events", out, listEvents(h, 0, store.EventFilter{}, 10))
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
	}
}

func testLastSequence(h *harness) {
	last := func() uint64 {
		return mustRead(h, func(tx store.Tx) (uint64, error) { return tx.LastSequence(h.ctx) })
	}
	if got := last(); got != 0 {
		h.t.Errorf("LastSequence of an empty store = %d, want 0", got)
	}
	out := h.append(eventValue(domain.EventBotMuted), eventValue(domain.EventBotUnmuted))
	if got := last(); got != out[1].Sequence {
		h.t.Errorf("LastSequence = %d, want %d", got, out[1].Sequence)
	}
	h.write(func(tx store.Tx) error {
		out, err := tx.AppendEvents(h.ctx, []domain.Event{eventValue(domain.EventBotMuted, func(e *domain.Event) { e.BotID = "b9" })})
		if err != nil {
			return err
		}
		got, err := tx.LastSequence(h.ctx)
		if got != out[0].Sequence {
			h.t.Errorf("LastSequence in the appending transaction = %d, want %d", got, out[0].Sequence)
		}
		return err
	})
	if got, want := last(), out[1].Sequence; got <= want {
		h.t.Errorf("LastSequence after another append = %d, want more than %d", got, want)
	}
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
