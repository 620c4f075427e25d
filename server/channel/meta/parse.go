package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// MetadataPrefix starts the metadata Baton sends with a message ("baton:" and the Baton message
// id), which Messenger hands back in the message's echo.
const MetadataPrefix = "baton:"

// The app ids of Meta's own inboxes, as the handover protocol names them: a thread taken by one
// of them is answered by a human in the Page's or the Instagram account's inbox.
const (
	PageInboxAppID      = "263902037430900"
	InstagramInboxAppID = "1217981644879628"
)

// UserRefPrefix starts the Contact.ExternalID of a person Meta names by a user_ref instead of a
// PSID: someone who wrote through the Chat Plugin or opted in with the Checkbox plugin. PSIDs
// are digits, so such a contact never collides with one known by its PSID; replies to it are
// addressed to recipient.user_ref (see Messenger).
const UserRefPrefix = "user_ref:"

// ErrMalformed says an item of a webhook payload could not be understood; the Err of its Update
// wraps it.
var ErrMalformed = errors.New("malformed Meta webhook item")

// ParseMessaging turns a Messenger ("object": "page") or Instagram ("object": "instagram")
// webhook payload into Updates, in the order of the payload: every event of every entry's
// messaging and standby lists (standby events, received while another app owns the thread, are
// read the same way).
//
// The customer is the sender (the recipient of an echo): its PSID, or, for a person Meta knows
// only by a user_ref (Chat Plugin, Checkbox plugin), UserRefPrefix and the user_ref.
//
//   - A customer's message is an UpdateMessage per part (text, attachment, location, or the
//     quick reply tapped, as a Postback). The first part has the message's mid as
//     ChannelMessageID, the next ones mid#1, mid#2... (Messenger sends several photos as one
//     message).
//   - A postback (a button tapped) is an UpdateMessage with a Postback; its ChannelMessageID is
//     the postback's mid, or "postback:<sender>:<timestamp>" when Meta sends none.
//   - An echo (is_echo) is an UpdateEcho for the customer it was sent to, with the sending app's
//     id, and the Baton message id when its metadata is MetadataPrefix and one.
//   - A delivery is an UpdateStatus delivered per mid, or one with a Watermark when it names no
//     mid; a read is an UpdateStatus read with a Watermark (Messenger) or the mid read
//     (Instagram).
//   - take_thread_control is an UpdateThreadTaken (AppID: the app that took it);
//     pass_thread_control an UpdateThreadReleased (AppID: the app that passed it to us).
//     These and echoes carry the event's timestamp as Time: Meta retries deliveries, so they
//     may arrive out of order.
//
// A test event from the App Dashboard's "Test" button (the changes form, in an entry with id 0)
// is an UpdateTest naming the field tested; any other item of an entry's changes list is a
// webhook field Baton does not read, an Update with Err.
//
// The entry point a customer came through (a referral's ref, or "ad:" and the ad's id) is the
// EntryPoint of the postback or message that carries it (a Get Started postback after an m.me
// link, QR code or ad), or, on a thread that already exists, an UpdateReferral of its own.
//
// Other events (request_thread_control, reactions, deleted messages, ...) yield
// nothing. An item that cannot be understood yields an Update with Err (wrapping ErrMalformed),
// and the others still come out. A body that is not JSON, or not a page or instagram object, is
// an error.
func ParseMessaging(body []byte) ([]channel.Update, error) {
	var p struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("not a Meta webhook payload: %w", err)
	}
	if p.Object != "page" && p.Object != "instagram" {
		return nil, fmt.Errorf("not a Messenger or Instagram webhook payload: object is %q", p.Object)
	}
	var out []channel.Update
	for i, raw := range p.Entry {
		e, err := readEntry(raw)
		if err != nil {
			out = append(out, malformed(fmt.Sprintf("entry %d", i), err))
		}
		first := len(out)
		for _, l := range e.lists {
			if l.err != nil {
				out = append(out, malformed(fmt.Sprintf("entry %d, %s", i, l.key), l.err))
				continue
			}
			if l.key == "changes" {
				for j, c := range l.events {
					out = append(out, parseChange(fmt.Sprintf("entry %d, changes %d", i, j), e.account, c))
				}
				continue
			}
			for j, ev := range l.events {
				out = append(out, parseEvent(fmt.Sprintf("entry %d, %s %d", i, l.key, j), ev)...)
			}
		}
		for k := first; k < len(out); k++ {
			if out[k].Kind != channel.UpdateTest { // a test's entry names no account
				out[k].Account = e.account
			}
		}
	}
	return out, nil
}

// entry is what Baton reads of an entry: its id (the page's or Instagram account's) and its
// messaging, standby and changes lists in the order they appear in it.
type entry struct {
	account string
	lists   []eventList
}

// eventList is one messaging, standby or changes list of an entry.
type eventList struct {
	key    string
	events []json.RawMessage
	err    error
}

// readEntry reads an entry. An entry that is not an object is an error; a list that is not an
// array is an eventList with err.
func readEntry(raw json.RawMessage) (e entry, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return e, errors.New("the entry is not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return e, err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return e, err
		}
		key, _ := tok.(string)
		switch key {
		case "id":
			var id channel.JSONText
			if json.Unmarshal(value, &id) == nil {
				e.account = string(id)
			}
		case "messaging", "standby", "changes":
			l := eventList{key: key}
			if err := json.Unmarshal(value, &l.events); err != nil {
				l.err = fmt.Errorf("%s is not a list: %w", key, err)
			}
			e.lists = append(e.lists, l)
		}
	}
	return e, nil
}

// dashboardTestAccount is the entry id of the test events the App Dashboard's "Test" button
// sends: no page has it.
const dashboardTestAccount = "0"

// parseChange reads an item of an entry's changes list. Messenger and Instagram deliver
// messaging events in messaging and standby; changes is the App Dashboard's test form
// ({"field": "messages", "value": {a sample with made-up ids}}), an UpdateTest, or otherwise a
// webhook field Baton does not read (a page's feed, say), which the channel's log should show.
func parseChange(where, account string, raw json.RawMessage) channel.Update {
	var c struct {
		Field string `json:"field"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return malformed(where, err)
	}
	if account == dashboardTestAccount {
		return channel.Update{Kind: channel.UpdateTest, Field: c.Field}
	}
	return malformed(where, fmt.Errorf("webhook field %q is not one Baton reads: subscribe the app to messaging fields only", c.Field))
}

func malformed(where string, err error) channel.Update {
	return channel.Update{Err: fmt.Errorf("%w: %s: %v", ErrMalformed, where, err)}
}

// The parts of a messaging event Baton reads.
type (
	event struct {
		Sender            *party         `json:"sender"`
		Recipient         *party         `json:"recipient"`
		Timestamp         millis         `json:"timestamp"`
		Message           *message       `json:"message"`
		Postback          *postback      `json:"postback"`
		Delivery          *delivery      `json:"delivery"`
		Read              *read          `json:"read"`
		TakeThreadControl *threadControl `json:"take_thread_control"`
		PassThreadControl *threadControl `json:"pass_thread_control"`
		Referral          *referral      `json:"referral"`
	}
	// referral is how a customer entered the thread: an m.me link or QR code with its ref, an
	// ad (its id, and the ref the ad sets, if any).
	referral struct {
		Ref    string           `json:"ref"`
		Source string           `json:"source"`
		Type   string           `json:"type"`
		AdID   channel.JSONText `json:"ad_id"`
	}
	// party is an event's sender or recipient: a PSID (or page id), or a plugin user's user_ref.
	party struct {
		ID      channel.JSONText `json:"id"`
		UserRef channel.JSONText `json:"user_ref"`
	}
	message struct {
		MID           string           `json:"mid"`
		Text          string           `json:"text"`
		IsEcho        bool             `json:"is_echo"`
		AppID         channel.JSONText `json:"app_id"`
		Metadata      string           `json:"metadata"`
		QuickReply    *quickReply      `json:"quick_reply"`
		QuickReplies  []quickReply     `json:"quick_replies"` // in echoes of quick replies
		Attachments   []attachment     `json:"attachments"`
		IsDeleted     bool             `json:"is_deleted"`
		IsUnsupported bool             `json:"is_unsupported"`
		Referral      *referral        `json:"referral"`
	}
	quickReply struct {
		Title   string `json:"title"`
		Payload string `json:"payload"`
	}
	attachment struct {
		Type    string             `json:"type"`
		Title   string             `json:"title"`
		URL     string             `json:"url"`
		Payload *attachmentPayload `json:"payload"`
	}
	attachmentPayload struct {
		URL          string           `json:"url"`
		Title        string           `json:"title"`
		Coordinates  *coordinates     `json:"coordinates"`
		TemplateType string           `json:"template_type"`
		Text         string           `json:"text"`
		Buttons      []templateButton `json:"buttons"`
		Elements     []templateCard   `json:"elements"`
	}
	coordinates struct {
		Lat  *float64 `json:"lat"`
		Long *float64 `json:"long"`
	}
	templateButton struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		URL     string `json:"url"`
		Payload string `json:"payload"`
	}
	templateCard struct {
		Title    string           `json:"title"`
		Subtitle string           `json:"subtitle"`
		ImageURL string           `json:"image_url"`
		Buttons  []templateButton `json:"buttons"`
	}
	postback struct {
		MID      string    `json:"mid"`
		Title    string    `json:"title"`
		Payload  string    `json:"payload"`
		Referral *referral `json:"referral"`
	}
	delivery struct {
		MIDs      []string `json:"mids"`
		Watermark millis   `json:"watermark"`
	}
	read struct {
		Watermark millis `json:"watermark"`
		MID       string `json:"mid"`
	}
	threadControl struct {
		PreviousOwnerAppID channel.JSONText `json:"previous_owner_app_id"`
		NewOwnerAppID      channel.JSONText `json:"new_owner_app_id"`
	}
)

// millis is a time in milliseconds since the epoch, which Meta sends as a number (or, in some
// payloads, a string of digits).
type millis int64

func (m *millis) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 || f > 1<<53 {
			return fmt.Errorf("a time in milliseconds is a number, not %s", b)
		}
		n = int64(f)
	}
	if n < 0 {
		return fmt.Errorf("a time in milliseconds is not negative: %s", b)
	}
	*m = millis(n)
	return nil
}

// time is m as a time; zero (the payload does not say) is the zero time.
func (m millis) time() time.Time {
	if m == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(m)).UTC()
}

// contactID is the Contact.ExternalID of the person p names: their PSID, or UserRefPrefix and
// their user_ref when Meta knows them by nothing else.
func (p *party) contactID() string {
	switch {
	case p == nil:
		return ""
	case p.ID != "":
		return string(p.ID)
	case p.UserRef != "":
		return UserRefPrefix + string(p.UserRef)
	}
	return ""
}

// parseEvent reads one messaging or standby event.
func parseEvent(where string, raw json.RawMessage) []channel.Update {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return []channel.Update{malformed(where, errors.New("the event is not an object"))}
	}
	var e event
	if err := json.Unmarshal(raw, &e); err != nil {
		return []channel.Update{malformed(where, err)}
	}
	var (
		out []channel.Update
		err error
	)
	switch {
	case e.Message != nil && e.Message.IsEcho:
		out, err = parseEcho(&e)
	case e.Message != nil:
		out, err = parseMessage(&e)
	case e.Postback != nil:
		out, err = parsePostback(&e)
	case e.Delivery != nil:
		out, err = parseDelivery(&e)
	case e.Read != nil:
		out, err = parseRead(&e)
	case e.TakeThreadControl != nil:
		out, err = threadUpdate(&e, channel.UpdateThreadTaken, e.TakeThreadControl.NewOwnerAppID)
	case e.PassThreadControl != nil:
		out, err = threadUpdate(&e, channel.UpdateThreadReleased, e.PassThreadControl.PreviousOwnerAppID)
	case e.Referral != nil:
		out, err = parseReferral(&e)
	}
	if err != nil {
		return []channel.Update{malformed(where, err)}
	}
	for i := range out {
		if out[i].Err != nil {
			out[i].Err = fmt.Errorf("%w: %s: %v", ErrMalformed, where, out[i].Err)
		}
	}
	return out
}

// customer is the customer of an event the customer sent: its sender.
func customer(e *event) (domain.Contact, error) {
	id := e.Sender.contactID()
	if id == "" {
		return domain.Contact{}, errors.New("the event has no sender id or user_ref")
	}
	return domain.Contact{ExternalID: id}, nil
}

func parseMessage(e *event) ([]channel.Update, error) {
	m := e.Message
	if m.IsDeleted {
		return nil, nil // the customer unsent a message (Instagram)
	}
	c, err := customer(e)
	if err != nil {
		return nil, err
	}
	if m.MID == "" {
		return nil, errors.New("the message has no mid")
	}
	parts := messageParts(m, false)
	if len(parts) == 0 {
		return nil, fmt.Errorf("message %s carries nothing Baton can read", m.MID)
	}
	out := make([]channel.Update, len(parts))
	for i, p := range parts {
		out[i] = channel.Update{Kind: channel.UpdateMessage, Contact: c, ChannelMessageID: partID(m.MID, i), Content: p.content, Err: p.err, EntryPoint: m.Referral.entryPoint()}
		if p.err != nil {
			out[i].Kind = 0
		}
	}
	return out, nil
}

func parseEcho(e *event) ([]channel.Update, error) {
	m := e.Message
	id := e.Recipient.contactID()
	if id == "" {
		return nil, errors.New("the echo has no recipient id or user_ref")
	}
	if m.MID == "" {
		return nil, errors.New("the echo has no mid")
	}
	u := channel.Update{Kind: channel.UpdateEcho, Contact: domain.Contact{ExternalID: id}, AppID: string(m.AppID), Time: e.Timestamp.time()}
	if bid, ok := strings.CutPrefix(m.Metadata, MetadataPrefix); ok {
		u.BatonMessageID = bid
	}
	var out []channel.Update
	for _, p := range messageParts(m, true) {
		if p.err != nil {
			continue // an echo says who answered even when Baton cannot show what
		}
		v := u
		v.ChannelMessageID, v.Content = partID(m.MID, len(out)), p.content
		out = append(out, v)
	}
	if len(out) == 0 { // nothing Baton can show (a template it does not know): still an echo
		u.ChannelMessageID = m.MID
		out = append(out, u)
	}
	return out, nil
}

// partID is the ChannelMessageID of the i-th part of message mid.
func partID(mid string, i int) string {
	if i == 0 {
		return mid
	}
	return mid + "#" + strconv.Itoa(i)
}

// part is one part of a message: content, or why it cannot be read.
type part struct {
	content *batonv1.MessageContent
	err     error
}

// messageParts reads a message's content: the quick reply tapped, or its text and attachments.
func messageParts(m *message, echo bool) []part {
	if m.QuickReply != nil && !echo {
		return []part{{content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{
			Postback: &batonv1.Postback{Title: m.Text, Payload: m.QuickReply.Payload},
		}}}}
	}
	var parts []part
	if m.Text != "" {
		if echo && len(m.QuickReplies) > 0 {
			qr := &batonv1.QuickReplies{Text: m.Text}
			for _, r := range m.QuickReplies {
				qr.Replies = append(qr.Replies, &batonv1.QuickReply{Title: r.Title, Payload: r.Payload})
			}
			parts = append(parts, part{content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: qr}}})
		} else {
			parts = append(parts, part{content: text(m.Text)})
		}
	}
	for i, a := range m.Attachments {
		c, err := attachmentContent(a, m.Text != "", echo)
		switch {
		case err != nil:
			parts = append(parts, part{err: fmt.Errorf("attachment %d: %w", i, err)})
		case c != nil:
			parts = append(parts, part{content: c})
		}
	}
	return parts
}

func text(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

var mediaTypes = map[string]batonv1.AttachmentType{
	"image": batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE,
	"video": batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO,
	"audio": batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO,
	"file":  batonv1.AttachmentType_ATTACHMENT_TYPE_FILE,
	// Reels shared in a conversation are videos, titled.
	"reel":    batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO,
	"ig_reel": batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO,
}

// attachmentContent reads one attachment; nil and no error means there is nothing to show (a
// link preview of a message that has its text).
func attachmentContent(a attachment, hasText, echo bool) (*batonv1.MessageContent, error) {
	p := a.Payload
	if p == nil {
		p = &attachmentPayload{}
	}
	if t, ok := mediaTypes[a.Type]; ok {
		if p.URL == "" {
			return nil, fmt.Errorf("the %s has no url", a.Type)
		}
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: t, Url: p.URL, Caption: p.Title,
		}}}, nil
	}
	switch a.Type {
	case "location":
		c := p.Coordinates
		if c == nil || c.Lat == nil || c.Long == nil {
			return nil, errors.New("the location has no coordinates")
		}
		if *c.Lat < -90 || *c.Lat > 90 || *c.Long < -180 || *c.Long > 180 {
			return nil, fmt.Errorf("the location %v,%v is off the map", *c.Lat, *c.Long)
		}
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
			Latitude: *c.Lat, Longitude: *c.Long, Name: a.Title,
		}}}, nil
	case "fallback": // a shared link: its text says it, or else its url
		u := p.URL
		if u == "" {
			u = a.URL
		}
		if hasText || u == "" {
			return nil, nil
		}
		return text(u), nil
	case "template":
		if echo {
			return templateContent(p), nil
		}
	}
	if echo {
		return nil, nil
	}
	return nil, fmt.Errorf("attachments of type %q are not supported", a.Type)
}

// templateContent reads the echo of a button or generic template Baton (or another app) sent.
func templateContent(p *attachmentPayload) *batonv1.MessageContent {
	switch p.TemplateType {
	case "button":
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{
			Text: p.Text, Buttons: buttons(p.Buttons),
		}}}
	case "generic":
		c := &batonv1.Carousel{}
		for _, e := range p.Elements {
			c.Cards = append(c.Cards, &batonv1.Card{Title: e.Title, Subtitle: e.Subtitle, ImageUrl: e.ImageURL, Buttons: buttons(e.Buttons)})
		}
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: c}}
	}
	return nil
}

func buttons(bs []templateButton) []*batonv1.Button {
	var out []*batonv1.Button
	for _, b := range bs {
		switch b.Type {
		case "postback":
			out = append(out, &batonv1.Button{Title: b.Title, Action: &batonv1.Button_Payload{Payload: b.Payload}})
		case "web_url":
			out = append(out, &batonv1.Button{Title: b.Title, Action: &batonv1.Button_Url{Url: b.URL}})
		}
	}
	return out
}

func parsePostback(e *event) ([]channel.Update, error) {
	c, err := customer(e)
	if err != nil {
		return nil, err
	}
	id := e.Postback.MID
	if id == "" {
		if e.Timestamp == 0 {
			return nil, errors.New("the postback has neither mid nor timestamp")
		}
		id = fmt.Sprintf("postback:%s:%d", c.ExternalID, e.Timestamp)
	}
	return []channel.Update{{
		Kind: channel.UpdateMessage, Contact: c, ChannelMessageID: id,
		Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{
			Title: e.Postback.Title, Payload: e.Postback.Payload,
		}}},
		EntryPoint: e.Postback.Referral.entryPoint(),
	}}, nil
}

// parseReferral reads a customer's return to an existing thread through an entry point
// (messaging_referrals); one that names none (an m.me link without ref) yields nothing.
func parseReferral(e *event) ([]channel.Update, error) {
	c, err := customer(e)
	if err != nil {
		return nil, err
	}
	entry := e.Referral.entryPoint()
	if entry == "" {
		return nil, nil
	}
	return []channel.Update{{Kind: channel.UpdateReferral, Contact: c, EntryPoint: entry}}, nil
}

// entryPoint is the entry point a referral names: its ref (an m.me link's, a QR code's, or the
// one an ad sets), else "ad:" and the ad's id; "" when it names neither.
func (r *referral) entryPoint() string {
	switch {
	case r == nil:
		return ""
	case r.Ref != "":
		return r.Ref
	case r.AdID != "":
		return "ad:" + string(r.AdID)
	}
	return ""
}

func parseDelivery(e *event) ([]channel.Update, error) {
	c, err := customer(e)
	if err != nil {
		return nil, err
	}
	var out []channel.Update
	for _, mid := range e.Delivery.MIDs {
		if mid != "" {
			out = append(out, channel.Update{Kind: channel.UpdateStatus, Contact: c, ChannelMessageID: mid, Status: domain.DeliveryDelivered})
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if e.Delivery.Watermark == 0 {
		return nil, errors.New("the delivery has neither mids nor watermark")
	}
	return []channel.Update{{Kind: channel.UpdateStatus, Contact: c, Watermark: e.Delivery.Watermark.time(), Status: domain.DeliveryDelivered}}, nil
}

func parseRead(e *event) ([]channel.Update, error) {
	c, err := customer(e)
	if err != nil {
		return nil, err
	}
	u := channel.Update{Kind: channel.UpdateStatus, Contact: c, Status: domain.DeliveryRead}
	switch {
	case e.Read.Watermark != 0:
		u.Watermark = e.Read.Watermark.time()
	case e.Read.MID != "":
		u.ChannelMessageID = e.Read.MID // Instagram's messaging_seen: the last message read
	default:
		return nil, errors.New("the read receipt has neither watermark nor mid")
	}
	return []channel.Update{u}, nil
}

func threadUpdate(e *event, kind channel.UpdateKind, app channel.JSONText) ([]channel.Update, error) {
	c, err := customer(e)
	if err != nil {
		return nil, err
	}
	return []channel.Update{{Kind: kind, Contact: c, AppID: string(app), Time: e.Timestamp.time()}}, nil
}
