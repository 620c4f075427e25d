package telegram

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
)

// DefaultBaseURL is the Bot API's address.
const DefaultBaseURL = "https://api.telegram.org"

// MaxCallbackData is the most bytes an inline keyboard button's callback_data may hold (the Bot
// API takes 1-64 bytes): a button's or quick reply's payload must fit.
const MaxCallbackData = 64

// QuickRepliesPerRow is how many quick replies share a row of their inline keyboard.
const QuickRepliesPerRow = 3

// defaultClient is used when Sender.Client is nil.
var defaultClient = &http.Client{Timeout: 30 * time.Second}

// maxAnswer bounds the Bot API answers read.
const maxAnswer = 1 << 20

// Sender sends messages with the Bot API: a JSON POST to {BaseURL}/bot<token>/<method>, the
// token being the channel's AccessToken and the recipient the contact's ExternalID (a chat id).
//
//   - TextContent: sendMessage{chat_id, text} (plain text: no parse_mode).
//   - ButtonsContent: sendMessage with an inline keyboard, one button a row: a payload button
//     has callback_data (1 to 64 bytes, or the message is refused), a URL button a url.
//   - QuickReplies: sendMessage with an inline keyboard too, QuickRepliesPerRow buttons a row,
//     each with its payload as callback_data. An inline keyboard rather than a one-time reply
//     keyboard, because a reply keyboard's tap comes back as the title's text and loses the
//     payload, while a callback query carries it (and Parse turns it into a Postback).
//   - Attachment: sendPhoto, sendVideo, sendAudio or sendDocument by type, with the caption; a
//     FileURL is sent as its file_id, an http(s) URL for Telegram to fetch.
//   - Location: sendLocation{latitude, longitude}; sendVenue when it has a name and an address.
//   - Carousel and Postback: refused, Telegram having no such message.
//
// Send returns the sent message's id as Parse writes inbound ones: "<chat id>:<message_id>".
// Telegram's refusals are *channel.SendError with the error_code as Code and the description as
// Message: 429 (flood control) is transient with RetryAfter from parameters.retry_after, 5xx
// transient, and the rest permanent (400 chat not found or bad request, 401 bad token, 403 the
// user blocked the bot). A call that gets no answer (timeout, connection error) is a transient
// SendError. Telegram has no metadata to carry Outgoing.BatonMessageID, and echoes nothing.
type Sender struct {
	// BaseURL is the Bot API's address: DefaultBaseURL when empty.
	BaseURL string
	// Client makes the calls: a client with a 30-second timeout when nil.
	Client *http.Client
}

var _ channel.Sender = Sender{}

// Send delivers m to the contact's chat.
func (s Sender) Send(ctx context.Context, ch domain.Channel, to domain.Contact, m channel.Outgoing) (string, error) {
	token := ch.Credentials.AccessToken
	if token == "" {
		return "", permanent("the channel has no bot token (access token)")
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune("/?#%", r) }) {
		return "", permanent("the channel's bot token is malformed")
	}
	chatID, err := strconv.ParseInt(to.ExternalID, 10, 64)
	if err != nil || chatID == 0 {
		return "", permanent(fmt.Sprintf("%q is not a Telegram chat id", to.ExternalID))
	}
	method, params, err := request(chatID, m.Content)
	if err != nil {
		return "", err
	}
	res, err := s.call(ctx, token, method, params)
	if err != nil {
		return "", err
	}
	var sent struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(res, &sent); err != nil || sent.MessageID == 0 {
		// Telegram took the message: sending it again would send it twice.
		return "", fmt.Errorf("telegram %s: the answer has no message_id: %s", method, truncate(res))
	}
	return fmt.Sprintf("%d:%d", chatID, sent.MessageID), nil
}

func permanent(msg string) *channel.SendError { return &channel.SendError{Message: msg} }

// Request parameters of the send methods.
type (
	sendMessage struct {
		ChatID      int64                 `json:"chat_id"`
		Text        string                `json:"text"`
		ReplyMarkup *inlineKeyboardMarkup `json:"reply_markup,omitempty"`
	}
	sendLocation struct {
		ChatID    int64   `json:"chat_id"`
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	}
	sendVenue struct {
		ChatID    int64   `json:"chat_id"`
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Title     string  `json:"title"`
		Address   string  `json:"address"`
	}
)

// request is the method and parameters that send c to a chat.
func request(chatID int64, c *batonv1.MessageContent) (string, any, error) {
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text:
		return "sendMessage", sendMessage{ChatID: chatID, Text: k.Text.GetText()}, nil

	case *batonv1.MessageContent_Buttons:
		kb := &inlineKeyboardMarkup{}
		for _, b := range k.Buttons.GetButtons() {
			btn := inlineKeyboardButton{Text: b.GetTitle()}
			switch a := b.GetAction().(type) {
			case *batonv1.Button_Payload:
				if err := checkCallbackData(b.GetTitle(), a.Payload); err != nil {
					return "", nil, err
				}
				btn.CallbackData = a.Payload
			case *batonv1.Button_Url:
				btn.URL = a.Url
			default:
				return "", nil, permanent(fmt.Sprintf("button %q has neither a payload nor a URL", b.GetTitle()))
			}
			kb.InlineKeyboard = append(kb.InlineKeyboard, []inlineKeyboardButton{btn})
		}
		return "sendMessage", sendMessage{ChatID: chatID, Text: k.Buttons.GetText(), ReplyMarkup: kb}, nil

	case *batonv1.MessageContent_QuickReplies:
		kb := &inlineKeyboardMarkup{}
		for i, q := range k.QuickReplies.GetReplies() {
			if err := checkCallbackData(q.GetTitle(), q.GetPayload()); err != nil {
				return "", nil, err
			}
			if i%QuickRepliesPerRow == 0 {
				kb.InlineKeyboard = append(kb.InlineKeyboard, nil)
			}
			row := &kb.InlineKeyboard[len(kb.InlineKeyboard)-1]
			*row = append(*row, inlineKeyboardButton{Text: q.GetTitle(), CallbackData: q.GetPayload()})
		}
		return "sendMessage", sendMessage{ChatID: chatID, Text: k.QuickReplies.GetText(), ReplyMarkup: kb}, nil

	case *batonv1.MessageContent_Attachment:
		return attachmentRequest(chatID, k.Attachment)

	case *batonv1.MessageContent_Location:
		l := k.Location
		if l.GetName() != "" && l.GetAddress() != "" {
			return "sendVenue", sendVenue{ChatID: chatID, Latitude: l.GetLatitude(), Longitude: l.GetLongitude(), Title: l.GetName(), Address: l.GetAddress()}, nil
		}
		return "sendLocation", sendLocation{ChatID: chatID, Latitude: l.GetLatitude(), Longitude: l.GetLongitude()}, nil

	case *batonv1.MessageContent_Carousel:
		return "", nil, permanent("Telegram has no carousels: send the cards as separate messages")
	case *batonv1.MessageContent_Postback:
		return "", nil, permanent("a postback is what a customer sends; it cannot be sent to one")
	default:
		return "", nil, permanent("the message has no content")
	}
}

func checkCallbackData(title, payload string) error {
	if n := len(payload); n == 0 || n > MaxCallbackData {
		return permanent(fmt.Sprintf("the payload of %q is %d bytes: Telegram's callback_data takes 1 to %d bytes", title, n, MaxCallbackData))
	}
	return nil
}

// attachmentRequest sends a file with the method of its type, by file_id or by URL.
func attachmentRequest(chatID int64, a *batonv1.Attachment) (string, any, error) {
	var method, field string
	switch a.GetType() {
	case batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE:
		method, field = "sendPhoto", "photo"
	case batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO:
		method, field = "sendVideo", "video"
	case batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO:
		method, field = "sendAudio", "audio"
	case batonv1.AttachmentType_ATTACHMENT_TYPE_FILE:
		method, field = "sendDocument", "document"
	default:
		return "", nil, permanent(fmt.Sprintf("attachment type %v cannot be sent", a.GetType()))
	}
	file, ok := FileID(a.GetUrl())
	if !ok {
		u, err := url.Parse(a.GetUrl())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", nil, permanent(fmt.Sprintf("Telegram fetches attachments by http(s) URL or %s: URL, not %q", FileScheme, a.GetUrl()))
		}
		file = a.GetUrl()
	}
	params := map[string]any{"chat_id": chatID, field: file}
	if a.GetCaption() != "" {
		params["caption"] = a.GetCaption()
	}
	return method, params, nil
}

// answer is the Bot API's response object.
type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int64 `json:"retry_after"`
	} `json:"parameters"`
}

// call POSTs params to a Bot API method and returns its result.
func (s Sender) call(ctx context.Context, token, method string, params any) (json.RawMessage, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, permanent(fmt.Sprintf("encoding %s: %v", method, err))
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/bot"+token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, permanent(redact(fmt.Sprintf("building the %s request: %v", method, err), token))
	}
	req.Header.Set("Content-Type", "application/json")
	client := s.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// A *url.Error names the URL, and with it the token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &channel.SendError{Message: redact(fmt.Sprintf("calling Telegram's %s: %v", method, err), token), Transient: true}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &channel.SendError{Message: redact(fmt.Sprintf("reading Telegram's %s answer: %v", method, err), token), Transient: true}
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		if resp.StatusCode/100 == 2 {
			return nil, fmt.Errorf("telegram %s: HTTP %d with an answer that is not JSON: %s", method, resp.StatusCode, truncate(raw))
		}
		return nil, refusal(resp.StatusCode, fmt.Sprintf("Telegram answered HTTP %d", resp.StatusCode), 0)
	}
	if a.OK {
		return a.Result, nil
	}
	code := a.ErrorCode
	if code == 0 {
		code = resp.StatusCode
	}
	desc := a.Description
	if desc == "" {
		desc = fmt.Sprintf("Telegram refused %s", method)
	}
	var retryAfter int64
	if a.Parameters != nil {
		retryAfter = a.Parameters.RetryAfter
	}
	return nil, refusal(code, redact(desc, token), retryAfter)
}

// refusal classifies a Bot API error code: flood control (429) and server errors may pass
// later; the rest (400 bad request or chat not found, 401, 403 blocked by the user, 404...)
// will not.
func refusal(code int, msg string, retryAfter int64) *channel.SendError {
	e := &channel.SendError{Code: strconv.Itoa(code), Message: msg}
	switch {
	case code == http.StatusTooManyRequests:
		e.Transient = true
		if retryAfter > 0 {
			e.RetryAfter = time.Duration(retryAfter) * time.Second
		}
	case code >= 500:
		e.Transient = true
	}
	return e
}

func redact(s, token string) string { return strings.ReplaceAll(s, token, "<token>") }

func truncate(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
