package storetest

import (
	"errors"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Erasure: the record of a contact's erasure, and the tombstones of its messages and events.

func testErasureRecord(h *harness) {
	ch := h.channel()
	a, b := h.contact(ch), h.contact(ch)
	first := domain.Erasure{
		ContactID: a.ID, ChannelID: ch.ID, ConversationID: "conv-of-" + a.ID,
		Actor: domain.Actor{Kind: domain.ActorAdmin, ID: "key-1"}, CreateTime: at(time.Second),
	}
	second := domain.Erasure{ContactID: b.ID, ChannelID: ch.ID, Actor: domain.Actor{Kind: domain.ActorAdmin, ID: "key-2"}, CreateTime: at(2 * time.Second)}
	h.write(func(tx store.Tx) error { return tx.CreateErasure(h.ctx, second) })
	h.write(func(tx store.Tx) error { return tx.CreateErasure(h.ctx, first) })
	wantErr(h.t, "a second erasure of a contact", h.tryWrite(func(tx store.Tx) error { return tx.CreateErasure(h.ctx, first) }), store.ErrDuplicate)

	got := mustRead(h, func(tx store.Tx) (domain.Erasure, error) { return tx.GetErasure(h.ctx, a.ID) })
	diff(h.t, "erasure", first, got)
	_, err := readValue(h, func(tx store.Tx) (domain.Erasure, error) { return tx.GetErasure(h.ctx, "missing") })
	wantNotFound(h.t, "no erasure", err, "missing")

	unfinished := mustRead(h, func(tx store.Tx) ([]domain.Erasure, error) { return tx.ListUnfinishedErasures(h.ctx, 10) })
	diff(h.t, "unfinished erasures, oldest first", []domain.Erasure{first, second}, unfinished)
	diff(h.t, "unfinished erasures, limited", []domain.Erasure{first},
		mustRead(h, func(tx store.Tx) ([]domain.Erasure, error) { return tx.ListUnfinishedErasures(h.ctx, 1) }))

	h.write(func(tx store.Tx) error { return tx.CompleteErasure(h.ctx, a.ID, at(time.Minute)) })
	first.CompleteTime = at(time.Minute)
	diff(h.t, "completed erasure", first, mustRead(h, func(tx store.Tx) (domain.Erasure, error) { return tx.GetErasure(h.ctx, a.ID) }))
	diff(h.t, "unfinished erasures after one completed", []domain.Erasure{second},
		mustRead(h, func(tx store.Tx) ([]domain.Erasure, error) { return tx.ListUnfinishedErasures(h.ctx, 10) }))
	err = h.tryWrite(func(tx store.Tx) error { return tx.CompleteErasure(h.ctx, "missing", at(time.Minute)) })
	wantNotFound(h.t, "completing an erasure never started", err, "missing")
}

func testEraseMessages(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	sent := h.message(conv)
	pending := h.message(conv, func(m *domain.Message) { m.Status = domain.DeliveryPending })
	kept := h.message(other)
	h.write(func(tx store.Tx) error {
		return tx.EraseMessages(h.ctx, []domain.Message{domain.EraseMessage(sent), domain.EraseMessage(pending)})
	})
	list := mustRead(h, func(tx store.Tx) ([]domain.Message, error) {
		out, _, err := tx.ListMessages(h.ctx, conv.ID, store.Page{})
		return out, err
	})
	wantSent, wantPending := sent, pending
	wantSent.Content, wantSent.ChannelMessageID, wantSent.Error, wantSent.Erased = nil, "", "", true
	wantSent.LeaseExpireTime = time.Time{}
	wantPending.Content, wantPending.ChannelMessageID, wantPending.Erased = nil, "", true
	wantPending.Status, wantPending.Error, wantPending.LeaseExpireTime = domain.DeliveryFailed, domain.ErasedError, time.Time{}
	diff(h.t, "tombstones, in their places", []domain.Message{wantSent, wantPending}, list)
	diff(h.t, "a message of another conversation", kept,
		mustRead(h, func(tx store.Tx) (domain.Message, error) { return tx.GetMessage(h.ctx, kept.ID) }))
	// The erased channel message id is free again; the request id, a key of the sender's, stays.
	h.message(other, func(m *domain.Message) { m.ChannelMessageID = sent.ChannelMessageID })

	err := h.tryWrite(func(tx store.Tx) error {
		return tx.EraseMessages(h.ctx, []domain.Message{domain.EraseMessage(domain.Message{ID: "missing"})})
	})
	var nf *domain.NotFoundError
	if !errors.As(err, &nf) {
		h.t.Errorf("erasing a missing message: got %v, want NotFoundError", err)
	}
}

func testContactEvents(h *harness) {
	ch, elsewhere := h.channel(), h.channel()
	a, b := h.contact(ch), h.contact(ch)
	mute := func(c domain.Contact, channelID string) domain.Event {
		snapshot := c
		return eventValue(domain.EventBotMuted, func(e *domain.Event) {
			e.ChannelID, e.ContactID, e.Contact = channelID, c.ID, &snapshot
		})
	}
	conv := h.conversation(ch, func(c *domain.Conversation) { c.ContactID = a.ID })
	events := h.append(
		mute(a, ch.ID),
		mute(b, ch.ID),
		eventValue(domain.EventConversationUpdated, func(e *domain.Event) {
			e.ConversationID, e.ChannelID, e.ContactID = conv.ID, ch.ID, a.ID
		}),
		mute(a, elsewhere.ID),
		mute(a, ch.ID),
	)
	list := func(after uint64, limit int) []domain.Event {
		return mustRead(h, func(tx store.Tx) ([]domain.Event, error) {
			return tx.ListContactEvents(h.ctx, ch.ID, a.ID, after, limit)
		})
	}
	diff(h.t, "the contact's events without a conversation, on its channel", []domain.Event{events[0], events[4]}, list(0, 10))
	diff(h.t, "after the first", []domain.Event{events[4]}, list(events[0].Sequence, 10))
	diff(h.t, "limited", []domain.Event{events[0]}, list(0, 1))

	erased := []domain.Event{domain.EraseEvent(events[0]), domain.EraseEvent(events[2])}
	h.write(func(tx store.Tx) error { return tx.RewriteEvents(h.ctx, erased) })
	all := listEvents(h, events[0].Sequence-1, store.EventFilter{}, 10)
	want := append([]domain.Event(nil), events...)
	want[0], want[2] = erased[0], erased[2-1]
	diff(h.t, "the log after a rewrite: same sequences, tombstones in place", want, all)
	if all[0].Contact.DisplayName != "" || all[0].Contact.ExternalID == a.ExternalID {
		h.t.Errorf("rewritten event still carries the profile: %+v", all[0].Contact)
	}
	if got := lastSequence(h); got != events[4].Sequence {
		h.t.Errorf("LastSequence after a rewrite = %d, want %d", got, events[4].Sequence)
	}
	err := h.tryWrite(func(tx store.Tx) error {
		return tx.RewriteEvents(h.ctx, []domain.Event{{Sequence: events[4].Sequence + 100, ID: "missing"}})
	})
	var nf *domain.NotFoundError
	if !errors.As(err, &nf) {
		h.t.Errorf("rewriting a missing event: got %v, want NotFoundError", err)
	}
}
