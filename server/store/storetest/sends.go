package storetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Sending outbound messages through their channel: the send bookkeeping messages carry, the
// claims senders make, the updates they record, and the watermark listing delivery receipts use.

// pendingValue is an outbound message as the application stores it to be sent: pending, due at
// its creation (d after t0), with no channel message id, attempt or lease yet.
func (h *harness) pendingValue(conv domain.Conversation, d time.Duration, mods ...func(*domain.Message)) domain.Message {
	return h.messageValue(conv, append([]func(*domain.Message){func(m *domain.Message) {
		m.Sender = domain.Actor{Kind: domain.ActorBot, ID: "bot-1"}
		m.ChannelMessageID, m.Status, m.Error = "", domain.DeliveryPending, ""
		m.CreateTime, m.NextAttemptTime = at(d), at(d)
		m.Attempts, m.LeaseExpireTime = 0, time.Time{}
	}}, mods...)...)
}

// pending stores a pendingValue.
func (h *harness) pending(conv domain.Conversation, d time.Duration, mods ...func(*domain.Message)) domain.Message {
	h.t.Helper()
	m := h.pendingValue(conv, d, mods...)
	h.write(func(tx store.Tx) error { return tx.CreateMessage(h.ctx, m) })
	return m
}

// inJSON is m as an event's JSON carries it: without the send bookkeeping.
func inJSON(m domain.Message) domain.Message {
	m.Attempts, m.NextAttemptTime, m.LeaseExpireTime = 0, time.Time{}, time.Time{}
	return m
}

func withSender(kind domain.ActorKind) func(*domain.Message) {
	return func(m *domain.Message) { m.Sender = domain.Actor{Kind: kind, ID: string(kind) + "-1"} }
}

func withStatus(s domain.DeliveryStatus) func(*domain.Message) {
	return func(m *domain.Message) { m.Status = s }
}

func getMessage(h *harness, id string) domain.Message {
	h.t.Helper()
	return mustRead(h, func(tx store.Tx) (domain.Message, error) { return tx.GetMessage(h.ctx, id) })
}

// updateMessage reads a message, changes it and updates it, in one Write.
func updateMessage(h *harness, id string, change func(*domain.Message)) domain.Message {
	h.t.Helper()
	return mustWrite(h, func(tx store.Tx) (domain.Message, error) {
		m, err := tx.GetMessage(h.ctx, id)
		if err != nil {
			return m, err
		}
		change(&m)
		return m, tx.UpdateMessage(h.ctx, m)
	})
}

// The outcomes a sender records.

func sent(channelMessageID string) func(*domain.Message) {
	return func(m *domain.Message) {
		m.Status, m.ChannelMessageID, m.LeaseExpireTime = domain.DeliverySent, channelMessageID, time.Time{}
		m.Attempts++
	}
}

func retryAt(t time.Time) func(*domain.Message) {
	return func(m *domain.Message) {
		m.NextAttemptTime, m.LeaseExpireTime = t, time.Time{}
		m.Attempts++
	}
}

func failed(m *domain.Message) {
	m.Status, m.Error, m.LeaseExpireTime = domain.DeliveryFailed, "(#551) this person isn't available", time.Time{}
	m.Attempts++
}

func claimSends(h *harness, now, leaseUntil time.Time, limit int) []domain.Message {
	h.t.Helper()
	return mustWrite(h, func(tx store.Tx) ([]domain.Message, error) {
		return tx.ClaimSends(h.ctx, now, leaseUntil, limit)
	})
}

func messageIDs(ms []domain.Message) []string {
	return ids(ms, func(m domain.Message) string { return m.ID })
}

// checkSends checks what a claim returned: want's messages in that order, each as stored before
// but leased until leaseUntil, as the store says too.
func checkSends(h *harness, what string, want []domain.Message, got []domain.Message, leaseUntil time.Time) {
	h.t.Helper()
	diff(h.t, what, messageIDs(want), messageIDs(got))
	for _, m := range got {
		i := slices.IndexFunc(want, func(w domain.Message) bool { return w.ID == m.ID })
		if i < 0 {
			continue
		}
		leased := getMessage(h, m.ID)
		if !leased.LeaseExpireTime.Equal(leaseUntil) {
			h.t.Errorf("%s: %s leased until %v, want %v", what, m.ID, leased.LeaseExpireTime, leaseUntil)
		}
		diff(h.t, what+": returned "+m.ID, leased, m)
		leased.LeaseExpireTime = want[i].LeaseExpireTime
		diff(h.t, what+": stored "+m.ID+" but its lease", want[i], leased)
	}
}

// testSendFields checks the send bookkeeping and the channel's error round-trip, set or not,
// through every getter, and that GetMessage tells a missing message.
func testSendFields(h *harness) {
	conv := h.conversation(h.channel())
	full := h.message(conv)
	unsentMsg := h.pending(conv, time.Minute, func(m *domain.Message) { m.RequestID = "" })
	diff(h.t, "message", full, getMessage(h, full.ID))
	diff(h.t, "pending message", unsentMsg, getMessage(h, unsentMsg.ID))
	diff(h.t, "messages", []domain.Message{full, unsentMsg}, walk(h, 0, listMessages(h, conv.ID)))
	byRequest := mustRead(h, func(tx store.Tx) (domain.Message, error) {
		return tx.GetMessageByRequestID(h.ctx, conv.ID, full.RequestID)
	})
	diff(h.t, "message by request id", full, byRequest)

	_, err := readValue(h, func(tx store.Tx) (domain.Message, error) { return tx.GetMessage(h.ctx, "missing") })
	wantNotFound(h.t, "GetMessage", err, "missing")
}

// testSendEventJSON checks a message an event carries keeps the channel's error but not the send
// bookkeeping, which is stored in the message's row alone.
func testSendEventJSON(h *harness) {
	conv := h.conversationValue(h.channel())
	msg := h.messageValue(conv, withStatus(domain.DeliveryFailed), func(m *domain.Message) {
		m.Content = []byte(`{"text":"Bonjour"}`) // compact, as an event's JSON keeps it
	})
	out := h.append(eventValue(domain.EventMessageStatusChanged, func(e *domain.Event) {
		e.ConversationID, e.Message = conv.ID, &msg
	}))
	if out[0].Message == nil {
		h.t.Fatalf("event listed without its message")
	}
	diff(h.t, "the event's message", inJSON(msg), *out[0].Message)
	if out[0].Message.Error == "" {
		h.t.Errorf("the event's message lost its error")
	}
}

// testUpdateMessage checks UpdateMessage overwrites the status, error, channel message id and
// send bookkeeping, and nothing else; and that it tells a missing message.
func testUpdateMessage(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	m := h.pending(conv, 0)
	bystander := h.pending(conv, time.Second)

	changed := m
	changed.Status, changed.Error, changed.ChannelMessageID = domain.DeliveryFailed, "(#100) invalid parameter", "mid.changed"
	changed.Attempts, changed.NextAttemptTime, changed.LeaseExpireTime = 3, at(time.Hour), at(2*time.Hour).In(elsewhere)
	ignored := changed // what UpdateMessage must leave as it is
	ignored.ConversationID, ignored.ChannelID, ignored.Direction = other.ID, "ch-other", domain.Inbound
	ignored.Sender, ignored.Content = domain.Actor{Kind: domain.ActorAgent, ID: "agent-9"}, []byte(`{"text":"changed"}`)
	ignored.RequestID, ignored.Epoch, ignored.CreateTime = "req-changed", 99, at(time.Minute)
	h.write(func(tx store.Tx) error { return tx.UpdateMessage(h.ctx, ignored) })
	diff(h.t, "updated message", changed, getMessage(h, m.ID))
	diff(h.t, "other message", bystander, getMessage(h, bystander.ID))
	diff(h.t, "by its new channel message id", changed, mustRead(h, func(tx store.Tx) (domain.Message, error) {
		return tx.GetMessageByChannelMessageID(h.ctx, ch.ID, "mid.changed")
	}))

	// Back to no channel message id and no times.
	cleared := changed
	cleared.Status, cleared.Error, cleared.ChannelMessageID = domain.DeliveryRead, "", ""
	cleared.Attempts, cleared.NextAttemptTime, cleared.LeaseExpireTime = 0, time.Time{}, time.Time{}
	h.write(func(tx store.Tx) error { return tx.UpdateMessage(h.ctx, cleared) })
	diff(h.t, "cleared message", cleared, getMessage(h, m.ID))

	missing := h.pendingValue(conv, 0)
	err := h.tryWrite(func(tx store.Tx) error { return tx.UpdateMessage(h.ctx, missing) })
	wantNotFound(h.t, "UpdateMessage of a missing message", err, missing.ID)
}

// testUpdateMessageDuplicate checks a channel message id stays unique in its channel: giving a
// message one that another message of its channel has clashes, with the transaction still
// usable, while the empty id, and another channel's ids, never clash.
func testUpdateMessageDuplicate(h *harness) {
	ch, otherCh := h.channel(), h.channel()
	conv := h.conversation(ch)
	taken := h.message(conv)
	theirs := h.message(h.conversation(otherCh))
	m, later, third := h.pending(conv, 0), h.pending(conv, time.Second), h.pending(conv, 2*time.Second)

	clash := m
	sent("")(&clash)
	clash.ChannelMessageID = taken.ChannelMessageID
	h.write(func(tx store.Tx) error {
		wantErr(h.t, "another message's channel message id", tx.UpdateMessage(h.ctx, clash), store.ErrDuplicate)
		got, err := tx.GetMessage(h.ctx, m.ID)
		if err != nil {
			return err
		}
		diff(h.t, "message after the clash", m, got)
		return tx.UpdateMessage(h.ctx, inJSON(later)) // the transaction goes on, and commits
	})
	diff(h.t, "message after the clash", m, getMessage(h, m.ID))
	diff(h.t, "message updated after the clash", inJSON(later), getMessage(h, later.ID))
	diff(h.t, "message holding the id", taken, getMessage(h, taken.ID))

	h.write(func(tx store.Tx) error {
		same := clash
		same.ChannelMessageID = theirs.ChannelMessageID // another channel's
		if err := tx.UpdateMessage(h.ctx, same); err != nil {
			return fmt.Errorf("another channel's channel message id: %w", err)
		}
		again := taken // its own id again
		again.Status = domain.DeliveryRead
		if err := tx.UpdateMessage(h.ctx, again); err != nil {
			return fmt.Errorf("a message's own channel message id: %w", err)
		}
		none := inJSON(later) // no id, like third
		none.Status = domain.DeliveryFailed
		return tx.UpdateMessage(h.ctx, none)
	})
	if got := getMessage(h, m.ID).ChannelMessageID; got != theirs.ChannelMessageID {
		h.t.Errorf("channel message id %q, want %q", got, theirs.ChannelMessageID)
	}
	diff(h.t, "message without an id", third, getMessage(h, third.ID))
}

// testClaimSendsDue checks which messages a claim takes: outbound pending ones sent by a bot, an
// agent or Baton (its acknowledgements), due (their NextAttemptTime at or before now) and not
// leased (a lease at or before now has expired). Messages from anyone else are never taken; messages not pending,
// and inbound messages, are never taken either, nor do they hold a conversation's later ones
// back.
func testClaimSendsDue(h *harness) {
	ch := h.channel()
	now, lease := at(time.Hour), at(2*time.Hour)
	conv := func() domain.Conversation { return h.conversation(ch) }

	var want []domain.Message
	want = append(want, h.pending(conv(), 1*time.Minute))
	want = append(want, h.pending(conv(), 2*time.Minute, withSender(domain.ActorAgent)))
	want = append(want, h.pending(conv(), 150*time.Second, withSender(domain.ActorSystem))) // an acknowledgement
	want = append(want, h.pending(conv(), 3*time.Minute, func(m *domain.Message) { m.NextAttemptTime = now }))
	want = append(want, h.pending(conv(), 4*time.Minute, func(m *domain.Message) {
		m.Attempts, m.NextAttemptTime, m.LeaseExpireTime = 2, at(30*time.Minute), now
	}))
	for _, s := range []domain.DeliveryStatus{domain.DeliverySent, domain.DeliveryDelivered, domain.DeliveryRead, domain.DeliveryFailed} {
		h.pending(conv(), 0, withStatus(s))
	}
	for _, k := range []domain.ActorKind{domain.ActorExternalHuman, domain.ActorAdmin, domain.ActorCustomer} {
		h.pending(conv(), 0, withSender(k))
	}
	h.pending(conv(), 0, func(m *domain.Message) { m.Direction = domain.Inbound })
	h.pending(conv(), 0, withSender(domain.ActorCustomer), func(m *domain.Message) { m.Direction = domain.Inbound })
	h.pending(conv(), 0, func(m *domain.Message) { m.NextAttemptTime = now.Add(time.Microsecond) })
	h.pending(conv(), 0, func(m *domain.Message) { m.LeaseExpireTime = now.Add(time.Microsecond) })

	// Earlier messages that are not pending, or not outbound, hold nothing back.
	c := conv()
	h.pending(c, 0, func(m *domain.Message) { m.Direction = domain.Inbound })
	h.pending(c, time.Second, withStatus(domain.DeliverySent))
	h.pending(c, 2*time.Second, withStatus(domain.DeliveryFailed))
	h.pending(c, 3*time.Second, withStatus(domain.DeliveryRead))
	want = append(want, h.pending(c, 5*time.Minute))

	checkSends(h, "due messages", want, claimSends(h, now, lease, 100), lease)
	checkSends(h, "while they are leased", nil, claimSends(h, now, lease, 100), lease)
}

// testClaimSendsInOrder checks each conversation's outbound messages leave one at a time, in
// order: an earlier pending one holds the later ones back, leased or not due yet, until it is
// sent or failed. Other conversations go meanwhile.
func testClaimSendsInOrder(h *harness) {
	ch := h.channel()
	c1, c2 := h.conversation(ch), h.conversation(ch)
	m := []domain.Message{
		h.pending(c1, 1*time.Second),
		h.pending(c1, 2*time.Second, withSender(domain.ActorAgent)),
		h.pending(c2, 3*time.Second),
		h.pending(c1, 4*time.Second),
		h.pending(c2, 5*time.Second),
	}
	now, later, lease := at(time.Minute), at(10*time.Minute), at(time.Hour)

	checkSends(h, "the oldest", m[:1], claimSends(h, now, lease, 1), lease)
	checkSends(h, "the first of each conversation", m[2:3], claimSends(h, now, lease, 10), lease)
	checkSends(h, "with the first ones leased", nil, claimSends(h, now, lease, 10), lease)

	m[0] = updateMessage(h, m[0].ID, retryAt(later))
	checkSends(h, "with the first waiting to be retried", nil, claimSends(h, now, lease, 10), lease)
	checkSends(h, "once the retry is due", m[:1], claimSends(h, later, lease, 10), lease)

	m[0] = updateMessage(h, m[0].ID, sent("mid.first"))
	m[2] = updateMessage(h, m[2].ID, failed)
	checkSends(h, "after the first was sent and the other conversation's failed", []domain.Message{m[1], m[4]},
		claimSends(h, later, lease, 10), lease)

	m[1] = updateMessage(h, m[1].ID, sent("mid.second"))
	m[1] = updateMessage(h, m[1].ID, func(v *domain.Message) { v.Status = domain.DeliveryRead }) // a receipt
	checkSends(h, "after the second was sent", m[3:4], claimSends(h, later, lease, 10), lease)
}

// testClaimSendsOldestFirst checks a claim takes the oldest due messages of all conversations,
// as many as its limit (100 when it is not positive), in creation order: by time, then by id,
// whatever the order they were stored in.
func testClaimSendsOldestFirst(h *harness) {
	ch := h.channel()
	now, lease := at(time.Hour), at(2*time.Hour)
	var heads []domain.Message
	for _, d := range []time.Duration{5, 2, 9, 2, 7, 1} { // two of the same time
		heads = append(heads, h.pending(h.conversation(ch), d*time.Second))
	}
	// Two of one conversation created at the same time, stored in the order of their ids
	// reversed: the lower id is the head.
	conv := h.conversation(ch)
	first, second := h.pendingValue(conv, 3*time.Second), h.pendingValue(conv, 3*time.Second)
	h.write(func(tx store.Tx) error { return tx.CreateMessage(h.ctx, second) })
	h.write(func(tx store.Tx) error { return tx.CreateMessage(h.ctx, first) })
	heads = append(heads, first)
	slices.SortFunc(heads, compareMessages)

	checkSends(h, "limit 2", heads[:2], claimSends(h, now, lease, 2), lease)
	checkSends(h, "limit 3", heads[2:5], claimSends(h, now, lease, 3), lease)
	checkSends(h, "no limit", heads[5:], claimSends(h, now, lease, 0), lease)
	updateMessage(h, first.ID, sent("mid.first"))
	checkSends(h, "behind a head of the same time", []domain.Message{second}, claimSends(h, now, lease, -1), lease)

	// More due messages than the default limit, stored in one Write, in reverse order.
	many := make([]domain.Message, 101)
	h.write(func(tx store.Tx) error {
		for i := range many {
			ct := h.contactValue(ch)
			c := domain.Conversation{
				ID: h.id("conv"), ChannelID: ch.ID, ContactID: ct.ID, Owner: domain.Nobody, State: domain.ConversationOpen,
			}
			many[len(many)-1-i] = h.pendingValue(c, time.Duration(len(many)-i)*time.Millisecond)
			if err := tx.CreateContact(h.ctx, ct); err != nil {
				return err
			}
			if err := tx.CreateConversation(h.ctx, c); err != nil {
				return err
			}
			if err := tx.CreateMessage(h.ctx, many[len(many)-1-i]); err != nil {
				return err
			}
		}
		return nil
	})
	checkSends(h, "no limit, with more due", many[:100], claimSends(h, now, lease, 0), lease)
	checkSends(h, "the one left", many[100:], claimSends(h, now, lease, 0), lease)
}

// compareMessages orders messages oldest first: by creation time, then by id.
func compareMessages(a, b domain.Message) int {
	if c := a.CreateTime.Compare(b.CreateTime); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// testClaimSendsLease checks a message is claimed again once its lease has expired, and not
// before; and that a message is not due before its NextAttemptTime.
func testClaimSendsLease(h *harness) {
	ch := h.channel()
	m := h.pending(h.conversation(ch), 0)
	retry := h.pending(h.conversation(ch), 0, func(v *domain.Message) { v.Attempts, v.NextAttemptTime = 1, at(5*time.Minute) })
	first := []domain.Message{m}
	checkSends(h, "first claim", first, claimSends(h, at(time.Minute), at(2*time.Minute), 10), at(2*time.Minute))
	checkSends(h, "while leased", nil, claimSends(h, at(90*time.Second), at(3*time.Minute), 10), at(3*time.Minute))
	checkSends(h, "when the lease expires", first, claimSends(h, at(2*time.Minute), at(time.Hour), 10), at(time.Hour))
	checkSends(h, "at the retry's time", []domain.Message{retry},
		claimSends(h, at(5*time.Minute), at(6*time.Minute), 10), at(6*time.Minute))
}

// testClaimSendsRace has claimers race, each claim in a Write of its own, until none finds
// anything due: every head of a conversation is claimed exactly once, and no message behind one.
func testClaimSendsRace(h *harness) {
	const conversations, claimers = 40, 8
	ch := h.channel()
	want := map[string]bool{}
	for i := range conversations {
		conv := h.conversation(ch)
		d := time.Duration(i) * time.Millisecond
		want[h.pending(conv, d).ID] = true
		h.pending(conv, d+time.Second)
	}

	now, lease := at(time.Minute), at(time.Hour)
	raceClaims(h, claimers, want, "messages", func(tx store.Tx) ([]string, error) {
		got, err := tx.ClaimSends(h.ctx, now, lease, 3)
		return messageIDs(got), err
	})
}

// testClaimSendsSkipsNotes checks internal notes round-trip as the application stores them (no
// delivery status, no channel message id, no send bookkeeping) and are never claimed to be
// sent, nor hold back the outbound messages after them.
func testClaimSendsSkipsNotes(h *harness) {
	now, lease := at(time.Hour), at(2*time.Hour)
	conv := h.conversation(h.channel())
	note := h.messageValue(conv, func(m *domain.Message) {
		m.Direction, m.Status, m.ChannelMessageID, m.Error = domain.Internal, "", "", ""
	})
	h.write(func(tx store.Tx) error { return tx.CreateMessage(h.ctx, note) })
	diff(h.t, "note", note, getMessage(h, note.ID))
	after := h.pending(conv, time.Minute)
	diff(h.t, "transcript", []domain.Message{note, after}, walk(h, 0, listMessages(h, conv.ID)))
	checkSends(h, "due messages after a note", []domain.Message{after}, claimSends(h, now, lease, 100), lease)
}

func listOutbound(h *harness, conversationID string, until time.Time, statuses []domain.DeliveryStatus, limit int) []domain.Message {
	h.t.Helper()
	return mustRead(h, func(tx store.Tx) ([]domain.Message, error) {
		return tx.ListOutboundUntil(h.ctx, conversationID, until, statuses, limit)
	})
}

// testListOutboundUntil checks the watermark listing: a conversation's outbound messages created
// at or before the time, whose status is one of those given, oldest first (by time, then id), up
// to the limit (100 when it is not positive).
func testListOutboundUntil(h *harness) {
	ch := h.channel()
	conv, other := h.conversation(ch), h.conversation(ch)
	msg := func(d time.Duration, s domain.DeliveryStatus, mods ...func(*domain.Message)) domain.Message {
		return h.messageValue(conv, append([]func(*domain.Message){func(m *domain.Message) {
			m.CreateTime, m.Status = at(d), s
		}}, mods...)...)
	}
	inbound := func(m *domain.Message) {
		m.Direction, m.Sender = domain.Inbound, domain.Actor{Kind: domain.ActorCustomer}
	}
	m := []domain.Message{ // ids in this order; two created at the same time
		msg(time.Second, domain.DeliverySent),
		msg(2*time.Second, domain.DeliverySent),
		msg(2*time.Second, domain.DeliveryDelivered),
		msg(3*time.Second, domain.DeliveryRead),
		msg(4*time.Second, domain.DeliverySent),
		msg(5*time.Second, domain.DeliveryPending),
		msg(6*time.Second, domain.DeliveryFailed),
	}
	others := []domain.Message{
		msg(time.Second, domain.DeliverySent, inbound),
		msg(3*time.Second, domain.DeliveryDelivered, inbound),
		h.messageValue(other, func(v *domain.Message) { v.CreateTime, v.Status = at(time.Second), domain.DeliverySent }),
	}
	h.write(func(tx store.Tx) error { // highest ids first
		for _, v := range slices.Backward(slices.Concat(m, others)) {
			if err := tx.CreateMessage(h.ctx, v); err != nil {
				return err
			}
		}
		return nil
	})

	unread := []domain.DeliveryStatus{domain.DeliverySent, domain.DeliveryDelivered}
	pick := func(i ...int) []domain.Message {
		out := []domain.Message{}
		for _, j := range i {
			out = append(out, m[j])
		}
		return out
	}
	for _, c := range []struct {
		what     string
		until    time.Duration
		statuses []domain.DeliveryStatus
		limit    int
		want     []domain.Message
	}{
		{"sent or delivered", time.Minute, unread, 10, pick(0, 1, 2, 4)},
		{"until a message's time, inclusive", 2 * time.Second, unread, 10, pick(0, 1, 2)},
		{"until just before it", 2*time.Second - time.Microsecond, unread, 10, pick(0)},
		{"limited", time.Minute, unread, 2, pick(0, 1)},
		{"no limit", time.Minute, unread, 0, pick(0, 1, 2, 4)},
		{"sent", time.Minute, []domain.DeliveryStatus{domain.DeliverySent}, -1, pick(0, 1, 4)},
		{"pending", time.Minute, []domain.DeliveryStatus{domain.DeliveryPending}, 10, pick(5)},
		{"delivered or read", time.Minute, []domain.DeliveryStatus{domain.DeliveryDelivered, domain.DeliveryRead}, 10, pick(2, 3)},
		{"every status", time.Minute, []domain.DeliveryStatus{
			domain.DeliveryPending, domain.DeliverySent, domain.DeliveryDelivered, domain.DeliveryRead, domain.DeliveryFailed,
		}, 10, pick(0, 1, 2, 3, 4, 5, 6)},
		{"no status", time.Minute, nil, 10, nil},
		{"before any", 0, unread, 10, nil},
	} {
		diff(h.t, c.what, messageIDs(c.want), messageIDs(listOutbound(h, conv.ID, at(c.until), c.statuses, c.limit)))
	}
	diff(h.t, "messages as stored", pick(0, 1, 2), listOutbound(h, conv.ID, at(2*time.Second), unread, 10))
	diff(h.t, "another conversation", []string{}, messageIDs(listOutbound(h, "missing", at(time.Minute), unread, 10)))
}
