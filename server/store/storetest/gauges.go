package storetest

import (
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// testGauges checks what the operator's gauges read: conversations waiting in each queue (none
// in a queue with none waiting) and the oldest's time, agents by presence with the online ones' capacity, engaged handovers,
// deliveries by state, and the outbox with its oldest message.
func testGauges(h *harness) {
	empty := mustRead(h, func(tx store.Tx) (store.Gauges, error) { return tx.Gauges(h.ctx) })
	diff(h.t, "gauges of an empty store", store.Gauges{Agents: map[domain.Presence]int{}, Deliveries: map[domain.DeliveryState]int{}}, empty)

	for _, id := range []string{"q-b", "q-a", "q-c"} {
		h.queue(func(q *domain.Queue) { q.ID = id })
	}
	h.agent(func(a *domain.Agent) { a.Capacity = 3 })
	h.agent(func(a *domain.Agent) { a.Capacity = 2 })
	h.agent(func(a *domain.Agent) { a.Presence, a.Capacity = domain.PresenceAway, 7 })

	ch := h.channel()
	waiting := func(queue string, state domain.HandoverState, created time.Time) func(*domain.Handover) {
		return func(v *domain.Handover) { v.QueueID, v.State, v.CreateTime = queue, state, created }
	}
	h.handover(h.conversation(ch), waiting("q-b", domain.HandoverOffered, at(2*time.Minute)))
	h.handover(h.conversation(ch), waiting("q-a", domain.HandoverOffered, at(time.Minute)))
	h.handover(h.conversation(ch), waiting("q-a", domain.HandoverRequested, at(3*time.Minute)))
	h.handover(h.conversation(ch), waiting("q-a", domain.HandoverAccepted, at(-time.Hour)))
	h.handover(h.conversation(ch), waiting("q-a", domain.HandoverReleased, at(-time.Hour)))
	h.handover(h.conversation(ch), waiting("q-c", domain.HandoverFailed, at(-time.Hour)))
	h.handover(h.conversation(ch), waiting("q-gone", domain.HandoverOffered, at(-time.Hour))) // its queue was deleted

	conv := h.conversation(ch)
	pending := func(created time.Time) func(*domain.Message) {
		return func(m *domain.Message) { m.Status, m.CreateTime = domain.DeliveryPending, created }
	}
	h.message(conv, pending(at(5*time.Second)))
	h.message(conv, pending(at(3*time.Second)))
	h.message(conv) // delivered
	h.message(conv, pending(at(time.Second)), func(m *domain.Message) { m.Direction = domain.Inbound })

	hook := h.webhook(firehose)
	events := h.appendOnly(h.event(conv.ID), h.event(conv.ID), h.event(conv.ID))
	updateDelivery(h, deliveryOf(hook, events[0]), func(d *domain.Delivery) { d.State = domain.DeliveryStateDead })
	updateDelivery(h, deliveryOf(hook, events[1]), func(d *domain.Delivery) { d.State = domain.DeliveryStateDelivered })

	got := mustRead(h, func(tx store.Tx) (store.Gauges, error) { return tx.Gauges(h.ctx) })
	diff(h.t, "gauges", store.Gauges{
		Queues: []store.QueueGauge{
			{QueueID: "q-a", Waiting: 2, Oldest: at(time.Minute)},
			{QueueID: "q-b", Waiting: 1, Oldest: at(2 * time.Minute)},
			{QueueID: "q-c"},
		},
		Agents:         map[domain.Presence]int{domain.PresenceOnline: 2, domain.PresenceAway: 1},
		OnlineCapacity: 5,
		Engaged:        1,
		Deliveries: map[domain.DeliveryState]int{
			domain.DeliveryStatePending: 1, domain.DeliveryStateDead: 1, domain.DeliveryStateDelivered: 1,
		},
		Outbox:       2,
		OutboxOldest: at(3 * time.Second),
	}, got)
}
