// Package channel is what every messaging channel has in common: the neutral form adapters parse
// webhooks into (Update) and send through (Sender), and what each kind of channel can render
// (Capabilities, Check, Render). The adapters live in its subpackages, one per network.
package channel

import (
	"context"
	"fmt"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// UpdateKind is what a channel's webhook reported.
type UpdateKind int

// Update kinds.
const (
	// UpdateMessage: a customer wrote.
	UpdateMessage UpdateKind = iota + 1
	// UpdateStatus: an outbound message was sent, delivered, read or failed.
	UpdateStatus
	// UpdateEcho: the business side sent a message: Baton (BatonMessageID set) or a human
	// answering from the channel's own app (who then owns the conversation).
	UpdateEcho
	// UpdateThreadTaken: the channel's own inbox took the conversation (Meta's handover protocol).
	UpdateThreadTaken
	// UpdateThreadReleased: the conversation was passed back to Baton.
	UpdateThreadReleased
	// UpdateTest: a test event from the channel's console (the "Test" button of Meta's App
	// Dashboard). Its ids are made up, so nothing is stored; it is logged, with the Field
	// tested, so that whoever sets the channel up sees it arrived and passed the checks.
	UpdateTest
	// UpdateReferral: a customer came back to their thread through an entry point (Messenger's
	// m.me link, QR code or ad, on a thread that already exists), with no message.
	UpdateReferral
)

// Update is one thing a channel's webhook reported, in neutral terms. Adapters parse their
// channel's payload into a list of them; one that cannot be understood carries Err, and the
// others are handled all the same.
type Update struct {
	Kind UpdateKind
	// Account is the business account the update is for, when the payload says: Meta's page
	// or Instagram account id, WhatsApp's phone number id. It is the channel's external id.
	Account string
	// Contact is the customer: ExternalID always, DisplayName and Locale when the channel says.
	Contact domain.Contact
	// ChannelMessageID is the channel's id of the message (UpdateMessage, UpdateEcho, and
	// UpdateStatus unless Watermark is set).
	ChannelMessageID string
	// Content is the message (UpdateMessage, UpdateEcho).
	Content *batonv1.MessageContent
	// Status is the new delivery status (UpdateStatus); Error the channel's text for a failure.
	Status domain.DeliveryStatus
	Error  string
	// Watermark, for a receipt that covers every outbound message up to a time (Messenger's
	// read and delivery watermarks), replaces ChannelMessageID.
	Watermark time.Time
	// BatonMessageID is the Baton message an echo is the copy of (from the metadata Baton sent
	// it with); empty when a human outside Baton sent it.
	BatonMessageID string
	// AppID is the app that sent an echo or moved the thread, when the channel says.
	AppID string
	// Time is when, by the channel's clock, an echo was sent or the thread moved; zero when the
	// channel does not say. Channels deliver out of order, and the rules order these by it.
	Time time.Time
	// EntryPoint is where the customer came from, when the channel says (UpdateMessage,
	// UpdateReferral): a Messenger ref, "ad:" and an ad's id, a web page.
	EntryPoint string
	// Field is the webhook field an UpdateTest tested (Meta's changes[].field).
	Field string
	// Err says why this item could not be understood.
	Err error
}

// Outgoing is a message to send.
type Outgoing struct {
	// BatonMessageID is sent along where the channel allows (Meta's metadata), so the echo of
	// the message is recognised as Baton's own.
	BatonMessageID string
	Content        *batonv1.MessageContent
}

// Sender delivers messages through a channel's send API.
type Sender interface {
	// Send delivers m to the contact on the channel and returns the channel's message id. A
	// refusal by the channel is a *SendError.
	Send(ctx context.Context, ch domain.Channel, to domain.Contact, m Outgoing) (string, error)
}

// SendError is a channel's refusal of a message.
type SendError struct {
	// Code is the channel's error code, e.g. Meta's "10" or WhatsApp's "131047".
	Code    string
	Message string
	// Transient says sending again later may work (rate limits, the channel's server errors);
	// otherwise the message fails (expired messaging window, invalid recipient).
	Transient  bool
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return fmt.Sprintf("%s (code %s)", e.Message, e.Code)
}
