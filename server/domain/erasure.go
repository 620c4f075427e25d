package domain

import (
	"strings"
	"time"
)

// Erasure is the erasure of one contact's data, recorded when it starts so that an erasure cut
// short (a crash, a timeout) is finished later: by the next EraseContact call, or by the timers.
// The contact, its conversation, messages, handovers and events stay as tombstones (ids, times,
// directions, senders, states, epochs) so that sequences, counts and timelines still add up;
// what the customer wrote, what was written to them and what was said about them goes.
type Erasure struct {
	ContactID      string
	ChannelID      string
	ConversationID string // "" when the contact has no conversation
	Actor          Actor  // who asked
	CreateTime     time.Time
	CompleteTime   time.Time // zero until every row is erased and contact.erased announced
}

// Complete reports whether every row is erased.
func (e Erasure) Complete() bool { return !e.CompleteTime.IsZero() }

// erasedExternalIDPrefix starts an erased contact's external id. The channel's id for the
// customer (a phone number, a PSID) is personal data; its replacement stays unique per
// channel, so a customer who writes again becomes a new contact with a new conversation.
const erasedExternalIDPrefix = "erased:"

// ErasedError is the error of a message that was waiting to be sent when its contact was
// erased: it is never sent.
const ErasedError = "the contact was erased"

// Erased reports whether the contact was erased.
func (c Contact) Erased() bool { return strings.HasPrefix(c.ExternalID, erasedExternalIDPrefix) }

// EraseProfile returns the tombstone of a contact: its id, channel and times, nothing else.
func EraseProfile(c Contact, now time.Time) Contact {
	return Contact{
		ID: c.ID, ChannelID: c.ChannelID, ExternalID: erasedExternalIDPrefix + c.ID,
		CreateTime: c.CreateTime, UpdateTime: now, Revision: c.Revision,
	}
}

// EraseMessage returns the tombstone of a message: who sent it, when, which way, in which
// epoch; no content, no channel ids (a WhatsApp message id embeds the phone number), no error
// text. One still waiting to be sent fails instead.
func EraseMessage(m Message) Message {
	m.Content, m.ChannelMessageID, m.Error, m.Erased = nil, "", "", true
	if m.Status == DeliveryPending {
		m.Status, m.Error = DeliveryFailed, ErasedError
	}
	m.LeaseExpireTime = time.Time{}
	return m
}

// EraseHandover returns the tombstone of a handover: its lifecycle without the reason,
// metadata, summaries and intake answers a bot or an agent wrote about the customer.
func EraseHandover(h Handover) Handover {
	h.Reason, h.Metadata, h.Summary, h.Intake, h.HandbackSummary = "", nil, "", nil, ""
	return h
}

// EraseEvent returns the tombstone of an event of an erased contact: the same type, ids,
// sequence, time, actor, owners and epoch, with the message, handover and contact it carries
// erased as above, and the reason of an owner change a handover caused (the handover's reason).
func EraseEvent(e Event) Event {
	if e.Message != nil {
		m := EraseMessage(*e.Message)
		m.Status, m.Error = e.Message.Status, "" // the status the event announced
		e.Message = &m
	}
	if e.Handover != nil {
		h := EraseHandover(*e.Handover)
		e.Handover = &h
	}
	if e.Contact != nil {
		c := EraseProfile(*e.Contact, e.Contact.UpdateTime)
		c.BotMutedUntil = e.Contact.BotMutedUntil // what a mute event announced
		e.Contact = &c
	}
	if e.OwnerChange != nil && e.OwnerChange.HandoverID != "" {
		oc := *e.OwnerChange
		oc.Reason = ""
		e.OwnerChange = &oc
	}
	return e
}

// ContactErased announces that a contact's data is erased, so that bots and internal systems
// erase their copies. It carries ids only: the contact, its channel, conversation and bot.
func ContactErased(er Erasure, conv *Conversation, ch Channel, now time.Time, newID func(string) string) Event {
	e := Event{
		ID: newID("ev"), Type: EventContactErased, Time: now,
		ChannelID: er.ChannelID, ContactID: er.ContactID, ConversationID: er.ConversationID,
		Actor: er.Actor, Audience: AudienceOf(ch, nil),
	}
	if conv != nil {
		e.BotID, e.Owner, e.Epoch = conv.BotID, conv.Owner, conv.Epoch
	}
	return e
}

// Exported records, for the audit log, that actor exported what a contact's (typ
// EventContactExported) or a conversation's (EventTranscriptExported) data. Only admins,
// services and supervisors read it: it names no bot and has no audience.
func Exported(typ EventType, actor Actor, contactID, conversationID, channelID string, now time.Time, newID func(string) string) Event {
	return Event{
		ID: newID("ev"), Type: typ, Time: now, Actor: actor,
		ChannelID: channelID, ContactID: contactID, ConversationID: conversationID,
	}
}
