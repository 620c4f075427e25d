package domain

import "time"

// A human may answer a customer from outside Baton: the channel's own inbox app. The channel
// tells Baton (Meta's echoes and handover protocol, WhatsApp Business app messages), and the
// rules make that human the owner, so the bot is told and keeps quiet, until the human hands
// the conversation back or it goes idle (SessionTimeout).
//
// Channels deliver such reports out of order (Meta retries a delivery that failed), so each
// comes with the channel's time of it (at; zero when the channel does not say), and one older
// than the conversation's ExternalOwnerTime moves nobody: an older pass_thread_control after a
// newer take_thread_control leaves the inbox's human in charge. Times compare only with the
// channel's own: Baton's clock is another one.

// ExternalReply records a message a human sent from outside Baton at `at` and makes them the
// owner, unless a human (an agent, or another external one) already owns it, or the channel
// reported a later ownership change already (the message is recorded all the same). A
// handover waiting for an agent is canceled: a human is answering already.
func ExternalReply(s Situation, human Actor, m Message, at time.Time) Change {
	t := begin(s, human)
	if t.inOrder(at) {
		t.takeExternally(human, "a human replied from outside Baton")
	}
	m.Sender = human
	m.Epoch = t.conv.Epoch
	t.conv.LastOutboundTime = s.Now
	t.conv.LastActivityTime = s.Now
	t.emit(EventMessageSent, func(e *Event) { e.Message = &m })
	return t.finish()
}

// ExternalTakeover makes a human outside Baton the owner before they write (the channel's
// inbox took the thread at `at`). ok is false when a human owns the conversation already, or
// when the channel reported a later ownership change.
func ExternalTakeover(s Situation, human Actor, reason string, at time.Time) (Change, bool) {
	if humanOwned(s.Conversation) {
		return Change{}, false
	}
	t := begin(s, human)
	if !t.inOrder(at) {
		return Change{}, false
	}
	t.takeExternally(human, reasonOr(reason, "a human took the conversation outside Baton"))
	return t.finish(), true
}

// ExternalRelease ends an outside human's stretch (the channel's inbox passed the thread back
// at `at`): the bot owns again, or the conversation closes when there is no bot. ok is false
// when no outside human owns it, or when the channel reported a later ownership change.
func ExternalRelease(s Situation, reason string, at time.Time) (Change, bool) {
	c := s.Conversation
	if c.Owner.Kind != OwnerExternalHuman {
		return Change{}, false
	}
	t := begin(s, Actor{Kind: ActorExternalHuman, ID: c.Owner.ID})
	if !t.inOrder(at) {
		return Change{}, false
	}
	t.conv.LastActivityTime = s.Now
	t.toBotOrClose(reasonOr(reason, "handed back from outside Baton"))
	return t.finish(), true
}

// NewerExternalTime reports whether an ownership report the channel made at `at` is newer
// than any before it. One that changed nothing (a pass_thread_control while the bot owns
// already) must still be remembered as the latest, or an older take_thread_control arriving
// after it would hand the conversation to the inbox.
func NewerExternalTime(c Conversation, at time.Time) bool {
	return at.After(c.ExternalOwnerTime)
}

// inOrder reports whether a report the channel made at `at` is not older than the last one
// (a report without a time always is), and keeps the later of the two as ExternalOwnerTime.
func (t *transition) inOrder(at time.Time) bool {
	if at.Before(t.conv.ExternalOwnerTime) && !at.IsZero() {
		return false
	}
	if at.After(t.conv.ExternalOwnerTime) {
		t.conv.ExternalOwnerTime = at
	}
	return true
}

func humanOwned(c Conversation) bool {
	return c.State == ConversationOpen && (c.Owner.Kind == OwnerAgent || c.Owner.Kind == OwnerExternalHuman)
}

// takeExternally makes human the owner, unless a human owns already.
func (t *transition) takeExternally(human Actor, reason string) {
	if humanOwned(t.conv) {
		return
	}
	t.conv.State = ConversationOpen
	t.endActive(EndTakenOver)
	t.setOwner(ExternalHumanOwner(human.ID), reason, "")
}

// statusRank orders delivery statuses: a status never moves to a lower rank.
var statusRank = map[DeliveryStatus]int{
	DeliveryPending: 0, DeliverySent: 1, DeliveryDelivered: 2, DeliveryRead: 3,
}

// AdvanceStatus applies a status the channel reported for an outbound message. Channels report
// out of order (a read receipt before the delivery one), so a status never moves back: delivered
// after read changes nothing, and failed only applies to a message not yet delivered. ok is
// false when nothing changes.
func AdvanceStatus(m Message, status DeliveryStatus, channelError string) (Message, bool) {
	cur, ok := statusRank[m.Status]
	if !ok { // failed is final
		return m, false
	}
	if status == DeliveryFailed {
		if cur >= statusRank[DeliveryDelivered] {
			return m, false
		}
		m.Status, m.Error = DeliveryFailed, channelError
		return m, true
	}
	next, ok := statusRank[status]
	if !ok || next <= cur {
		return m, false
	}
	m.Status = status
	return m, true
}

// StatusEvent announces a message's new delivery status.
func StatusEvent(s Situation, m Message) Event {
	t := begin(s, System)
	t.emit(EventMessageStatusChanged, func(e *Event) { e.Message = &m })
	return t.finish().Events[0]
}
