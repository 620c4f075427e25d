package storetest

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Handovers carry no revision: UpdateHandover overwrites.
var handoverResource = resource[domain.Handover]{
	value: func(h *harness) domain.Handover { return h.handoverValue(h.conversation(h.channel())) },
	minimal: func(h *harness) domain.Handover {
		conv := h.conversation(h.channel())
		return domain.Handover{ID: h.id("handover"), ConversationID: conv.ID, State: domain.HandoverRequested}
	},
	change: func(h *harness, v domain.Handover) domain.Handover {
		v.ConversationID = h.conversation(h.channel()).ID
		v.From = domain.AgentOwner("agent-8")
		v.Target = domain.Target{AgentID: "agent-9"}
		v.QueueID = "q-sales"
		v.Reason += " again"
		v.Metadata = map[string]string{"order": "B-2"}
		v.Summary += " Again."
		v.Intake = []domain.IntakeAnswer{{Question: "Why?", Answer: "Because."}}
		v.State = domain.HandoverReleased
		v.FailureReason = domain.NoAgentOnline
		v.OfferedAgentID = "agent-9"
		v.OfferExpireTime = at(2 * time.Minute)
		v.DeclinedAgentIDs = []string{"agent-5"}
		v.AgentID = "agent-9"
		v.Outcome = domain.OutcomeOutOfScope
		v.HandbackSummary += " Not ours."
		v.EndReason = domain.EndTransferred
		v.RequestedBy = domain.Actor{Kind: domain.ActorAdmin, ID: "key-1"}
		v.RequestID += "-changed"
		v.Priority = 8
		v.RuleID = "rule-other"
		v.RouteReason = "rule \"Other\": tagged vip"
		v.Epoch++
		v.CreateTime = at(-time.Hour)
		v.AcceptTime = at(time.Minute)
		v.EndTime = at(2 * time.Hour)
		v.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"
		return v
	},
	create: func(h *harness, tx store.Tx, v domain.Handover) error { return tx.CreateHandover(h.ctx, v) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Handover, error) { return tx.GetHandover(h.ctx, id) },
	update: func(h *harness, tx store.Tx, v domain.Handover) error { return tx.UpdateHandover(h.ctx, v) },
	id:     func(v *domain.Handover) *string { return &v.ID },
}

func testHandoverByRequestID(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	v := h.handover(conv)
	w := h.handover(other, func(w *domain.Handover) { w.RequestID = v.RequestID })
	h.handover(conv, func(w *domain.Handover) { w.RequestID = "" })

	for _, want := range []domain.Handover{v, w} {
		got := mustRead(h, func(tx store.Tx) (domain.Handover, error) {
			return tx.GetHandoverByRequestID(h.ctx, want.ConversationID, want.RequestID)
		})
		diff(h.t, "handover by request id", want, got)
	}
	for name, key := range map[string][2]string{
		"unknown request id":   {conv.ID, "missing"},
		"unknown conversation": {"missing", v.RequestID},
		"empty request id":     {conv.ID, ""},
	} {
		_, err := readValue(h, func(tx store.Tx) (domain.Handover, error) {
			return tx.GetHandoverByRequestID(h.ctx, key[0], key[1])
		})
		wantNotFound(h.t, name, err, "")
	}
}

func testHandoverUniqueKeys(h *harness) {
	ch := h.channel()
	c1, c2 := h.conversation(ch), h.conversation(ch)
	v := h.handover(c1)
	create := func(conv domain.Conversation, requestID string) error {
		w := h.handoverValue(conv, func(w *domain.Handover) { w.RequestID = requestID })
		return h.tryWrite(func(tx store.Tx) error { return tx.CreateHandover(h.ctx, w) })
	}
	wantErr(h.t, "same request id, same conversation", create(c1, v.RequestID), store.ErrDuplicate)
	wantErr(h.t, "same request id, other conversation", create(c2, v.RequestID), nil)
	wantErr(h.t, "no request id", create(c1, ""), nil)
	wantErr(h.t, "no request id again", create(c1, ""), nil)
}

func listHandovers(h *harness, q store.HandoverQuery) lister[domain.Handover] {
	return func(tx store.Tx, p store.Page) ([]domain.Handover, string, error) {
		return tx.ListHandovers(h.ctx, q, p)
	}
}

// testHandoverFilters lists five handovers with every filter, newest first.
func testHandoverFilters(h *harness) {
	ch := h.channel()
	c1, c2 := h.conversation(ch), h.conversation(ch)
	handover := func(conv domain.Conversation, queue string, state domain.HandoverState, offered, agent string, minute time.Duration) domain.Handover {
		return h.handover(conv, withQueue(queue), withState(state), withCreated(at(minute*time.Minute)),
			func(v *domain.Handover) { v.OfferedAgentID, v.AgentID = offered, agent })
	}
	h1 := handover(c1, "q1", domain.HandoverRequested, "", "", 1)
	h2 := handover(c1, "q1", domain.HandoverOffered, "a1", "", 2)
	h3 := handover(c2, "q2", domain.HandoverAccepted, "", "a1", 3)
	h4 := handover(c2, "q1", domain.HandoverReleased, "a2", "a2", 4)
	h5 := handover(c1, "q2", domain.HandoverAccepted, "", "a2", 5)

	type Q = store.HandoverQuery
	for _, c := range []struct {
		name string
		q    Q
		want []domain.Handover
	}{
		{"none", Q{}, []domain.Handover{h5, h4, h3, h2, h1}},
		{"conversation", Q{ConversationID: c1.ID}, []domain.Handover{h5, h2, h1}},
		{"queue", Q{QueueID: "q1"}, []domain.Handover{h4, h2, h1}},
		{"agent engaged or offered", Q{AgentID: "a1"}, []domain.Handover{h3, h2}},
		{"other agent", Q{AgentID: "a2"}, []domain.Handover{h5, h4}},
		{"states", Q{States: []domain.HandoverState{domain.HandoverRequested, domain.HandoverOffered}}, []domain.Handover{h2, h1}},
		{"state and agent", Q{States: []domain.HandoverState{domain.HandoverAccepted}, AgentID: "a2"}, []domain.Handover{h5}},
		{"conversation and queue", Q{ConversationID: c2.ID, QueueID: "q1"}, []domain.Handover{h4}},
		{"no match", Q{States: []domain.HandoverState{domain.HandoverExpired}}, nil},
		{"queues", Q{QueueIDs: []string{"q2", "q3"}}, []domain.Handover{h5, h3}},
		{"no queues", Q{QueueIDs: []string{}}, nil},
		{"queues and states", Q{QueueIDs: []string{"q1"}, States: []domain.HandoverState{domain.HandoverRequested, domain.HandoverOffered}}, []domain.Handover{h2, h1}},
		{"not offered to a1", Q{NotOfferedTo: "a1"}, []domain.Handover{h5, h4, h3, h1}},
		{"waiting, not offered to a1", Q{NotOfferedTo: "a1", States: []domain.HandoverState{domain.HandoverRequested, domain.HandoverOffered}}, []domain.Handover{h1}},
		{"oldest first", Q{OldestFirst: true, ConversationID: c1.ID}, []domain.Handover{h1, h2, h5}},
	} {
		diff(h.t, "handovers, filter "+c.name, c.want, walk(h, 2, listHandovers(h, c.q)))
		n := mustRead(h, func(tx store.Tx) (int, error) { return tx.CountHandovers(h.ctx, c.q) })
		diff(h.t, "count of handovers, filter "+c.name, len(c.want), n)
	}
}

// testHandoverList pages through handovers newest first, with times that tie.
func testHandoverList(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	var all, ofConv []domain.Handover
	for i, d := range []time.Duration{3, 1, 2, 2, 0, 2, 5, 2} {
		c := conv
		if i%3 == 0 {
			c = other
		}
		v := h.handover(c, withCreated(at(d*time.Second)))
		all = append(all, v)
		if c.ID == conv.ID {
			ofConv = append(ofConv, v)
		}
	}
	newestFirst := func(a, b domain.Handover) int {
		return cmp.Or(b.CreateTime.Compare(a.CreateTime), strings.Compare(b.ID, a.ID))
	}
	slices.SortFunc(all, newestFirst)
	slices.SortFunc(ofConv, newestFirst)
	checkPages(h, "handovers", all, listHandovers(h, store.HandoverQuery{}))
	checkPages(h, "handovers of a conversation", ofConv, listHandovers(h, store.HandoverQuery{ConversationID: conv.ID}))
	slices.Reverse(all)
	slices.Reverse(ofConv)
	checkPages(h, "handovers oldest first", all, listHandovers(h, store.HandoverQuery{OldestFirst: true}))
	checkPages(h, "handovers of a conversation oldest first", ofConv, listHandovers(h, store.HandoverQuery{ConversationID: conv.ID, OldestFirst: true}))
}

// testHandoverByPriority pages through waiting handovers as they are offered: the highest
// priority first, then the longest waiting, ties by id.
func testHandoverByPriority(h *harness) {
	ch := h.channel()
	conv := h.conversation(ch)
	waiting := []domain.HandoverState{domain.HandoverRequested}
	var want []domain.Handover
	for i, p := range []int{0, 5, -1, 5, 0, 10, 5, 0} {
		d := time.Duration(i%3) * time.Second // creation times that tie
		v := h.handover(conv, withCreated(at(d)), func(v *domain.Handover) { v.Priority, v.State = p, domain.HandoverRequested })
		want = append(want, v)
		h.handover(conv, withCreated(at(-time.Hour)), func(v *domain.Handover) { v.Priority, v.State = 99, domain.HandoverAccepted })
	}
	slices.SortFunc(want, func(a, b domain.Handover) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
	})
	checkPages(h, "waiting handovers by priority", want, listHandovers(h, store.HandoverQuery{States: waiting, ByPriority: true}))
	checkPages(h, "by priority, even when asked oldest first", want, listHandovers(h, store.HandoverQuery{States: waiting, ByPriority: true, OldestFirst: true}))
}
