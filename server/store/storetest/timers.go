package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// The timers' queries. Their order is not documented, so results
// are compared as sets; a row due exactly at now is due.

// checkDue checks get(limit) returns want as a set, and that a smaller limit is applied.
func checkDue[T any](h *harness, what string, want []T, id func(T) string, get func(tx store.Tx, limit int) ([]T, error)) {
	h.t.Helper()
	byID := func(a, b T) int { return strings.Compare(id(a), id(b)) }
	got := mustRead(h, func(tx store.Tx) ([]T, error) { return get(tx, 100) })
	slices.SortFunc(got, byID)
	want = slices.SortedFunc(slices.Values(want), byID)
	diff(h.t, what, want, got)

	limited := mustRead(h, func(tx store.Tx) ([]T, error) { return get(tx, 1) })
	if len(limited) != min(1, len(want)) {
		h.t.Errorf("%s, limit 1: got %d rows", what, len(limited))
	}
	for _, v := range limited {
		if !slices.ContainsFunc(want, func(w T) bool { return id(w) == id(v) }) {
			h.t.Errorf("%s, limit 1: got %s, not due", what, id(v))
		}
	}
}

func conversationID(c domain.Conversation) string { return c.ID }

func testDueMutedConversations(h *harness) {
	now := at(0)
	ch := h.channel()
	muted := func(until time.Time) domain.Conversation {
		return h.conversation(ch, func(c *domain.Conversation) { c.BotMutedUntil = until })
	}
	past, exact := muted(now.Add(-time.Minute)), muted(now)
	muted(now.Add(time.Microsecond))
	muted(time.Time{})
	checkDue(h, "muted conversations", []domain.Conversation{past, exact}, conversationID,
		func(tx store.Tx, limit int) ([]domain.Conversation, error) {
			return tx.DueMutedConversations(h.ctx, now, limit)
		})
}

func testDueMutedContacts(h *harness) {
	now := at(0)
	ch := h.channel()
	muted := func(until time.Time) domain.Contact {
		return h.contact(ch, func(c *domain.Contact) { c.BotMutedUntil = until })
	}
	past, exact := muted(now.Add(-time.Minute)), muted(now)
	muted(now.Add(time.Microsecond))
	muted(time.Time{})
	checkDue(h, "muted contacts", []domain.Contact{past, exact}, func(c domain.Contact) string { return c.ID },
		func(tx store.Tx, limit int) ([]domain.Contact, error) { return tx.DueMutedContacts(h.ctx, now, limit) })
}

// testDueIdleConversations checks each channel's session timeout applies, and the default one
// where a channel sets none.
func testDueIdleConversations(h *harness) {
	now := at(0)
	hourly := h.channel(func(c *domain.Channel) { c.SessionTimeout = time.Hour })
	byDefault := h.channel(func(c *domain.Channel) { c.SessionTimeout = 0 })
	idle := func(ch domain.Channel, since time.Duration, state domain.ConversationState) domain.Conversation {
		return h.conversation(ch, withActivity(now.Add(-since)), func(c *domain.Conversation) { c.State = state })
	}
	open, closed := domain.ConversationOpen, domain.ConversationClosed
	due := []domain.Conversation{
		idle(hourly, 2*time.Hour, open),
		idle(hourly, time.Hour, open),
		idle(byDefault, domain.DefaultSessionTimeout, open),
	}
	idle(hourly, time.Hour-time.Microsecond, open)
	idle(hourly, 5*time.Hour, closed)
	idle(byDefault, domain.DefaultSessionTimeout-time.Minute, open)
	checkDue(h, "idle conversations", due, conversationID,
		func(tx store.Tx, limit int) ([]domain.Conversation, error) {
			return tx.DueIdleConversations(h.ctx, now, limit)
		})
}

func handoverID(v domain.Handover) string { return v.ID }

func testDueOffers(h *harness) {
	now := at(0)
	ch := h.channel()
	offer := func(state domain.HandoverState, expire time.Time) domain.Handover {
		return h.handover(h.conversation(ch), withState(state), func(v *domain.Handover) { v.OfferExpireTime = expire })
	}
	due := []domain.Handover{
		offer(domain.HandoverOffered, now.Add(-time.Second)),
		offer(domain.HandoverOffered, now),
	}
	offer(domain.HandoverOffered, now.Add(time.Microsecond))
	offer(domain.HandoverRequested, now.Add(-time.Minute))
	offer(domain.HandoverAccepted, now.Add(-time.Minute))
	checkDue(h, "due offers", due, handoverID,
		func(tx store.Tx, limit int) ([]domain.Handover, error) { return tx.DueOffers(h.ctx, now, limit) })
}

func testDueUnanswered(h *harness) {
	now := at(0)
	ch := h.channel()
	waiting := func(state domain.ConversationState, deadline time.Time) domain.Conversation {
		return h.conversation(ch, func(c *domain.Conversation) { c.State, c.UnansweredDeadline = state, deadline })
	}
	due := []domain.Conversation{
		waiting(domain.ConversationOpen, now.Add(-time.Minute)),
		waiting(domain.ConversationOpen, now),
	}
	waiting(domain.ConversationOpen, now.Add(time.Microsecond))
	waiting(domain.ConversationOpen, time.Time{})
	waiting(domain.ConversationClosed, now.Add(-time.Minute))
	checkDue(h, "unanswered conversations", due, conversationID,
		func(tx store.Tx, limit int) ([]domain.Conversation, error) {
			return tx.DueUnanswered(h.ctx, now, limit)
		})
}

func testDueSLA(h *harness) {
	now := at(0)
	ch := h.channel()
	deadlines := func(state domain.HandoverState, wait, reply time.Time) domain.Handover {
		return h.handover(h.conversation(ch), withState(state), func(v *domain.Handover) {
			v.SLAWaitDeadline, v.SLAReplyDeadline = wait, reply
		})
	}
	past, later := now.Add(-time.Second), now.Add(time.Microsecond)
	due := []domain.Handover{
		deadlines(domain.HandoverRequested, past, time.Time{}),
		deadlines(domain.HandoverOffered, now, later),
		deadlines(domain.HandoverRequested, later, now),
		deadlines(domain.HandoverAccepted, time.Time{}, past),
	}
	deadlines(domain.HandoverAccepted, past, later) // the wait target counts only while waiting
	deadlines(domain.HandoverRequested, later, later)
	deadlines(domain.HandoverRequested, time.Time{}, time.Time{})
	deadlines(domain.HandoverReleased, past, past)
	checkDue(h, "handovers past an SLA target", due, handoverID,
		func(tx store.Tx, limit int) ([]domain.Handover, error) { return tx.DueSLA(h.ctx, now, limit) })
}
