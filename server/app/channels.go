package app

import (
	"context"
	"errors"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// What channels report besides customer messages: the delivery status of outbound messages,
// replies by humans answering from the channel's own app, and that app taking the conversation
// or passing it back.

// StatusReport is a delivery status a channel reported: for one outbound message, or for every
// one up to a watermark.
type StatusReport struct {
	ChannelID        string
	ChannelMessageID string
	// ContactExternalID and Watermark, instead of ChannelMessageID, cover every outbound message
	// to the contact created at or before the watermark.
	ContactExternalID string
	Watermark         time.Time
	Status            domain.DeliveryStatus
	Error             string // the channel's, for a failure
}

// ReceiveStatus applies a delivery status. Statuses of messages Baton does not know (sent
// outside it) are ignored, and a status never moves backwards.
func (a *App) ReceiveStatus(ctx context.Context, p domain.Principal, r StatusReport) error {
	return a.write(ctx, func(tx store.Tx) error {
		if err := a.mayIngest(ctx, tx, p, r.ChannelID); err != nil {
			return err
		}
		for {
			msgs, err := a.reported(ctx, tx, r)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if err := a.advance(ctx, tx, m.ID, r.Status, r.Error); err != nil {
					return err
				}
			}
			if r.Watermark.IsZero() || len(msgs) < watermarkBatch {
				return nil
			}
		}
	})
}

// watermarkBatch bounds the messages one watermark receipt moves.
const watermarkBatch = 500

// reported lists the messages a status report is about.
func (a *App) reported(ctx context.Context, tx store.Tx, r StatusReport) ([]domain.Message, error) {
	if r.Watermark.IsZero() {
		m, err := tx.GetMessageByChannelMessageID(ctx, r.ChannelID, r.ChannelMessageID)
		if isNotFound(err) {
			return nil, nil
		}
		return []domain.Message{m}, err
	}
	contact, err := tx.GetContactByExternalID(ctx, r.ChannelID, r.ContactExternalID)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	conv, err := tx.GetConversationByContact(ctx, contact.ID)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	before := []domain.DeliveryStatus{domain.DeliverySent}
	if r.Status == domain.DeliveryRead {
		before = append(before, domain.DeliveryDelivered)
	}
	return tx.ListOutboundUntil(ctx, conv.ID, r.Watermark, before, watermarkBatch)
}

// advance moves one message's status forward, and announces it.
func (a *App) advance(ctx context.Context, tx store.Tx, messageID string, status domain.DeliveryStatus, channelError string) error {
	s, m, err := a.lockedMessage(ctx, tx, messageID)
	if err != nil {
		return err
	}
	m, ok := domain.AdvanceStatus(m, status, channelError)
	if !ok {
		return nil
	}
	return a.storeStatus(ctx, tx, s, m)
}

// lockedMessage reads a message under its conversation's lock: status changes of one
// conversation's messages then queue behind each other, and none overwrites a later one.
func (a *App) lockedMessage(ctx context.Context, tx store.Tx, messageID string) (domain.Situation, domain.Message, error) {
	m, err := tx.GetMessage(ctx, messageID)
	if err != nil {
		return domain.Situation{}, m, err
	}
	s, err := a.situation(ctx, tx, m.ConversationID)
	if err != nil {
		return s, m, err
	}
	m, err = tx.GetMessage(ctx, messageID)
	return s, m, err
}

// storeStatus stores a message's new status with its event.
func (a *App) storeStatus(ctx context.Context, tx store.Tx, s domain.Situation, m domain.Message) error {
	if err := tx.UpdateMessage(ctx, m); err != nil {
		return err
	}
	_, err := tx.AppendEvents(ctx, []domain.Event{domain.StatusEvent(s, m)})
	return err
}

// mayIngest checks p may act for the channel's webhooks.
func (a *App) mayIngest(ctx context.Context, tx store.Tx, p domain.Principal, channelID string) error {
	ch, err := tx.GetChannel(ctx, channelID)
	if err != nil {
		return err
	}
	if !domain.CanIngest(p, ch) {
		return ingestRefusal(p, channelID)
	}
	return nil
}

// ingestRefusal refuses a key that may not act for a channel: a bot is told the channel does not
// exist (it is another bot's), other kinds of key that they may not ingest at all.
func ingestRefusal(p domain.Principal, channelID string) error {
	if p.Role == domain.PrincipalBot {
		return domain.NotFound("channel", channelID)
	}
	return domain.Forbidden("only admin, service and bot keys may act for a channel")
}

// ExternalReply records a message a human sent to the customer from the channel's own app (an
// echo Baton did not send) at `at` by the channel's clock (zero when it does not say), and
// makes that human the owner: the bot is told, and stays quiet until the human hands back or
// the conversation goes idle. A repeat stores nothing; a reply older than the last ownership
// change the channel reported is stored but moves nobody.
func (a *App) ExternalReply(ctx context.Context, p domain.Principal, in Inbound, appID string, at time.Time) error {
	return a.write(ctx, func(tx store.Tx) error {
		state, err := tx.LoadInbound(ctx, store.InboundQuery{ChannelID: in.ChannelID, ChannelMessageID: in.ChannelMessageID, ContactExternalID: in.Contact.ExternalID})
		if err != nil {
			return err
		}
		if !domain.CanIngest(p, state.Channel) {
			return ingestRefusal(p, state.Channel.ID)
		}
		if state.Message != nil {
			return nil // a repeat
		}
		s, err := a.inboundSituation(ctx, tx, state, in.Contact)
		if err != nil {
			return err
		}
		human := domain.Actor{Kind: domain.ActorExternalHuman, ID: appID}
		change := domain.ExternalReply(s, human, domain.Message{
			ID: ids.New("msg"), ConversationID: s.Conversation.ID, ChannelID: s.Channel.ID,
			Direction: domain.Outbound, Content: in.Content, ChannelMessageID: in.ChannelMessageID,
			Status: domain.DeliverySent, CreateTime: s.Now,
		}, at)
		a.recordOwnerChanges(ctx, "external_reply", change)
		if err := tx.CreateMessage(ctx, *lastMessage(change)); err != nil {
			return err
		}
		_, err = apply(ctx, tx, change)
		return err
	})
}

// inboundSituation is the situation of the conversation LoadInbound found, creating the contact
// and the conversation when the channel reports one Baton has not seen.
func (a *App) inboundSituation(ctx context.Context, tx store.Tx, state store.Inbound, profile domain.Contact) (domain.Situation, error) {
	now := a.Now()
	contact, err := a.upsertContact(ctx, tx, state.Channel.ID, state.Contact, profile, now)
	if err != nil {
		return domain.Situation{}, err
	}
	s := domain.Situation{Now: now, Channel: state.Channel, Bot: state.Bot, Contact: contact, Active: state.Active, NewID: ids.New}
	if state.Conversation != nil {
		s.Conversation = *state.Conversation
		return s, nil
	}
	s.Conversation, err = a.startConversation(ctx, tx, s)
	return s, err
}

// ThreadReport is the channel's handover protocol moving a conversation: its own inbox took
// it from Baton (Taken), or passed it back.
type ThreadReport struct {
	ChannelID         string
	ContactExternalID string
	Taken             bool
	AppID             string    // the app that took it or passed it back, when the channel says
	Time              time.Time // when, by the channel's clock; zero when it does not say
}

// ExternalThread applies the channel's handover protocol. A contact or conversation Baton does
// not know is ignored. A report older than the last ownership change the channel reported
// changes nothing; one that moves nobody is still remembered as the latest, so that an older
// one arriving after it changes nothing either.
func (a *App) ExternalThread(ctx context.Context, p domain.Principal, r ThreadReport) error {
	return a.write(ctx, func(tx store.Tx) error {
		if err := a.mayIngest(ctx, tx, p, r.ChannelID); err != nil {
			return err
		}
		contact, err := tx.GetContactByExternalID(ctx, r.ChannelID, r.ContactExternalID)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		conv, err := tx.GetConversationByContact(ctx, contact.ID)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		s, err := a.situation(ctx, tx, conv.ID)
		if err != nil {
			return err
		}
		change, ok := domain.ExternalRelease(s, "", r.Time)
		if r.Taken {
			change, ok = domain.ExternalTakeover(s, domain.Actor{Kind: domain.ActorExternalHuman, ID: r.AppID}, "", r.Time)
		}
		switch {
		case ok:
			return a.traced(ctx, "external_thread", func(ctx context.Context) (domain.Change, error) {
				_, err := apply(ctx, tx, change)
				return change, err
			})
		case domain.NewerExternalTime(s.Conversation, r.Time):
			return tx.TouchExternalOwnerTime(ctx, conv.ID, r.Time)
		}
		return nil
	})
}

// SendJob is an outbound message leased to this process, with what sending it needs.
type SendJob struct {
	Message domain.Message
	Channel domain.Channel
	Contact domain.Contact
}

// sendLease is how long a claimed message stays with its sender: past a send API's timeout, so
// only a sender that died lets another replica send it again.
const sendLease = time.Minute

// ClaimSends leases up to limit outbound messages due to be sent. The claim's transaction
// leases the messages and takes no other lock: what sending them needs is read afterwards. (A
// claim that read their conversations in its Write would lock them while holding the messages,
// against the order requests take them in, conversation then message, and deadlock with them.)
// Should that read fail, the messages stay leased, and are claimed again when the lease ends.
func (a *App) ClaimSends(ctx context.Context, limit int) ([]SendJob, error) {
	var msgs []domain.Message
	err := a.store.Write(ctx, func(tx store.Tx) error {
		now := a.Now()
		var err error
		msgs, err = tx.ClaimSends(ctx, now, now.Add(sendLease), limit)
		return err
	})
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	var jobs []SendJob
	err = a.read(ctx, func(tx store.Tx) error {
		jobs = jobs[:0]
		for _, m := range msgs {
			job := SendJob{Message: m}
			var err error
			if job.Channel, err = tx.GetChannel(ctx, m.ChannelID); err != nil {
				return err
			}
			conv, err := tx.GetConversation(ctx, m.ConversationID)
			if err != nil {
				return err
			}
			if job.Contact, err = tx.GetContact(ctx, conv.ContactID); err != nil {
				return err
			}
			jobs = append(jobs, job)
		}
		return nil
	})
	return jobs, err
}

// RecordSend stores what the channel did with a message: sent, due again later, or failed
// (with an event saying so, carrying the channel's error).
func (a *App) RecordSend(ctx context.Context, messageID string, r domain.SendResult) error {
	return a.write(ctx, func(tx store.Tx) error {
		s, m, err := a.lockedMessage(ctx, tx, messageID)
		if err != nil {
			return err
		}
		if m.Status != domain.DeliveryPending {
			return nil // another sender, whose lease ran out, got there first
		}
		m, changed := domain.RecordSend(m, r, a.retry, a.Now())
		err = tx.UpdateMessage(ctx, m)
		if errors.Is(err, store.ErrDuplicate) {
			// The channel gave an id it gave before: the message is sent all the same, and
			// receipts for that id keep going to the first message.
			m.ChannelMessageID = ""
			err = tx.UpdateMessage(ctx, m)
		}
		if err != nil || !changed {
			return err
		}
		_, err = tx.AppendEvents(ctx, []domain.Event{domain.StatusEvent(s, m)})
		return err
	})
}

// Referral records the entry point a customer came back through (a channel's referral with no
// message) on their conversation, and announces it. A customer with no conversation yet is
// ignored: their first message will carry the entry point, if the channel sends it again.
func (a *App) Referral(ctx context.Context, p domain.Principal, channelID, contactExternalID, entryPoint string) error {
	return a.write(ctx, func(tx store.Tx) error {
		if err := a.mayIngest(ctx, tx, p, channelID); err != nil {
			return err
		}
		contact, err := tx.GetContactByExternalID(ctx, channelID, contactExternalID)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		conv, err := tx.GetConversationByContact(ctx, contact.ID)
		if isNotFound(err) || (err == nil && conv.EntryPoint == entryPoint) {
			return nil
		}
		if err != nil {
			return err
		}
		s, err := a.situation(ctx, tx, conv.ID)
		if err != nil {
			return err
		}
		s.Conversation.EntryPoint = entryPoint
		s.Conversation.UpdateTime = s.Now
		_, err = apply(ctx, tx, domain.Change{Conversation: s.Conversation, Events: []domain.Event{domain.ConversationUpdated(s, domain.Actor{Kind: domain.ActorCustomer, ID: contact.ID})}})
		return err
	})
}
