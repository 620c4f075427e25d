package storetest

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Contacts, conversations and messages.

var contactResource = resource[domain.Contact]{
	value: func(h *harness) domain.Contact { return h.contactValue(h.channel()) },
	minimal: func(h *harness) domain.Contact {
		id := h.id("contact")
		return domain.Contact{ID: id, ChannelID: h.channel().ID, ExternalID: "u-" + id}
	},
	change: func(h *harness, c domain.Contact) domain.Contact {
		c.ChannelID = h.channel().ID
		c.ExternalID += "-changed"
		c.DisplayName += " changed"
		c.Locale = "de_DE"
		c.Attributes = map[string]string{"plan": "silver"}
		c.BotMutedUntil = at(2 * time.Hour)
		c.CreateTime = at(-time.Hour)
		c.UpdateTime = at(time.Hour)
		return c
	},
	create: func(h *harness, tx store.Tx, c domain.Contact) error { return tx.CreateContact(h.ctx, c) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Contact, error) { return tx.GetContact(h.ctx, id) },
	update: func(h *harness, tx store.Tx, c domain.Contact) error { return tx.UpdateContact(h.ctx, c) },
	id:     func(c *domain.Contact) *string { return &c.ID },
	rev:    func(c *domain.Contact) *int64 { return &c.Revision },
	lock:   store.KindContact,
}

func testContactByExternalID(h *harness) {
	a, b := h.channel(), h.channel()
	ca := h.contact(a)
	cb := h.contact(b, func(c *domain.Contact) { c.ExternalID = ca.ExternalID })
	for _, want := range []domain.Contact{ca, cb} {
		got := mustRead(h, func(tx store.Tx) (domain.Contact, error) {
			return tx.GetContactByExternalID(h.ctx, want.ChannelID, want.ExternalID)
		})
		diff(h.t, "contact by external id", want, got)
	}
	_, err := readValue(h, func(tx store.Tx) (domain.Contact, error) { return tx.GetContactByExternalID(h.ctx, a.ID, "missing") })
	wantNotFound(h.t, "unknown external id", err, "")
	_, err = readValue(h, func(tx store.Tx) (domain.Contact, error) {
		return tx.GetContactByExternalID(h.ctx, "missing", ca.ExternalID)
	})
	wantNotFound(h.t, "unknown channel", err, "")
}

func testContactUniqueKeys(h *harness) {
	ch := h.channel()
	a := h.contact(ch)
	dup := h.contactValue(ch, func(c *domain.Contact) { c.ExternalID = a.ExternalID })
	err := h.tryWrite(func(tx store.Tx) error { return tx.CreateContact(h.ctx, dup) })
	wantErr(h.t, "create with a taken channel and external id", err, store.ErrDuplicate)

	b := h.contact(ch)
	clash := b
	clash.ExternalID = a.ExternalID
	err = h.tryWrite(func(tx store.Tx) error { return tx.UpdateContact(h.ctx, clash) })
	wantErr(h.t, "update to a taken channel and external id", err, store.ErrDuplicate)
	diff(h.t, "contact after refused update", b, contactResource.mustFetch(h, b.ID))
}

func listContacts(h *harness, q store.ContactQuery) lister[domain.Contact] {
	return func(tx store.Tx, p store.Page) ([]domain.Contact, string, error) { return tx.ListContacts(h.ctx, q, p) }
}

func testContactList(h *harness) {
	a, b := h.channel(), h.channel()
	contact := func(ch domain.Channel, name, externalID string) domain.Contact {
		return h.contact(ch, func(c *domain.Contact) { c.DisplayName = name; c.ExternalID = externalID })
	}
	alice := contact(a, "Alice Smith", "u-100")
	bob := contact(a, "Bob", "ALICE-2")
	carol := contact(a, "Carol", "u-300")
	alice2 := contact(b, "alice", "u-100")
	dan := contact(b, "Dan 100%", "u_400")

	checkPages(h, "all contacts", []domain.Contact{alice, bob, carol, alice2, dan}, listContacts(h, store.ContactQuery{}))
	checkPages(h, "contacts of a channel", []domain.Contact{alice, bob, carol}, listContacts(h, store.ContactQuery{ChannelID: a.ID}))
	for _, c := range []struct {
		q    store.ContactQuery
		want []domain.Contact
	}{
		{store.ContactQuery{Query: "alice"}, []domain.Contact{alice, bob, alice2}},
		{store.ContactQuery{Query: "ALICE", ChannelID: a.ID}, []domain.Contact{alice, bob}},
		{store.ContactQuery{Query: "smith"}, []domain.Contact{alice}},
		{store.ContactQuery{Query: "u-3"}, []domain.Contact{carol}},
		{store.ContactQuery{Query: "100"}, []domain.Contact{alice, alice2, dan}},
		// The text is matched literally: no wildcards.
		{store.ContactQuery{Query: "0%"}, []domain.Contact{dan}},
		{store.ContactQuery{Query: "u_"}, []domain.Contact{dan}},
		{store.ContactQuery{Query: "nobody"}, nil},
	} {
		diff(h.t, "contacts matching "+c.q.Query, c.want, walk(h, 2, listContacts(h, c.q)))
	}
}

var conversationResource = resource[domain.Conversation]{
	value: func(h *harness) domain.Conversation { return h.conversationValue(h.channel()) },
	minimal: func(h *harness) domain.Conversation {
		ch := h.channel()
		return domain.Conversation{
			ID: h.id("conv"), ChannelID: ch.ID, ContactID: h.contact(ch).ID,
			Owner: domain.Nobody, State: domain.ConversationOpen,
		}
	},
	change: func(h *harness, c domain.Conversation) domain.Conversation {
		ch := h.channel()
		c.ChannelID = ch.ID
		c.ContactID = h.contact(ch).ID
		c.BotID += "-changed"
		c.Owner = domain.AgentOwner("agent-9")
		c.Epoch++
		c.State = domain.ConversationClosed
		c.Status = domain.StatusNotUnderstood
		c.Tags = []string{"changed"}
		c.Language = "es"
		c.ActiveHandoverID += "-changed"
		c.BotEnabled = !c.BotEnabled
		c.BotMutedUntil = at(5 * time.Hour)
		c.LastActivityTime = at(time.Hour)
		c.LastInboundTime = at(time.Hour)
		c.LastOutboundTime = at(2 * time.Hour)
		c.ExternalOwnerTime = at(90 * time.Minute)
		c.EntryPoint = "ad:120210000000"
		c.CreateTime = at(-2 * time.Hour)
		c.UpdateTime = at(2 * time.Hour)
		return c
	},
	create: func(h *harness, tx store.Tx, c domain.Conversation) error { return tx.CreateConversation(h.ctx, c) },
	get: func(h *harness, tx store.Tx, id string) (domain.Conversation, error) {
		return tx.GetConversation(h.ctx, id)
	},
	update: func(h *harness, tx store.Tx, c domain.Conversation) error { return tx.UpdateConversation(h.ctx, c) },
	id:     func(c *domain.Conversation) *string { return &c.ID },
	rev:    func(c *domain.Conversation) *int64 { return &c.Revision },
}

func testConversationByContact(h *harness) {
	ch := h.channel()
	c := h.conversation(ch)
	h.conversation(ch)
	got := mustRead(h, func(tx store.Tx) (domain.Conversation, error) { return tx.GetConversationByContact(h.ctx, c.ContactID) })
	diff(h.t, "conversation by contact", c, got)

	lonely := h.contact(ch)
	_, err := readValue(h, func(tx store.Tx) (domain.Conversation, error) { return tx.GetConversationByContact(h.ctx, lonely.ID) })
	wantNotFound(h.t, "contact without conversation", err, "")
}

func testConversationOnePerContact(h *harness) {
	ch := h.channel()
	c := h.conversation(ch)
	second := h.conversationValue(ch, func(v *domain.Conversation) { v.ContactID = c.ContactID })
	err := h.tryWrite(func(tx store.Tx) error { return tx.CreateConversation(h.ctx, second) })
	wantErr(h.t, "second conversation of a contact", err, store.ErrDuplicate)
}

// testConversationTouchExternalOwnerTime: the channel's time of a report that moved nobody is
// stored without an edit (the revision, hence the etag, stays).
func testConversationTouchExternalOwnerTime(h *harness) {
	c := h.conversation(h.channel())
	h.write(func(tx store.Tx) error { return tx.TouchExternalOwnerTime(h.ctx, c.ID, at(time.Minute)) })
	c.ExternalOwnerTime = at(time.Minute)
	diff(h.t, "touched conversation (same revision, new external owner time)", c, conversationResource.mustFetch(h, c.ID))
	err := h.tryWrite(func(tx store.Tx) error { return tx.TouchExternalOwnerTime(h.ctx, "conv-missing", at(0)) })
	wantNotFound(h.t, "touch a missing conversation", err, "conv-missing")
}

func listConversations(h *harness, q store.ConversationQuery) lister[domain.Conversation] {
	return func(tx store.Tx, p store.Page) ([]domain.Conversation, string, error) {
		return tx.ListConversations(h.ctx, q, p)
	}
}

// testConversationFilters lists five conversations with every filter. Lists are ordered by
// last activity, newest first, then by id descending.
func testConversationFilters(h *harness) {
	chA, chB := h.channel(), h.channel()
	type spec struct {
		ch                          domain.Channel
		owner                       domain.Owner
		status                      domain.ConversationStatus
		state                       domain.ConversationState
		lang                        string
		tags                        []string
		activity, inbound, outbound time.Duration // after t0; -1 for the zero time
	}
	conv := func(id string, s spec) domain.Conversation {
		tm := func(d time.Duration) time.Time {
			if d < 0 {
				return time.Time{}
			}
			return at(d)
		}
		return h.conversation(s.ch, func(c *domain.Conversation) {
			c.ID, c.Owner, c.Status, c.State, c.Language, c.Tags = id, s.owner, s.status, s.state, s.lang, s.tags
			c.LastActivityTime, c.LastInboundTime, c.LastOutboundTime = tm(s.activity), tm(s.inbound), tm(s.outbound)
			if id != "cv-2" && id != "cv-4" { // only these breached an SLA
				c.SLABreachTime = time.Time{}
			}
		})
	}
	const m = time.Minute
	v1 := conv("cv-1", spec{chA, domain.BotOwner("b1"), domain.StatusOK, domain.ConversationOpen, "en", []string{"vip", "billing"}, 60 * m, 50 * m, 55 * m})
	v2 := conv("cv-2", spec{chA, domain.QueueOwner("q1"), domain.StatusNeedHelp, domain.ConversationOpen, "fr", []string{"billing"}, 120 * m, 110 * m, 100 * m})
	v3 := conv("cv-3", spec{chB, domain.AgentOwner("a1"), domain.StatusNotUnderstood, domain.ConversationOpen, "en", nil, 180 * m, 170 * m, -1})
	v4 := conv("cv-4", spec{chB, domain.Nobody, domain.StatusOK, domain.ConversationClosed, "de", []string{"vip"}, 240 * m, -1, 180 * m})
	v5 := conv("cv-5", spec{chA, domain.AgentOwner("a2"), domain.StatusOK, domain.ConversationOpen, "en", []string{"vipx"}, 120 * m, 120 * m, -1})

	type Q = store.ConversationQuery
	for _, c := range []struct {
		name string
		q    Q
		want []domain.Conversation
	}{
		{"none", Q{}, []domain.Conversation{v4, v3, v5, v2, v1}},
		{"owner kind", Q{OwnerKind: domain.OwnerAgent}, []domain.Conversation{v3, v5}},
		{"owner", Q{OwnerKind: domain.OwnerAgent, OwnerID: "a1"}, []domain.Conversation{v3}},
		{"owner id", Q{OwnerID: "q1"}, []domain.Conversation{v2}},
		{"status", Q{Status: domain.StatusOK}, []domain.Conversation{v4, v5, v1}},
		{"state closed", Q{State: domain.ConversationClosed}, []domain.Conversation{v4}},
		{"state open", Q{State: domain.ConversationOpen}, []domain.Conversation{v3, v5, v2, v1}},
		{"channel", Q{ChannelID: chB.ID}, []domain.Conversation{v4, v3}},
		{"channels", Q{ChannelIDs: []string{chA.ID}}, []domain.Conversation{v5, v2, v1}},
		{"no channels", Q{ChannelIDs: []string{}}, nil},
		{"channels and channel", Q{ChannelIDs: []string{chA.ID, chB.ID}, ChannelID: chB.ID}, []domain.Conversation{v4, v3}},
		{"channel outside channels", Q{ChannelIDs: []string{chB.ID}, ChannelID: chA.ID}, nil},
		{"contact", Q{ContactID: v3.ContactID}, []domain.Conversation{v3}},
		{"language", Q{Language: "fr"}, []domain.Conversation{v2}},
		{"tag", Q{Tag: "vip"}, []domain.Conversation{v4, v1}},
		{"other tag", Q{Tag: "billing"}, []domain.Conversation{v2, v1}},
		{"active after", Q{ActiveAfter: at(120 * m)}, []domain.Conversation{v4, v3, v5, v2}},
		{"active before", Q{ActiveBefore: at(120 * m)}, []domain.Conversation{v1}},
		{"active between", Q{ActiveAfter: at(120 * m), ActiveBefore: at(240 * m)}, []domain.Conversation{v3, v5, v2}},
		{"unanswered", Q{UnansweredSince: at(180 * m)}, []domain.Conversation{v3, v5, v2}},
		{"unanswered at the inbound time", Q{UnansweredSince: at(110 * m)}, []domain.Conversation{v2}},
		{"unanswered before the inbound time", Q{UnansweredSince: at(110*m - time.Microsecond)}, nil},
		{"sla breached", Q{SLABreached: new(true)}, []domain.Conversation{v4, v2}},
		{"sla never breached", Q{SLABreached: new(false)}, []domain.Conversation{v3, v5, v1}},
		{"several", Q{OwnerKind: domain.OwnerAgent, State: domain.ConversationOpen, Language: "en", Tag: "vipx"}, []domain.Conversation{v5}},
	} {
		diff(h.t, "conversations, filter "+c.name, c.want, walk(h, 2, listConversations(h, c.q)))
	}
}

// testConversationList pages through conversations whose activity times tie, or are zero.
func testConversationList(h *harness) {
	ch := h.channel()
	var all []domain.Conversation
	for _, d := range []time.Duration{time.Hour, 2 * time.Hour, -1, 2 * time.Hour, 3 * time.Hour, 2 * time.Hour, -time.Hour, -1} {
		activity := time.Time{}
		if d != -1 {
			activity = at(d)
		}
		all = append(all, h.conversation(ch, withActivity(activity)))
	}
	slices.SortFunc(all, func(a, b domain.Conversation) int {
		return cmp.Or(b.LastActivityTime.Compare(a.LastActivityTime), strings.Compare(b.ID, a.ID))
	})
	checkPages(h, "conversations", all, listConversations(h, store.ConversationQuery{}))
}

func testMessageRoundTrip(h *harness) {
	conv := h.conversation(h.channel())
	m := h.message(conv)
	byChannelID := mustRead(h, func(tx store.Tx) (domain.Message, error) {
		return tx.GetMessageByChannelMessageID(h.ctx, conv.ChannelID, m.ChannelMessageID)
	})
	diff(h.t, "message by channel message id", m, byChannelID)
	if string(byChannelID.Content) != string(m.Content) {
		h.t.Errorf("content = %s, want %s byte for byte", byChannelID.Content, m.Content)
	}
	byRequestID := mustRead(h, func(tx store.Tx) (domain.Message, error) {
		return tx.GetMessageByRequestID(h.ctx, conv.ID, m.RequestID)
	})
	diff(h.t, "message by request id", m, byRequestID)

	// A message with neither id nor content, and a zero time, which lists it first.
	minimal := h.message(conv, func(v *domain.Message) {
		*v = domain.Message{ID: v.ID, ConversationID: conv.ID, ChannelID: conv.ChannelID, Direction: domain.Inbound}
	})
	diff(h.t, "messages", []domain.Message{minimal, m}, walk(h, 0, listMessages(h, conv.ID)))

	notFound := map[string]func(tx store.Tx) (domain.Message, error){
		"other channel": func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByChannelMessageID(h.ctx, "missing", m.ChannelMessageID)
		},
		"unknown channel message id": func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByChannelMessageID(h.ctx, conv.ChannelID, "missing")
		},
		"empty channel message id": func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByChannelMessageID(h.ctx, conv.ChannelID, "")
		},
		"other conversation": func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByRequestID(h.ctx, "missing", m.RequestID)
		},
		"unknown request id": func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByRequestID(h.ctx, conv.ID, "missing")
		},
		"empty request id": func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByRequestID(h.ctx, conv.ID, "")
		},
	}
	for name, get := range notFound {
		_, err := readValue(h, get)
		wantNotFound(h.t, name, err, "")
	}
}

func testMessageUniqueKeys(h *harness) {
	ch := h.channel()
	c1, c2 := h.conversation(ch), h.conversation(ch)
	elsewhere := h.conversation(h.channel())
	m := h.message(c1)

	create := func(conv domain.Conversation, mod func(*domain.Message)) error {
		v := h.messageValue(conv, mod)
		return h.tryWrite(func(tx store.Tx) error { return tx.CreateMessage(h.ctx, v) })
	}
	sameID := func(v *domain.Message) { v.ID = m.ID }
	sameChannelMessageID := func(v *domain.Message) { v.ChannelMessageID = m.ChannelMessageID }
	sameRequestID := func(v *domain.Message) { v.RequestID = m.RequestID }
	noIDs := func(v *domain.Message) { v.ChannelMessageID, v.RequestID = "", "" }

	wantErr(h.t, "same id", create(c2, sameID), store.ErrDuplicate)
	wantErr(h.t, "same channel message id, same channel", create(c2, sameChannelMessageID), store.ErrDuplicate)
	wantErr(h.t, "same request id, same conversation", create(c1, sameRequestID), store.ErrDuplicate)
	wantErr(h.t, "same channel message id, other channel", create(elsewhere, sameChannelMessageID), nil)
	wantErr(h.t, "same request id, other conversation", create(c2, sameRequestID), nil)
	wantErr(h.t, "no ids", create(c1, noIDs), nil)
	wantErr(h.t, "no ids again", create(c1, noIDs), nil)

	n := len(walk(h, 0, listMessages(h, c1.ID)))
	if n != 3 {
		h.t.Errorf("conversation has %d messages, want 3", n)
	}
}

func listMessages(h *harness, conversationID string) lister[domain.Message] {
	return func(tx store.Tx, p store.Page) ([]domain.Message, string, error) {
		return tx.ListMessages(h.ctx, conversationID, p)
	}
}

// testMessageList pages through messages oldest first, with times that tie.
func testMessageList(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	var all []domain.Message
	for _, d := range []time.Duration{3, 1, 2, 2, 0, 2, 5} {
		all = append(all, h.message(conv, func(m *domain.Message) { m.CreateTime = at(d * time.Second) }))
		h.message(other)
	}
	slices.SortFunc(all, func(a, b domain.Message) int {
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
	})
	checkPages(h, "messages", all, listMessages(h, conv.ID))
	diff(h.t, "messages of a silent conversation", []domain.Message(nil), walk(h, 0, listMessages(h, h.conversation(ch).ID)))
}

// testRecentInbound reads a conversation's newest inbound messages, oldest first, leaving out
// outbound messages, notes and other conversations' messages.
func testRecentInbound(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	var inbound []domain.Message
	for i, d := range []time.Duration{3, 1, 2, 2, 0, 5} {
		m := h.message(conv, func(m *domain.Message) { m.Direction, m.CreateTime = domain.Inbound, at(d*time.Second) })
		inbound = append(inbound, m)
		dir := domain.Outbound
		if i%2 == 0 {
			dir = domain.Internal
		}
		h.message(conv, func(m *domain.Message) { m.Direction, m.CreateTime = dir, at(time.Minute) })
		h.message(other, func(m *domain.Message) { m.Direction, m.CreateTime = domain.Inbound, at(time.Minute) })
	}
	slices.SortFunc(inbound, func(a, b domain.Message) int {
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
	})
	got := mustRead(h, func(tx store.Tx) ([]domain.Message, error) { return tx.RecentInbound(h.ctx, conv.ID, 4) })
	diff(h.t, "the 4 newest inbound messages", inbound[2:], got)
	got = mustRead(h, func(tx store.Tx) ([]domain.Message, error) { return tx.RecentInbound(h.ctx, conv.ID, 100) })
	diff(h.t, "every inbound message", inbound, got)
	got = mustRead(h, func(tx store.Tx) ([]domain.Message, error) { return tx.RecentInbound(h.ctx, h.conversation(ch).ID, 4) })
	diff(h.t, "a silent conversation", []domain.Message(nil), got)
}

// testLastMessages reads the newest message of several conversations at once: the latest by
// time, the greatest id among those that tie, none for a silent or unknown conversation.
func testLastMessages(h *harness) {
	ch := h.channel()
	busy, single, silent, unasked := h.conversation(ch), h.conversation(ch), h.conversation(ch), h.conversation(h.channel())
	var ofBusy []domain.Message
	for _, d := range []time.Duration{1, 3, 2, 3, 0} {
		ofBusy = append(ofBusy, h.message(busy, func(m *domain.Message) { m.CreateTime = at(d * time.Second) }))
	}
	only := h.message(single, func(m *domain.Message) { m.Direction, m.CreateTime = domain.Inbound, at(-time.Hour) })
	h.message(unasked, func(m *domain.Message) { m.CreateTime = at(time.Hour) })

	newest := slices.MaxFunc(ofBusy, func(a, b domain.Message) int {
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
	})
	got := mustRead(h, func(tx store.Tx) (map[string]domain.Message, error) {
		return tx.LastMessages(h.ctx, []string{busy.ID, single.ID, silent.ID, "missing", busy.ID})
	})
	diff(h.t, "last messages", map[string]domain.Message{busy.ID: newest, single.ID: only}, got)

	none := mustRead(h, func(tx store.Tx) (map[string]domain.Message, error) { return tx.LastMessages(h.ctx, nil) })
	diff(h.t, "last messages of no conversation", map[string]domain.Message{}, none)
}
