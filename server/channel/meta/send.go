package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/retryafter"
)

// DefaultGraphURL is the Graph API the senders call when their BaseURL is empty.
const DefaultGraphURL = "https://graph.facebook.com/v21.0"

// maxButtons is how many buttons Meta's button template takes.
const maxButtons = 3

// maxResponse bounds what is read of a send API response.
const maxResponse = 1 << 20

// Messenger sends messages with the Messenger Platform's Send API: POST {BaseURL}/me/messages
// with the channel's Page access token. It sends text, attachments (image, video, audio, file),
// button templates (at most 3 buttons), generic templates (carousels) and quick replies, each
// with "baton:<message id>" as metadata so that its echo is known as Baton's.
//
// A contact known by a user_ref (UserRefPrefix) is addressed as recipient.user_ref, as Meta
// documents for the Chat Plugin and the Checkbox plugin. Everything Baton sends is allowed
// there; what Meta leaves out is on its side: no recipient_id in the answer (Baton reads only
// message_id), and no echo, delivery or read webhook for such a send, so the message stays
// sent.
type Messenger struct {
	// BaseURL is the Graph API with its version, e.g. "https://graph.facebook.com/v21.0";
	// DefaultGraphURL when empty.
	BaseURL string
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
}

// Send implements channel.Sender.
func (s Messenger) Send(ctx context.Context, ch domain.Channel, to domain.Contact, m channel.Outgoing) (string, error) {
	msg, err := outMessage("Messenger", m.Content)
	if err != nil {
		return "", err
	}
	if m.BatonMessageID != "" {
		msg.Metadata = MetadataPrefix + m.BatonMessageID
	}
	req := sendRequest{Recipient: recipient{ID: to.ExternalID}, MessagingType: "RESPONSE", Message: msg}
	if ref, ok := strings.CutPrefix(to.ExternalID, UserRefPrefix); ok {
		req.Recipient = recipient{UserRef: ref}
	}
	return send(ctx, s.Client, s.BaseURL, "Messenger", ch, req)
}

// Instagram sends messages with the Instagram Messaging API (the Messenger Platform for an
// Instagram professional account linked to a Page): POST {BaseURL}/me/messages with the Page
// access token and the customer's Instagram-scoped id. It sends what Instagram takes: text,
// attachments (image, video, audio, file), button templates (at most 3 buttons), generic
// templates and quick replies. Instagram's documented send request has no metadata, so the echo
// of a message Baton sent names no Baton message: it is known by its mid, the id Send returns.
type Instagram struct {
	// BaseURL is the Graph API with its version; DefaultGraphURL when empty.
	BaseURL string
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
}

// Send implements channel.Sender.
func (s Instagram) Send(ctx context.Context, ch domain.Channel, to domain.Contact, m channel.Outgoing) (string, error) {
	msg, err := outMessage("Instagram", m.Content)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(to.ExternalID, UserRefPrefix) {
		return "", refuse("Instagram cannot send to a user_ref: it is Messenger's plugins' id of a person")
	}
	return send(ctx, s.Client, s.BaseURL, "Instagram", ch, sendRequest{Recipient: recipient{ID: to.ExternalID}, Message: msg})
}

// The Send API's request body.
type (
	sendRequest struct {
		Recipient     recipient    `json:"recipient"`
		MessagingType string       `json:"messaging_type,omitempty"`
		Message       *sendMessage `json:"message"`
	}
	// recipient is a PSID (IGSID), or a plugin user's user_ref.
	recipient struct {
		ID      string `json:"id,omitempty"`
		UserRef string `json:"user_ref,omitempty"`
	}
	sendMessage struct {
		Text         string          `json:"text,omitempty"`
		Attachment   *outAttachment  `json:"attachment,omitempty"`
		QuickReplies []outQuickReply `json:"quick_replies,omitempty"`
		Metadata     string          `json:"metadata,omitempty"`
	}
	outAttachment struct {
		Type    string `json:"type"`
		Payload any    `json:"payload"`
	}
	mediaPayload struct {
		URL        string `json:"url"`
		IsReusable bool   `json:"is_reusable"`
	}
	buttonTemplate struct {
		TemplateType string      `json:"template_type"`
		Text         string      `json:"text"`
		Buttons      []outButton `json:"buttons"`
	}
	genericTemplate struct {
		TemplateType string       `json:"template_type"`
		Elements     []outElement `json:"elements"`
	}
	outElement struct {
		Title    string      `json:"title"`
		Subtitle string      `json:"subtitle,omitempty"`
		ImageURL string      `json:"image_url,omitempty"`
		Buttons  []outButton `json:"buttons,omitempty"`
	}
	outButton struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		URL     string `json:"url,omitempty"`
		Payload string `json:"payload,omitempty"`
	}
	outQuickReply struct {
		ContentType string `json:"content_type"`
		Title       string `json:"title"`
		Payload     string `json:"payload"`
	}
)

var attachmentTypes = map[batonv1.AttachmentType]string{
	batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE: "image",
	batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO: "video",
	batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO: "audio",
	batonv1.AttachmentType_ATTACHMENT_TYPE_FILE:  "file",
}

// refuse is the error for content the channel cannot send: sending it again cannot help.
func refuse(format string, args ...any) error {
	return &channel.SendError{Message: fmt.Sprintf(format, args...)}
}

// outMessage is the Send API message for c.
func outMessage(platform string, c *batonv1.MessageContent) (*sendMessage, error) {
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text:
		return &sendMessage{Text: k.Text.GetText()}, nil
	case *batonv1.MessageContent_Attachment:
		a := k.Attachment
		t, ok := attachmentTypes[a.GetType()]
		if !ok {
			return nil, refuse("%s cannot send an attachment of type %s", platform, a.GetType())
		}
		if a.GetCaption() != "" {
			return nil, refuse("%s attachments have no caption: send the caption as a text message of its own", platform)
		}
		return &sendMessage{Attachment: &outAttachment{Type: t, Payload: mediaPayload{URL: a.GetUrl(), IsReusable: true}}}, nil
	case *batonv1.MessageContent_Buttons:
		b := k.Buttons
		if n := len(b.GetButtons()); n == 0 || n > maxButtons {
			return nil, refuse("%s's button template takes 1 to %d buttons, not %d", platform, maxButtons, n)
		}
		bs, err := outButtons(platform, b.GetButtons())
		if err != nil {
			return nil, err
		}
		return &sendMessage{Attachment: &outAttachment{Type: "template", Payload: buttonTemplate{
			TemplateType: "button", Text: b.GetText(), Buttons: bs,
		}}}, nil
	case *batonv1.MessageContent_Carousel:
		g := genericTemplate{TemplateType: "generic"}
		for _, card := range k.Carousel.GetCards() {
			if len(card.GetButtons()) > maxButtons {
				return nil, refuse("%s's generic template takes at most %d buttons a card, not %d", platform, maxButtons, len(card.GetButtons()))
			}
			bs, err := outButtons(platform, card.GetButtons())
			if err != nil {
				return nil, err
			}
			g.Elements = append(g.Elements, outElement{Title: card.GetTitle(), Subtitle: card.GetSubtitle(), ImageURL: card.GetImageUrl(), Buttons: bs})
		}
		if len(g.Elements) == 0 {
			return nil, refuse("a carousel has at least one card")
		}
		return &sendMessage{Attachment: &outAttachment{Type: "template", Payload: g}}, nil
	case *batonv1.MessageContent_QuickReplies:
		q := k.QuickReplies
		msg := &sendMessage{Text: q.GetText()}
		for _, r := range q.GetReplies() {
			payload := r.GetPayload()
			if payload == "" {
				payload = r.GetTitle() // Meta requires a payload for a text quick reply
			}
			msg.QuickReplies = append(msg.QuickReplies, outQuickReply{ContentType: "text", Title: r.GetTitle(), Payload: payload})
		}
		if len(msg.QuickReplies) == 0 {
			return nil, refuse("quick replies need at least one reply")
		}
		return msg, nil
	case *batonv1.MessageContent_Location:
		return nil, refuse("%s cannot send a location", platform)
	case *batonv1.MessageContent_Postback:
		return nil, refuse("a postback is what a customer's tap sends: %s cannot send one", platform)
	}
	return nil, refuse("the message has no content to send")
}

func outButtons(platform string, bs []*batonv1.Button) ([]outButton, error) {
	out := make([]outButton, 0, len(bs))
	for _, b := range bs {
		switch a := b.GetAction().(type) {
		case *batonv1.Button_Payload:
			out = append(out, outButton{Type: "postback", Title: b.GetTitle(), Payload: a.Payload})
		case *batonv1.Button_Url:
			out = append(out, outButton{Type: "web_url", Title: b.GetTitle(), URL: a.Url})
		default:
			return nil, refuse("%s buttons send a payload or open a url: button %q does neither", platform, b.GetTitle())
		}
	}
	return out, nil
}

// send posts req to the Send API and returns the message id it answers with.
func send(ctx context.Context, client *http.Client, baseURL, platform string, ch domain.Channel, req sendRequest) (string, error) {
	token := ch.Credentials.AccessToken
	if token == "" {
		return "", refuse("the %s channel has no access token", platform)
	}
	if req.Recipient == (recipient{}) {
		return "", refuse("the contact has no %s id", platform)
	}
	if baseURL == "" {
		baseURL = DefaultGraphURL
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", refuse("the %s send API URL %q is not a URL", platform, baseURL)
	}
	u = u.JoinPath("me", "messages")
	u.RawQuery = url.Values{"access_token": {token}}.Encode()
	body, err := json.Marshal(req)
	if err != nil {
		return "", refuse("encoding the message: %v", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", refuse("building the request: %v", redact(err))
	}
	hreq.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return "", &channel.SendError{Message: fmt.Sprintf("%s send API: %v", platform, redact(err)), Transient: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", &channel.SendError{Message: fmt.Sprintf("%s send API: reading the response: %v", platform, redact(err)), Transient: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", graphError(platform, resp, data)
	}
	var ok struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(data, &ok); err != nil || ok.MessageID == "" {
		// It may have been sent: sending again could send it twice.
		return "", &channel.SendError{Message: fmt.Sprintf("%s send API answered HTTP %d without a message_id", platform, resp.StatusCode)}
	}
	return ok.MessageID, nil
}

// redact drops the request URL, which carries the access token, from a client error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// Graph API error codes that say trying again later may work: unknown and temporary errors, rate
// limits (app, user, Page, Messenger's, Instagram's and Pages' business use case limits), and
// Messenger's temporary send failure.
var transientCodes = map[int]bool{
	1: true, 2: true, 4: true, 17: true, 32: true, 341: true, 613: true, 1200: true,
	80001: true, 80002: true, 80006: true,
}

// permanentSubcodes are subcodes of transient codes that retrying does not mend.
var permanentSubcodes = map[[2]int]bool{
	{1, 99}:      true, // missing permissions
	{2, 2018344}: true, // the Page has not accepted a terms of service
}

// graphError reads a Graph API error response.
func graphError(platform string, resp *http.Response, data []byte) error {
	var g struct {
		Error *struct {
			Message     string `json:"message"`
			Type        string `json:"type"`
			Code        int    `json:"code"`
			Subcode     int    `json:"error_subcode"`
			IsTransient bool   `json:"is_transient"`
		} `json:"error"`
	}
	serverSide := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	e := &channel.SendError{Transient: serverSide}
	if err := json.Unmarshal(data, &g); err != nil || g.Error == nil {
		e.Message = fmt.Sprintf("%s send API answered HTTP %d", platform, resp.StatusCode)
	} else {
		ge := g.Error
		e.Message = ge.Message
		if e.Message == "" {
			e.Message = fmt.Sprintf("%s send API answered HTTP %d (%s)", platform, resp.StatusCode, ge.Type)
		}
		e.Code = strconv.Itoa(ge.Code)
		if ge.Subcode != 0 {
			e.Code += "/" + strconv.Itoa(ge.Subcode)
		}
		e.Transient = serverSide || ge.IsTransient || (transientCodes[ge.Code] && !permanentSubcodes[[2]int{ge.Code, ge.Subcode}])
	}
	if e.Transient {
		e.RetryAfter = retryAfter(resp.Header)
	}
	return e
}

// retryAfter is how long the response asks to wait: its Retry-After, or the longest
// estimated_time_to_regain_access (minutes) of its X-Business-Use-Case-Usage, at most
// domain.MaxRetryAfter.
func retryAfter(h http.Header) time.Duration {
	if d := retryafter.Parse(h.Get("Retry-After"), time.Now()); d > 0 {
		return d
	}
	var usage map[string][]struct {
		EstimatedTimeToRegainAccess int `json:"estimated_time_to_regain_access"`
	}
	if err := json.Unmarshal([]byte(h.Get("X-Business-Use-Case-Usage")), &usage); err != nil {
		return 0
	}
	var minutes int
	for _, uses := range usage {
		for _, u := range uses {
			minutes = max(minutes, u.EstimatedTimeToRegainAccess)
		}
	}
	return time.Duration(min(minutes, int(domain.MaxRetryAfter/time.Minute))) * time.Minute
}
