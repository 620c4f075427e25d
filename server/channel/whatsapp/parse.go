// Package whatsapp speaks the WhatsApp Business Platform's Cloud API: the webhook payloads of
// the "messages" and "smb_message_echoes" fields, parsed into neutral channel updates, and the
// messages endpoint (POST /<phone number id>/messages), behind channel.Sender.
//
// Subscriptions and signatures are Meta's, shared with Messenger and Instagram: answer the GET
// check with meta.VerifySubscription and verify X-Hub-Signature-256 with meta.CheckSignature
// before calling Parse.
//
// A channel's ExternalID is the business phone number id (metadata.phone_number_id in the
// payloads, the path of the send endpoint); a contact's ExternalID is the customer's WhatsApp
// phone number as the webhooks give it (messages[].from, statuses[].recipient_id), in digits.
package whatsapp

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// MediaScheme is the URI scheme of the attachments Parse reports. WhatsApp delivers media by
// id: the webhook's media URL expires within minutes and needs the channel's access token, so an
// inbound attachment's URL is "whatsapp-media:<media id>", fetched later with GET /<media id>
// and the access token. Sender sends such a URL back by id.
const MediaScheme = "whatsapp-media"

// MediaURL is the attachment URL of the WhatsApp media with this id.
func MediaURL(id string) string { return MediaScheme + ":" + id }

// MediaID is the media id of a "whatsapp-media:" URL.
func MediaID(url string) (id string, ok bool) {
	id, ok = strings.CutPrefix(url, MediaScheme+":")
	return id, ok && id != ""
}

// Errors carried by the updates Parse could not turn into messages or statuses.
var (
	// ErrMalformed: an item lacks what it must carry (an id, a sender) or has the wrong form.
	ErrMalformed = errors.New("malformed WhatsApp webhook item")
	// ErrUnsupported: an item of a type Baton does not handle (a reaction, a contact card, an
	// order, a Flow reply, a message WhatsApp itself could not read, a "deleted" status).
	ErrUnsupported = errors.New("unsupported WhatsApp webhook item")
	// ErrReported: WhatsApp reported an error not tied to a message (value.errors).
	ErrReported = errors.New("WhatsApp reported an error")
)

// Item is one update and the business phone number it was reported for.
type Item struct {
	// PhoneNumberID is the change's metadata.phone_number_id: the ExternalID of the channel the
	// update belongs to. One app's webhook may carry the changes of several phone numbers.
	PhoneNumberID string
	channel.Update
}

// Parse reads a webhook body of the WhatsApp Business Account object and returns its updates in
// the order of the payload, each with the phone number id it was reported for as its Account
// (one app's webhook may carry several numbers': the caller keeps its channel's).
//
// A body that is not JSON, or not a "whatsapp_business_account" object, is an error. An item that
// cannot be understood yields an update with Err (ErrMalformed, ErrUnsupported or ErrReported),
// and the others come out all the same. Changes of other fields than "messages" and
// "smb_message_echoes" (account, template and quality updates) carry no update and are skipped.
func Parse(body []byte) ([]channel.Update, error) {
	items, err := ParseItems(body)
	if err != nil {
		return nil, err
	}
	updates := make([]channel.Update, len(items))
	for i, it := range items {
		updates[i] = it.Update
		updates[i].Account = it.PhoneNumberID
	}
	return updates, nil
}

// ParseItems is Parse, with the phone number id each update was reported for.
func ParseItems(body []byte) ([]Item, error) {
	var p struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("the body is not a WhatsApp webhook payload: %w", err)
	}
	if p.Object != "whatsapp_business_account" {
		return nil, fmt.Errorf("the body is not a WhatsApp webhook payload: object is %q, not \"whatsapp_business_account\"", p.Object)
	}
	var items []Item
	for i, raw := range p.Entry {
		var e struct {
			Changes []json.RawMessage `json:"changes"`
		}
		if err := decode(raw, &e); err != nil {
			items = append(items, Item{Update: failed(fmt.Errorf("%w: entry %d: %v", ErrMalformed, i+1, err))})
			continue
		}
		for j, raw := range e.Changes {
			items = append(items, parseChange(raw, fmt.Sprintf("entry %d, change %d", i+1, j+1))...)
		}
	}
	return items, nil
}

// Webhook change fields that carry messages.
const (
	fieldMessages     = "messages"
	fieldMessageEchos = "smb_message_echoes"
)

type contact struct {
	WaID    string `json:"wa_id"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
}

func parseChange(raw json.RawMessage, where string) []Item {
	var c struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	if err := decode(raw, &c); err != nil {
		return []Item{{Update: failed(fmt.Errorf("%w: %s: %v", ErrMalformed, where, err))}}
	}
	if c.Field != fieldMessages && c.Field != fieldMessageEchos {
		return nil
	}
	fields, err := objectFields(c.Value)
	if err != nil {
		return []Item{{Update: failed(fmt.Errorf("%w: %s: value: %v", ErrMalformed, where, err))}}
	}
	// The phone number and the contacts apply to the whole change, wherever they stand in it.
	var phone string
	var contacts []contact
	for _, f := range fields {
		switch f.name {
		case "metadata":
			var md struct {
				PhoneNumberID string `json:"phone_number_id"`
			}
			if err := decode(f.value, &md); err != nil {
				return []Item{{Update: failed(fmt.Errorf("%w: %s: metadata: %v", ErrMalformed, where, err))}}
			}
			phone = md.PhoneNumberID
		case "contacts":
			// Contacts only name the senders: a list that cannot be read costs the names, not
			// the messages.
			_ = json.Unmarshal(f.value, &contacts)
		}
	}

	// The items come out in the order of the payload.
	var items []Item
	add := func(u channel.Update) { items = append(items, Item{PhoneNumberID: phone, Update: u}) }
	for _, f := range fields {
		var parse func(raw json.RawMessage, where string) channel.Update
		switch f.name {
		case "messages":
			parse = func(raw json.RawMessage, where string) channel.Update { return parseMessage(raw, contacts, where) }
		case "message_echoes":
			parse = parseEcho
		case "statuses":
			parse = parseStatus
		case "errors":
			parse = parseError
		default:
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(f.value, &list); err != nil {
			add(failed(fmt.Errorf("%w: %s: %s is not a list", ErrMalformed, where, f.name)))
			continue
		}
		for i, raw := range list {
			add(parse(raw, fmt.Sprintf("%s, %s %d", where, f.name, i+1)))
		}
	}
	return items
}

// message is an inbound message (messages[]) or a message echo (message_echoes[]).
type message struct {
	From        string       `json:"from"`
	To          string       `json:"to"` // echoes
	ID          string       `json:"id"`
	Type        string       `json:"type"`
	Text        *text        `json:"text"`
	Image       *media       `json:"image"`
	Video       *media       `json:"video"`
	Audio       *media       `json:"audio"`
	Document    *media       `json:"document"`
	Sticker     *media       `json:"sticker"`
	Location    *location    `json:"location"`
	Interactive *interactive `json:"interactive"`
	Button      *button      `json:"button"`
	Errors      []apiError   `json:"errors"`
	// Referral is the ad or post a customer clicked to write (Click to WhatsApp), on their
	// first message after the click.
	Referral *referral `json:"referral"`
}

type referral struct {
	SourceID   string `json:"source_id"`
	SourceType string `json:"source_type"`
	SourceURL  string `json:"source_url"`
}

// entryPoint is the referral's source as an entry point: its type ("ad", "post") and id;
// "" when it names none.
func (r *referral) entryPoint() string {
	if r == nil || r.SourceID == "" {
		return ""
	}
	return cmp.Or(r.SourceType, "ad") + ":" + r.SourceID
}

type text struct {
	Body string `json:"body"`
}

type media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
}

type location struct {
	Latitude  *number `json:"latitude"`
	Longitude *number `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
}

type interactive struct {
	Type        string `json:"type"`
	ButtonReply *reply `json:"button_reply"`
	ListReply   *reply `json:"list_reply"`
}

type reply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// button is the reply to a template's quick-reply button.
type button struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// apiError is an error as the webhooks give it (statuses[].errors, messages[].errors, errors).
type apiError struct {
	Code      channel.JSONText `json:"code"`
	Title     string           `json:"title"`
	Message   string           `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// String says the error in one line: its title, its message and details where they add to it,
// and its code.
func (e apiError) String() string {
	var parts []string
	for _, s := range []string{e.Title, e.Message, e.ErrorData.Details} {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	msg := strings.Join(parts, ": ")
	switch {
	case msg == "":
		msg = "unknown error"
	case e.Code == "":
		return msg
	}
	return fmt.Sprintf("%s (code %s)", msg, e.Code)
}

func parseMessage(raw json.RawMessage, contacts []contact, where string) channel.Update {
	u := channel.Update{Kind: channel.UpdateMessage}
	var m message
	// A field of the wrong type fails the item, but the others are still read: they say which.
	err := decode(raw, &m)
	u.ChannelMessageID = m.ID
	u.Contact = domain.Contact{ExternalID: m.From, DisplayName: profileName(contacts, m.From)}
	switch {
	case err != nil:
		u.Err = fmt.Errorf("%w: %s: %v", ErrMalformed, where, err)
	case m.ID == "":
		u.Err = fmt.Errorf("%w: %s: no message id", ErrMalformed, where)
	case m.From == "":
		u.Err = fmt.Errorf("%w: %s: no sender (from)", ErrMalformed, where)
	default:
		u.Content, u.Err = content(m, where)
		u.EntryPoint = m.Referral.entryPoint()
	}
	return u
}

// parseEcho reads a message a human sent from the WhatsApp Business app (coexistence): the
// contact is the customer it went to.
func parseEcho(raw json.RawMessage, where string) channel.Update {
	u := channel.Update{Kind: channel.UpdateEcho}
	var m message
	err := decode(raw, &m)
	u.ChannelMessageID = m.ID
	// The recipient is given as the phone number was typed ("+16505551234"); inbound messages
	// give it in digits.
	u.Contact = domain.Contact{ExternalID: strings.TrimPrefix(m.To, "+")}
	switch {
	case err != nil:
		u.Err = fmt.Errorf("%w: %s: %v", ErrMalformed, where, err)
	case m.ID == "":
		u.Err = fmt.Errorf("%w: %s: no message id", ErrMalformed, where)
	case u.Contact.ExternalID == "":
		u.Err = fmt.Errorf("%w: %s: no recipient (to)", ErrMalformed, where)
	default:
		u.Content, u.Err = content(m, where)
	}
	return u
}

// profileName is the sender's name from the change's contacts: the one whose wa_id is the
// sender's number, or the only one (a user's id and phone number may differ).
func profileName(contacts []contact, from string) string {
	for _, c := range contacts {
		if c.WaID == from {
			return c.Profile.Name
		}
	}
	if len(contacts) == 1 {
		return contacts[0].Profile.Name
	}
	return ""
}

func content(m message, where string) (*batonv1.MessageContent, error) {
	missing := func(what string) error {
		return fmt.Errorf("%w: %s: %s message without %s", ErrMalformed, where, m.Type, what)
	}
	switch m.Type {
	case "text":
		if m.Text == nil || m.Text.Body == "" {
			return nil, missing("a text body")
		}
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: m.Text.Body}}}, nil
	case "image", "video", "audio", "document", "sticker":
		md, typ := m.mediaOf()
		if md == nil || md.ID == "" {
			return nil, missing("a media id")
		}
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: typ, Url: MediaURL(md.ID), Caption: md.Caption, MimeType: md.MimeType,
		}}}, nil
	case "location":
		l := m.Location
		if l == nil || l.Latitude == nil || l.Longitude == nil {
			return nil, missing("coordinates")
		}
		lat, err1 := l.Latitude.float(90)
		lng, err2 := l.Longitude.float(180)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: %s: location: %v", ErrMalformed, where, err)
		}
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
			Latitude: lat, Longitude: lng, Name: l.Name, Address: l.Address,
		}}}, nil
	case "interactive":
		if m.Interactive == nil {
			return nil, missing("its reply")
		}
		var r *reply
		switch m.Interactive.Type {
		case "button_reply":
			r = m.Interactive.ButtonReply
		case "list_reply":
			r = m.Interactive.ListReply
		default:
			return nil, fmt.Errorf("%w: %s: interactive reply of type %q", ErrUnsupported, where, m.Interactive.Type)
		}
		if r == nil || r.ID == "" {
			return nil, missing("the id of the " + m.Interactive.Type)
		}
		return postback(r.ID, r.Title), nil
	case "button":
		if m.Button == nil || m.Button.Payload == "" {
			return nil, missing("a button payload")
		}
		return postback(m.Button.Payload, m.Button.Text), nil
	case "unsupported":
		if len(m.Errors) > 0 {
			return nil, fmt.Errorf("%w: %s: %s", ErrUnsupported, where, m.Errors[0])
		}
		return nil, fmt.Errorf("%w: %s: a message WhatsApp does not support", ErrUnsupported, where)
	case "":
		return nil, fmt.Errorf("%w: %s: no message type", ErrMalformed, where)
	}
	return nil, fmt.Errorf("%w: %s: message type %q", ErrUnsupported, where, m.Type)
}

// mediaOf is the media object of a media message, and its attachment type: stickers are WebP
// images, documents are files.
func (m message) mediaOf() (*media, batonv1.AttachmentType) {
	switch m.Type {
	case "image":
		return m.Image, batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE
	case "sticker":
		return m.Sticker, batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE
	case "video":
		return m.Video, batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO
	case "audio":
		return m.Audio, batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO
	default:
		return m.Document, batonv1.AttachmentType_ATTACHMENT_TYPE_FILE
	}
}

func postback(payload, title string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Payload: payload, Title: title}}}
}

type status struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	RecipientID string `json:"recipient_id"`
	// BizOpaqueCallbackData is what the send request carried as biz_opaque_callback_data: the
	// Baton message id, for messages Sender sent.
	BizOpaqueCallbackData string     `json:"biz_opaque_callback_data"`
	Errors                []apiError `json:"errors"`
}

var statuses = map[string]domain.DeliveryStatus{
	"sent":      domain.DeliverySent,
	"delivered": domain.DeliveryDelivered,
	"read":      domain.DeliveryRead,
	"failed":    domain.DeliveryFailed,
}

func parseStatus(raw json.RawMessage, where string) channel.Update {
	u := channel.Update{Kind: channel.UpdateStatus}
	var s status
	err := decode(raw, &s)
	u.ChannelMessageID = s.ID
	u.Contact = domain.Contact{ExternalID: s.RecipientID}
	u.BatonMessageID = s.BizOpaqueCallbackData
	st, known := statuses[s.Status]
	switch {
	case err != nil:
		u.Err = fmt.Errorf("%w: %s: %v", ErrMalformed, where, err)
	case s.ID == "":
		u.Err = fmt.Errorf("%w: %s: no message id", ErrMalformed, where)
	case s.Status == "":
		u.Err = fmt.Errorf("%w: %s: no status", ErrMalformed, where)
	case !known:
		u.Err = fmt.Errorf("%w: %s: status %q", ErrUnsupported, where, s.Status)
	default:
		u.Status = st
		if st == domain.DeliveryFailed && len(s.Errors) > 0 {
			u.Error = s.Errors[0].String()
		}
	}
	return u
}

// parseError reads an error WhatsApp reported for the change rather than for a message.
func parseError(raw json.RawMessage, where string) channel.Update {
	var e apiError
	if err := decode(raw, &e); err != nil {
		return failed(fmt.Errorf("%w: %s: %v", ErrMalformed, where, err))
	}
	return failed(fmt.Errorf("%w: %s: %s", ErrReported, where, e))
}

func failed(err error) channel.Update { return channel.Update{Err: err} }

// field is one member of a JSON object.
type field struct {
	name  string
	value json.RawMessage
}

// objectFields is the members of a JSON object, in their order.
func objectFields(raw json.RawMessage) ([]field, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var fields []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		fields = append(fields, field{name, v})
	}
	return fields, nil
}

// decode unmarshals one JSON object; null and non-objects are refused (an array or a string in
// the place of an item is malformed, not empty).
func decode(raw json.RawMessage, v any) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(t, v)
}

// number is a coordinate: a JSON number, or a string of one (the send API documents strings).
type number struct{ text string }

func (n *number) UnmarshalJSON(b []byte) error {
	var f channel.JSONText
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	n.text = string(f)
	return nil
}

// float is the coordinate in degrees, within ±limit.
func (n number) float(limit float64) (float64, error) {
	f, err := strconv.ParseFloat(n.text, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > limit {
		return 0, fmt.Errorf("coordinate %q is not a number of degrees within ±%g", n.text, limit)
	}
	return f, nil
}
