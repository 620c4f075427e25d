package whatsapp

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

// DefaultBaseURL is the Graph API root Sender posts to when its BaseURL is empty.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// DefaultListButton labels the list that carries more choices than reply buttons can.
const DefaultListButton = "Options"

// Limits of interactive messages, as the Cloud API documents them.
const (
	maxReplyButtons = 3  // reply buttons of an interactive "button" message
	maxListRows     = 10 // rows of an interactive "list" message, all sections together
)

// maxResponse bounds the part of an answer Sender reads.
const maxResponse = 1 << 20

// Sender sends messages with the Cloud API's messages endpoint: POST
// {BaseURL}/{phone number id}/messages, with the channel's access token as a bearer token.
//
// Content maps to the documented message types: text to "text" (with a link preview when the
// text has a URL); attachments to "image", "video", "audio" (which has no caption: a caption
// is refused) or "document", by link, or by id for a "whatsapp-media:" URL; locations to
// "location"; buttons that carry payloads, and quick replies, to an interactive "button" message
// of reply buttons when there are up to 3, to an interactive "list" of one section when there
// are up to 10 (a choice without a payload has its title for an id); a single URL button to an
// interactive "cta_url" message. Other buttons (several URLs, URLs and payloads together, more
// than 10 choices), carousels and postbacks are refused before anything is sent. Text lengths
// are the API's to check.
//
// The Baton message id goes along as biz_opaque_callback_data, which the status webhooks of the
// message carry back.
type Sender struct {
	// BaseURL is the Graph API root with its version, e.g. "https://graph.facebook.com/v21.0";
	// DefaultBaseURL when empty.
	BaseURL string
	// Client sends the requests; http.DefaultClient when nil. Give it a timeout.
	Client *http.Client
	// ListButton labels the button that opens a list, and the list's section; DefaultListButton
	// when empty. WhatsApp allows 20 characters.
	ListButton string
}

var _ channel.Sender = Sender{}

// Send delivers m to the contact on the channel and returns the WhatsApp message id (wamid.…).
// A refusal, by WhatsApp or because the content has no WhatsApp form, is a *channel.SendError;
// a failure to reach WhatsApp is a transient one. A send canceled by ctx returns ctx's error.
func (s Sender) Send(ctx context.Context, ch domain.Channel, to domain.Contact, m channel.Outgoing) (string, error) {
	switch {
	case ch.ExternalID == "":
		return "", refuse("the channel has no WhatsApp phone number id")
	case ch.Credentials.AccessToken == "":
		return "", refuse("the channel has no access token")
	case to.ExternalID == "":
		return "", refuse("the contact has no WhatsApp phone number")
	}
	msg, err := s.message(m.Content)
	if err != nil {
		return "", err
	}
	msg.MessagingProduct = "whatsapp"
	msg.RecipientType = "individual"
	msg.To = to.ExternalID
	msg.BizOpaqueCallbackData = m.BatonMessageID

	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		return "", refuse("encoding the message: " + err.Error())
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	endpoint := strings.TrimRight(base, "/") + "/" + url.PathEscape(ch.ExternalID) + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &body)
	if err != nil {
		return "", refuse("building the request: " + err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+ch.Credentials.AccessToken)
	req.Header.Set("Content-Type", "application/json")

	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return "", fmt.Errorf("sending to WhatsApp: %w", ctx.Err())
		}
		// Timeouts and connection failures: WhatsApp may not have the message; sending it
		// again later may work.
		return "", &channel.SendError{Message: "sending to WhatsApp: " + err.Error(), Transient: true}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil && resp.StatusCode/100 != 2 {
		return "", &channel.SendError{Message: "reading WhatsApp's answer: " + err.Error(), Transient: true}
	}
	if resp.StatusCode/100 != 2 {
		return "", sendError(resp, answer)
	}
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(answer, &ok); err != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		// WhatsApp took the message but did not say its id: sending it again could repeat it.
		return "", fmt.Errorf("WhatsApp accepted the message (HTTP %d) without a message id: %.200q", resp.StatusCode, answer)
	}
	return ok.Messages[0].ID, nil
}

// refuse is a permanent refusal of Baton's own: the message has no WhatsApp form, or the
// channel cannot send.
func refuse(msg string) *channel.SendError { return &channel.SendError{Message: msg} }

// transientCodes are the Cloud API error codes for which sending again later may work: the
// API's temporary failures (2 API Service, 131000 Something went wrong, 131016 Service
// unavailable, 131057 Account in maintenance mode) and its throughput limits (4 Too many API
// calls, 80007 Rate limit issues, 130429 Rate limit hit, 131056 pair rate limit hit). Any other
// code fails the message unless the HTTP status is 429 or 5xx: 131047 Re-engagement message (the
// customer last wrote more than 24 hours ago), 131026 Message undeliverable, 131051 Unsupported
// message type, 100 Invalid parameter, 190 expired token, 131048 Spam rate limit hit, ...
var transientCodes = map[string]bool{
	"2": true, "4": true, "80007": true,
	"130429": true, "131000": true, "131016": true, "131056": true, "131057": true,
}

// sendError reads a Graph API error answer: {"error":{"message","type","code","error_data":
// {"details"},"fbtrace_id"}}.
func sendError(resp *http.Response, answer []byte) *channel.SendError {
	var e struct {
		Error *struct {
			Message   string           `json:"message"`
			Code      channel.JSONText `json:"code"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	se := &channel.SendError{
		Transient:  resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500,
		RetryAfter: retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()),
	}
	if json.Unmarshal(answer, &e) != nil || e.Error == nil {
		se.Message = fmt.Sprintf("WhatsApp answered HTTP %d: %.200q", resp.StatusCode, answer)
		return se
	}
	se.Code = string(e.Error.Code)
	se.Message = e.Error.Message
	if d := e.Error.ErrorData.Details; d != "" && d != se.Message {
		if se.Message != "" {
			se.Message += ": "
		}
		se.Message += d
	}
	if se.Message == "" {
		se.Message = fmt.Sprintf("WhatsApp answered HTTP %d", resp.StatusCode)
	}
	se.Transient = se.Transient || transientCodes[se.Code]
	return se
}

// outMessage is the body of POST /<phone number id>/messages.
type outMessage struct {
	MessagingProduct      string          `json:"messaging_product"`
	RecipientType         string          `json:"recipient_type"`
	To                    string          `json:"to"`
	Type                  string          `json:"type"`
	BizOpaqueCallbackData string          `json:"biz_opaque_callback_data,omitempty"`
	Text                  *outText        `json:"text,omitempty"`
	Image                 *outMedia       `json:"image,omitempty"`
	Video                 *outMedia       `json:"video,omitempty"`
	Audio                 *outMedia       `json:"audio,omitempty"`
	Document              *outMedia       `json:"document,omitempty"`
	Location              *outLocation    `json:"location,omitempty"`
	Interactive           *outInteractive `json:"interactive,omitempty"`
}

type outText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

type outMedia struct {
	ID      string `json:"id,omitempty"`
	Link    string `json:"link,omitempty"`
	Caption string `json:"caption,omitempty"`
}

// outLocation has the coordinates as strings of decimal degrees, as the API documents them.
type outLocation struct {
	Latitude  string `json:"latitude"`
	Longitude string `json:"longitude"`
	Name      string `json:"name,omitempty"`
	Address   string `json:"address,omitempty"`
}

type outInteractive struct {
	Type   string    `json:"type"`
	Body   outBody   `json:"body"`
	Action outAction `json:"action"`
}

type outBody struct {
	Text string `json:"text"`
}

type outAction struct {
	Buttons    []outButton    `json:"buttons,omitempty"`  // "button"
	Button     string         `json:"button,omitempty"`   // "list"
	Sections   []outSection   `json:"sections,omitempty"` // "list"
	Name       string         `json:"name,omitempty"`     // "cta_url"
	Parameters *outParameters `json:"parameters,omitempty"`
}

type outButton struct {
	Type  string    `json:"type"`
	Reply outChoice `json:"reply"`
}

type outChoice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type outSection struct {
	Title string      `json:"title"`
	Rows  []outChoice `json:"rows"`
}

type outParameters struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// message is the WhatsApp form of the content, or a permanent refusal.
func (s Sender) message(c *batonv1.MessageContent) (*outMessage, error) {
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text:
		t := k.Text.GetText()
		return &outMessage{Type: "text", Text: &outText{Body: t, PreviewURL: hasURL(t)}}, nil
	case *batonv1.MessageContent_Attachment:
		return attachment(k.Attachment)
	case *batonv1.MessageContent_Location:
		l := k.Location
		return &outMessage{Type: "location", Location: &outLocation{
			Latitude:  strconv.FormatFloat(l.GetLatitude(), 'f', -1, 64),
			Longitude: strconv.FormatFloat(l.GetLongitude(), 'f', -1, 64),
			Name:      l.GetName(),
			Address:   l.GetAddress(),
		}}, nil
	case *batonv1.MessageContent_Buttons:
		return s.buttons(k.Buttons)
	case *batonv1.MessageContent_QuickReplies:
		var choices []outChoice
		for _, r := range k.QuickReplies.GetReplies() {
			choices = append(choices, choice(r.GetPayload(), r.GetTitle()))
		}
		return s.choices(k.QuickReplies.GetText(), choices)
	case *batonv1.MessageContent_Carousel:
		return nil, refuse("WhatsApp has no carousel of cards outside templates")
	case *batonv1.MessageContent_Postback:
		return nil, refuse("a postback is what a customer sends; it cannot be sent to one")
	case nil:
		return nil, refuse("the message has no content")
	default:
		return nil, refuse(fmt.Sprintf("content %T has no WhatsApp form", k))
	}
}

func hasURL(s string) bool {
	return strings.Contains(s, "https://") || strings.Contains(s, "http://")
}

func attachment(a *batonv1.Attachment) (*outMessage, error) {
	md := &outMedia{Link: a.GetUrl(), Caption: a.GetCaption()}
	if id, ok := MediaID(a.GetUrl()); ok {
		md = &outMedia{ID: id, Caption: a.GetCaption()}
	}
	if md.ID == "" && md.Link == "" {
		return nil, refuse("the attachment has no URL")
	}
	switch a.GetType() {
	case batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE:
		return &outMessage{Type: "image", Image: md}, nil
	case batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO:
		return &outMessage{Type: "video", Video: md}, nil
	case batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO:
		if md.Caption != "" {
			return nil, refuse("WhatsApp audio messages have no caption")
		}
		return &outMessage{Type: "audio", Audio: md}, nil
	case batonv1.AttachmentType_ATTACHMENT_TYPE_FILE:
		return &outMessage{Type: "document", Document: md}, nil
	}
	return nil, refuse(fmt.Sprintf("attachment type %v has no WhatsApp form", a.GetType()))
}

// buttons maps buttons that all carry payloads to reply buttons or a list, and a single URL
// button to a call-to-action URL message.
func (s Sender) buttons(b *batonv1.ButtonsContent) (*outMessage, error) {
	var choices []outChoice
	var urls []*batonv1.Button
	for _, btn := range b.GetButtons() {
		switch btn.GetAction().(type) {
		case *batonv1.Button_Url:
			urls = append(urls, btn)
		default:
			choices = append(choices, choice(btn.GetPayload(), btn.GetTitle()))
		}
	}
	switch {
	case len(urls) == 0:
		return s.choices(b.GetText(), choices)
	case len(urls) == 1 && len(choices) == 0:
		return &outMessage{Type: "interactive", Interactive: &outInteractive{
			Type: "cta_url",
			Body: outBody{Text: b.GetText()},
			Action: outAction{Name: "cta_url", Parameters: &outParameters{
				DisplayText: urls[0].GetTitle(), URL: urls[0].GetUrl(),
			}},
		}}, nil
	case len(choices) == 0:
		return nil, refuse(fmt.Sprintf("WhatsApp has one URL button per message, not %d", len(urls)))
	default:
		return nil, refuse("WhatsApp has no message with both URL and reply buttons")
	}
}

// choice is a reply button or list row: its id comes back as the postback's payload. WhatsApp
// requires an id; a choice without a payload has its title for one.
func choice(payload, title string) outChoice {
	if payload == "" {
		payload = title
	}
	return outChoice{ID: payload, Title: title}
}

// choices maps payload choices to reply buttons (up to 3) or a list (up to 10).
func (s Sender) choices(body string, choices []outChoice) (*outMessage, error) {
	switch n := len(choices); {
	case n == 0:
		return nil, refuse("the message has no buttons")
	case n <= maxReplyButtons:
		buttons := make([]outButton, n)
		for i, c := range choices {
			buttons[i] = outButton{Type: "reply", Reply: c}
		}
		return &outMessage{Type: "interactive", Interactive: &outInteractive{
			Type: "button", Body: outBody{Text: body}, Action: outAction{Buttons: buttons},
		}}, nil
	case n <= maxListRows:
		label := s.ListButton
		if label == "" {
			label = DefaultListButton
		}
		return &outMessage{Type: "interactive", Interactive: &outInteractive{
			Type: "list", Body: outBody{Text: body},
			Action: outAction{Button: label, Sections: []outSection{{Title: label, Rows: choices}}},
		}}, nil
	default:
		return nil, refuse(fmt.Sprintf("WhatsApp lists hold %d choices, not %d", maxListRows, n))
	}
}
