package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

const testToken = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

var (
	testChannel = domain.Channel{ID: "tg", Kind: domain.ChannelTelegram, Credentials: domain.Credentials{AccessToken: testToken}}
	testContact = domain.Contact{ExternalID: "1111111"}
)

// recorded is a request the fake Bot API received.
type recorded struct {
	method, path, contentType string
	body                      []byte
}

// fakeBotAPI serves a canned answer and reports each request it gets on the returned channel.
func fakeBotAPI(t *testing.T, status int, answer string) (Sender, <-chan recorded) {
	t.Helper()
	got := make(chan recorded, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- recorded{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: body}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return Sender{BaseURL: srv.URL, Client: srv.Client()}, got
}

// sentAnswer is Telegram's answer to a successful send: the sent Message.
const sentAnswer = `{"ok":true,"result":{"message_id":4242,"from":{"id":7654321,"is_bot":true,"first_name":"Baton Bot"},"chat":{"id":1111111,"type":"private","first_name":"Test Firstname"},"date":1441645600,"text":"x"}}`

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	return v
}

func TestSend(t *testing.T) {
	buttons := &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{
		Text: "How can we help?",
		Buttons: []*batonv1.Button{
			{Title: "Billing", Action: &batonv1.Button_Payload{Payload: "TOPIC_BILLING"}},
			{Title: "Our site", Action: &batonv1.Button_Url{Url: "https://example.com/"}},
		},
	}}}
	quick := &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
		Text: "Pick one",
		Replies: []*batonv1.QuickReply{
			{Title: "A", Payload: "PA"}, {Title: "B", Payload: "PB"}, {Title: "C", Payload: "PC"}, {Title: "D", Payload: "PD"},
		},
	}}}
	tests := []struct {
		name     string
		content  *batonv1.MessageContent
		wantPath string
		wantBody string
	}{
		{"text", text("Hello <b>there</b> & welcome"), "/bot" + testToken + "/sendMessage",
			`{"chat_id":1111111,"text":"Hello <b>there</b> & welcome"}`},
		{"buttons", buttons, "/bot" + testToken + "/sendMessage",
			`{"chat_id":1111111,"text":"How can we help?","reply_markup":{"inline_keyboard":[
				[{"text":"Billing","callback_data":"TOPIC_BILLING"}],
				[{"text":"Our site","url":"https://example.com/"}]]}}`},
		{"quick replies", quick, "/bot" + testToken + "/sendMessage",
			`{"chat_id":1111111,"text":"Pick one","reply_markup":{"inline_keyboard":[
				[{"text":"A","callback_data":"PA"},{"text":"B","callback_data":"PB"},{"text":"C","callback_data":"PC"}],
				[{"text":"D","callback_data":"PD"}]]}}`},
		{"photo by URL", attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, "https://example.com/a.png", "A cat", "image/png"), "/bot" + testToken + "/sendPhoto",
			`{"chat_id":1111111,"photo":"https://example.com/a.png","caption":"A cat"}`},
		{"photo by file_id", attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, "telegram-file:AgACAgQAAxkBAAIBc2Large", "", ""), "/bot" + testToken + "/sendPhoto",
			`{"chat_id":1111111,"photo":"AgACAgQAAxkBAAIBc2Large"}`},
		{"video", attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO, "https://example.com/v.mp4", "", ""), "/bot" + testToken + "/sendVideo",
			`{"chat_id":1111111,"video":"https://example.com/v.mp4"}`},
		{"audio", attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO, "https://example.com/a.mp3", "Song", ""), "/bot" + testToken + "/sendAudio",
			`{"chat_id":1111111,"audio":"https://example.com/a.mp3","caption":"Song"}`},
		{"document", attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, "telegram-file:AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", "", "application/pdf"), "/bot" + testToken + "/sendDocument",
			`{"chat_id":1111111,"document":"AwADBAADbXXXXXXXXXXXGBdhD2l6_XX"}`},
		{"location", place(52.520008, 13.404954, "", ""), "/bot" + testToken + "/sendLocation",
			`{"chat_id":1111111,"latitude":52.520008,"longitude":13.404954}`},
		{"venue", place(48.85837, 2.294481, "Eiffel Tower", "Champ de Mars, Paris"), "/bot" + testToken + "/sendVenue",
			`{"chat_id":1111111,"latitude":48.85837,"longitude":2.294481,"title":"Eiffel Tower","address":"Champ de Mars, Paris"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reqs := fakeBotAPI(t, http.StatusOK, sentAnswer)
			id, err := s.Send(context.Background(), testChannel, testContact, channel.Outgoing{BatonMessageID: "m1", Content: tt.content})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if id != "1111111:4242" {
				t.Errorf("Send = %q, want 1111111:4242", id)
			}
			r := <-reqs
			if r.method != http.MethodPost || r.path != tt.wantPath || r.contentType != "application/json" {
				t.Errorf("request %s %s (%s), want POST %s (application/json)", r.method, r.path, r.contentType, tt.wantPath)
			}
			if diff := cmp.Diff(jsonValue(t, []byte(tt.wantBody)), jsonValue(t, r.body)); diff != "" {
				t.Errorf("request body %s (-want +got):\n%s", r.body, diff)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		answer string
		want   channel.SendError
	}{
		{"flood control", http.StatusTooManyRequests,
			`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`,
			channel.SendError{Code: "429", Message: "Too Many Requests: retry after 35", Transient: true, RetryAfter: 35 * time.Second}},
		{"blocked by the user", http.StatusForbidden,
			`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
			channel.SendError{Code: "403", Message: "Forbidden: bot was blocked by the user"}},
		{"chat not found", http.StatusBadRequest,
			`{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`,
			channel.SendError{Code: "400", Message: "Bad Request: chat not found"}},
		{"bad token", http.StatusUnauthorized,
			`{"ok":false,"error_code":401,"description":"Unauthorized"}`,
			channel.SendError{Code: "401", Message: "Unauthorized"}},
		{"server error", http.StatusInternalServerError,
			`{"ok":false,"error_code":500,"description":"Internal Server Error"}`,
			channel.SendError{Code: "500", Message: "Internal Server Error", Transient: true}},
		{"gateway not JSON", http.StatusBadGateway, `<html>502 Bad Gateway</html>`,
			channel.SendError{Code: "502", Message: "Telegram answered HTTP 502", Transient: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reqs := fakeBotAPI(t, tt.status, tt.answer)
			_, err := s.Send(context.Background(), testChannel, testContact, channel.Outgoing{Content: text("hi")})
			<-reqs
			var se *channel.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send error %v, want a *channel.SendError", err)
			}
			if diff := cmp.Diff(tt.want, *se); diff != "" {
				t.Errorf("SendError (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSendRefused checks what is refused before calling Telegram.
func TestSendRefused(t *testing.T) {
	longPayload := strings.Repeat("x", MaxCallbackData+1)
	tests := []struct {
		name     string
		ch       domain.Channel
		to       domain.Contact
		content  *batonv1.MessageContent
		wantText string
	}{
		{"button payload over 64 bytes", testChannel, testContact, &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{
			Text: "t", Buttons: []*batonv1.Button{{Title: "Go", Action: &batonv1.Button_Payload{Payload: longPayload}}},
		}}}, "1 to 64 bytes"},
		{"quick reply payload over 64 bytes", testChannel, testContact, &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
			Text: "t", Replies: []*batonv1.QuickReply{{Title: "Go", Payload: longPayload}},
		}}}, "1 to 64 bytes"},
		{"empty quick reply payload", testChannel, testContact, &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
			Text: "t", Replies: []*batonv1.QuickReply{{Title: "Go"}},
		}}}, "1 to 64 bytes"},
		{"carousel", testChannel, testContact, &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{
			Cards: []*batonv1.Card{{Title: "c"}},
		}}}, "no carousels"},
		{"postback", testChannel, testContact, postback("t", "p"), "postback"},
		{"no content", testChannel, testContact, nil, "no content"},
		{"unspecified attachment", testChannel, testContact, attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_UNSPECIFIED, "https://example.com/a", "", ""), "cannot be sent"},
		{"attachment URL not http", testChannel, testContact, attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, "ftp://example.com/a", "", ""), "http(s) URL"},
		{"no token", domain.Channel{}, testContact, text("hi"), "no bot token"},
		{"malformed token", domain.Channel{Credentials: domain.Credentials{AccessToken: "1/../x"}}, testContact, text("hi"), "malformed"},
		{"not a chat id", testChannel, domain.Contact{ExternalID: "@someone"}, text("hi"), "not a Telegram chat id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("unexpected call %s", r.URL.Path)
			}))
			defer srv.Close()
			_, err := Sender{BaseURL: srv.URL, Client: srv.Client()}.Send(context.Background(), tt.ch, tt.to, channel.Outgoing{Content: tt.content})
			var se *channel.SendError
			if !errors.As(err, &se) || se.Transient || !strings.Contains(se.Message, tt.wantText) {
				t.Errorf("Send error %#v, want a permanent SendError mentioning %q", err, tt.wantText)
			}
		})
	}
}

func TestSendUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	_, err := Sender{BaseURL: base}.Send(context.Background(), testChannel, testContact, channel.Outgoing{Content: text("hi")})
	var se *channel.SendError
	if !errors.As(err, &se) || !se.Transient {
		t.Fatalf("Send error %v, want a transient SendError", err)
	}
	if strings.Contains(se.Error(), testToken) {
		t.Errorf("the error %q shows the bot token", se.Error())
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // answers only once the test is over
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Sender{BaseURL: srv.URL, Client: srv.Client()}.Send(ctx, testChannel, testContact, channel.Outgoing{Content: text("hi")})
	var se *channel.SendError
	if !errors.As(err, &se) || !se.Transient {
		t.Fatalf("Send error %v, want a transient SendError", err)
	}
	if strings.Contains(se.Error(), testToken) {
		t.Errorf("the error %q shows the bot token", se.Error())
	}
}

func TestSendAcceptedWithoutMessageID(t *testing.T) {
	s, reqs := fakeBotAPI(t, http.StatusOK, `{"ok":true,"result":true}`)
	_, err := s.Send(context.Background(), testChannel, testContact, channel.Outgoing{Content: text("hi")})
	<-reqs
	var se *channel.SendError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("Send error %v, want an error that is not a refusal (Telegram took the message)", err)
	}
}
