package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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

var (
	_ channel.Sender = Messenger{}
	_ channel.Sender = Instagram{}
)

// token has characters that must be escaped in a query.
const token = "EAAGm0PX4ZCps+/=BA tok&en"

func metaChannel(kind domain.ChannelKind) domain.Channel {
	return domain.Channel{ID: "ch_1", Kind: kind, ExternalID: "104857600000001", Credentials: domain.Credentials{AccessToken: token, AppSecret: "s", VerifyToken: "v"}}
}

// request is what the fake Send API received.
type request struct {
	method, path, token, contentType string
	body                             any
}

// fakeSendAPI is a Graph API on loopback that records each request and answers with status,
// header and body.
type fakeSendAPI struct {
	*httptest.Server
	requests chan request
}

func newFakeSendAPI(t *testing.T, status int, header http.Header, body string) *fakeSendAPI {
	t.Helper()
	f := &fakeSendAPI{requests: make(chan request, 10)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			v = "not JSON: " + string(b)
		}
		f.requests <- request{method: r.Method, path: r.URL.Path, token: r.URL.Query().Get("access_token"), contentType: r.Header.Get("Content-Type"), body: v}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// only is the one request the fake received.
func (f *fakeSendAPI) only(t *testing.T) request {
	t.Helper()
	select {
	case r := <-f.requests:
		select {
		case r2 := <-f.requests:
			t.Fatalf("a second request: %+v", r2)
		default:
		}
		return r
	default:
		t.Fatal("no request")
		return request{}
	}
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

const sent = `{"recipient_id":"6945201234567890","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"}`

func buttonsContent(text string, bs ...*batonv1.Button) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{Text: text, Buttons: bs}}}
}

func payloadButton(title, payload string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Payload{Payload: payload}}
}

func urlButton(title, url string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Url{Url: url}}
}

var (
	carousel = &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{Cards: []*batonv1.Card{
		{Title: "Blue Tee", Subtitle: "$24.00", ImageUrl: "https://example.com/tee.jpg", Buttons: []*batonv1.Button{
			urlButton("View", "https://example.com/tee"), payloadButton("Buy", "BUY_TEE"),
		}},
		{Title: "Gift card"},
	}}}}
	carouselJSON = `{"type":"template","payload":{"template_type":"generic","elements":[
		{"title":"Blue Tee","subtitle":"$24.00","image_url":"https://example.com/tee.jpg","buttons":[
			{"type":"web_url","title":"View","url":"https://example.com/tee"},
			{"type":"postback","title":"Buy","payload":"BUY_TEE"}]},
		{"title":"Gift card"}]}}`
	quickReplies = &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
		Text: "Pick a color:", Replies: []*batonv1.QuickReply{{Title: "Red", Payload: "COLOR_RED"}, {Title: "Green"}},
	}}}
	quickRepliesJSON = `"text":"Pick a color:","quick_replies":[
		{"content_type":"text","title":"Red","payload":"COLOR_RED"},
		{"content_type":"text","title":"Green","payload":"Green"}]`
)

func TestMessengerSend(t *testing.T) {
	for _, tc := range []struct {
		name     string
		out      channel.Outgoing
		wantBody string
	}{
		{"text", channel.Outgoing{BatonMessageID: "msg_1", Content: textContent("hello, world")},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{"text":"hello, world","metadata":"baton:msg_1"}}`},
		{"text without a Baton message id", channel.Outgoing{Content: textContent("hello")},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{"text":"hello"}}`},
		{"image", channel.Outgoing{BatonMessageID: "msg_2", Content: mediaContent(image, "https://example.com/a.png")},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{
				"attachment":{"type":"image","payload":{"url":"https://example.com/a.png","is_reusable":true}},"metadata":"baton:msg_2"}}`},
		{"file", channel.Outgoing{BatonMessageID: "msg_3", Content: mediaContent(file, "https://example.com/invoice.pdf")},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{
				"attachment":{"type":"file","payload":{"url":"https://example.com/invoice.pdf","is_reusable":true}},"metadata":"baton:msg_3"}}`},
		{"buttons", channel.Outgoing{BatonMessageID: "msg_4", Content: buttonsContent("What do you want to do next?",
			urlButton("Track", "https://example.com/track/42"), payloadButton("Talk to a human", "HANDOFF"))},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{"attachment":{"type":"template","payload":{
				"template_type":"button","text":"What do you want to do next?","buttons":[
					{"type":"web_url","title":"Track","url":"https://example.com/track/42"},
					{"type":"postback","title":"Talk to a human","payload":"HANDOFF"}]}},"metadata":"baton:msg_4"}}`},
		{"carousel", channel.Outgoing{BatonMessageID: "msg_5", Content: carousel},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{"attachment":` + carouselJSON + `,"metadata":"baton:msg_5"}}`},
		{"quick replies", channel.Outgoing{BatonMessageID: "msg_6", Content: quickReplies},
			`{"recipient":{"id":"6945201234567890"},"messaging_type":"RESPONSE","message":{` + quickRepliesJSON + `,"metadata":"baton:msg_6"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeSendAPI(t, http.StatusOK, nil, sent)
			s := Messenger{BaseURL: api.URL + "/v21.0", Client: api.Client()}
			id, err := s.Send(context.Background(), metaChannel(domain.ChannelMessenger), contact(psid), tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if id != "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM" {
				t.Errorf("message id %q", id)
			}
			want := request{method: http.MethodPost, path: "/v21.0/me/messages", token: token, contentType: "application/json", body: jsonValue(t, tc.wantBody)}
			if d := cmp.Diff(want, api.only(t), cmp.AllowUnexported(request{})); d != "" {
				t.Errorf("request (-want +got):\n%s", d)
			}
		})
	}
}

// TestMessengerSendToUserRef: a person known by a user_ref (Chat Plugin, Checkbox plugin) is
// addressed as recipient.user_ref; Meta's answer then has no recipient_id.
func TestMessengerSendToUserRef(t *testing.T) {
	api := newFakeSendAPI(t, http.StatusOK, nil, `{"message_id":"m_reply_to_plugin_user"}`)
	s := Messenger{BaseURL: api.URL + "/v21.0", Client: api.Client()}
	id, err := s.Send(context.Background(), metaChannel(domain.ChannelMessenger), contact(pluginUser), channel.Outgoing{BatonMessageID: "msg_1", Content: quickReplies})
	if err != nil {
		t.Fatal(err)
	}
	if id != "m_reply_to_plugin_user" {
		t.Errorf("message id %q", id)
	}
	want := request{method: http.MethodPost, path: "/v21.0/me/messages", token: token, contentType: "application/json", body: jsonValue(t,
		`{"recipient":{"user_ref":"cp_5c1f8e2a9d7b4e06"},"messaging_type":"RESPONSE","message":{`+quickRepliesJSON+`,"metadata":"baton:msg_1"}}`)}
	if d := cmp.Diff(want, api.only(t), cmp.AllowUnexported(request{})); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
}

func TestInstagramSend(t *testing.T) {
	for _, tc := range []struct {
		name     string
		out      channel.Outgoing
		wantBody string
	}{
		// Instagram's send request has neither messaging_type nor metadata.
		{"text", channel.Outgoing{BatonMessageID: "msg_1", Content: textContent("Yes! Which size?")},
			`{"recipient":{"id":"5837419012345678"},"message":{"text":"Yes! Which size?"}}`},
		{"image", channel.Outgoing{BatonMessageID: "msg_2", Content: mediaContent(image, "https://example.com/tee.jpg")},
			`{"recipient":{"id":"5837419012345678"},"message":{"attachment":{"type":"image","payload":{"url":"https://example.com/tee.jpg","is_reusable":true}}}}`},
		{"video", channel.Outgoing{Content: mediaContent(video, "https://example.com/a.mp4")},
			`{"recipient":{"id":"5837419012345678"},"message":{"attachment":{"type":"video","payload":{"url":"https://example.com/a.mp4","is_reusable":true}}}}`},
		{"audio", channel.Outgoing{Content: mediaContent(audio, "https://example.com/a.m4a")},
			`{"recipient":{"id":"5837419012345678"},"message":{"attachment":{"type":"audio","payload":{"url":"https://example.com/a.m4a","is_reusable":true}}}}`},
		{"buttons", channel.Outgoing{Content: buttonsContent("Anything else?", payloadButton("Talk to a human", "HANDOFF"))},
			`{"recipient":{"id":"5837419012345678"},"message":{"attachment":{"type":"template","payload":{
				"template_type":"button","text":"Anything else?","buttons":[{"type":"postback","title":"Talk to a human","payload":"HANDOFF"}]}}}}`},
		{"carousel", channel.Outgoing{Content: carousel},
			`{"recipient":{"id":"5837419012345678"},"message":{"attachment":` + carouselJSON + `}}`},
		{"quick replies", channel.Outgoing{Content: quickReplies},
			`{"recipient":{"id":"5837419012345678"},"message":{` + quickRepliesJSON + `}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeSendAPI(t, http.StatusOK, nil, `{"recipient_id":"5837419012345678","message_id":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE"}`)
			s := Instagram{BaseURL: api.URL + "/v21.0/", Client: api.Client()}
			id, err := s.Send(context.Background(), metaChannel(domain.ChannelInstagram), contact(igsid), tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if id != "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE" {
				t.Errorf("message id %q", id)
			}
			want := request{method: http.MethodPost, path: "/v21.0/me/messages", token: token, contentType: "application/json", body: jsonValue(t, tc.wantBody)}
			if d := cmp.Diff(want, api.only(t), cmp.AllowUnexported(request{})); d != "" {
				t.Errorf("request (-want +got):\n%s", d)
			}
		})
	}
}

// TestInstagramRefusesUserRef: user_refs come from Messenger's plugins; Instagram's Send API has
// no such recipient.
func TestInstagramRefusesUserRef(t *testing.T) {
	api := newFakeSendAPI(t, http.StatusOK, nil, sent)
	s := Instagram{BaseURL: api.URL, Client: api.Client()}
	_, err := s.Send(context.Background(), metaChannel(domain.ChannelInstagram), contact(pluginUser), channel.Outgoing{Content: textContent("hi")})
	var se *channel.SendError
	if !errors.As(err, &se) || se.Transient || !strings.Contains(se.Message, "user_ref") {
		t.Fatalf("got %v, want a permanent *channel.SendError about the user_ref", err)
	}
	select {
	case r := <-api.requests:
		t.Fatalf("a request was sent: %+v", r)
	default:
	}
}

// TestSendRefuses: content the channel cannot send fails for good, before any request.
func TestSendRefuses(t *testing.T) {
	withCaption := &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
		Type: image, Url: "https://example.com/a.png", Caption: "Our new tee",
	}}}
	fourButtons := buttonsContent("Pick", payloadButton("1", "1"), payloadButton("2", "2"), payloadButton("3", "3"), payloadButton("4", "4"))
	for _, tc := range []struct {
		name string
		ch   domain.Channel
		to   domain.Contact
		c    *batonv1.MessageContent
	}{
		{"location", metaChannel(domain.ChannelMessenger), contact(psid), &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{Latitude: 1, Longitude: 2}}}},
		{"postback", metaChannel(domain.ChannelMessenger), contact(psid), postbackContent("Buy", "BUY")},
		{"no content", metaChannel(domain.ChannelMessenger), contact(psid), nil},
		{"empty content", metaChannel(domain.ChannelMessenger), contact(psid), &batonv1.MessageContent{}},
		{"caption", metaChannel(domain.ChannelMessenger), contact(psid), withCaption},
		{"attachment of no type", metaChannel(domain.ChannelMessenger), contact(psid), mediaContent(batonv1.AttachmentType_ATTACHMENT_TYPE_UNSPECIFIED, "https://example.com/a")},
		{"four buttons", metaChannel(domain.ChannelMessenger), contact(psid), fourButtons},
		{"a button that does nothing", metaChannel(domain.ChannelMessenger), contact(psid), buttonsContent("Pick", &batonv1.Button{Title: "Nothing"})},
		{"an empty carousel", metaChannel(domain.ChannelMessenger), contact(psid), &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{}}}},
		{"no access token", domain.Channel{Kind: domain.ChannelMessenger}, contact(psid), textContent("hi")},
		{"no contact id", metaChannel(domain.ChannelMessenger), domain.Contact{}, textContent("hi")},
		{"an empty user_ref", metaChannel(domain.ChannelMessenger), contact(UserRefPrefix), textContent("hi")},
	} {
		for _, s := range []channel.Sender{Messenger{}, Instagram{}} {
			t.Run(fmt.Sprintf("%T/%s", s, tc.name), func(t *testing.T) {
				api := newFakeSendAPI(t, http.StatusOK, nil, sent)
				switch v := s.(type) {
				case Messenger:
					v.BaseURL, v.Client = api.URL, api.Client()
					s = v
				case Instagram:
					v.BaseURL, v.Client = api.URL, api.Client()
					s = v
				}
				_, err := s.Send(context.Background(), tc.ch, tc.to, channel.Outgoing{BatonMessageID: "msg_1", Content: tc.c})
				var se *channel.SendError
				if !errors.As(err, &se) || se.Transient || se.Message == "" {
					t.Fatalf("got %v, want a permanent *channel.SendError", err)
				}
				select {
				case r := <-api.requests:
					t.Fatalf("a request was sent: %+v", r)
				default:
				}
			})
		}
	}
}

func graphErr(code, subcode int, message string) string {
	e := map[string]any{"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AQ2lKD7UqnvqCrMs16fUNLk"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   channel.SendError
	}{
		{"outside the messaging window", 400, nil, graphErr(10, 2018278, "(#10) This message is sent outside of allowed window."),
			channel.SendError{Code: "10/2018278", Message: "(#10) This message is sent outside of allowed window."}},
		{"another app controls the thread", 400, nil, graphErr(10, 2018300, "(#10) Message failed to send because another app is controlling this thread now."),
			channel.SendError{Code: "10/2018300", Message: "(#10) Message failed to send because another app is controlling this thread now."}},
		{"invalid parameter", 400, nil, graphErr(100, 0, "(#100) Param recipient[id] must be a valid ID string"),
			channel.SendError{Code: "100", Message: "(#100) Param recipient[id] must be a valid ID string"}},
		{"no matching user", 400, nil, graphErr(100, 2018001, "(#100) No matching user found"),
			channel.SendError{Code: "100/2018001", Message: "(#100) No matching user found"}},
		{"person unavailable", 400, nil, graphErr(551, 1545041, "This person isn't available right now."),
			channel.SendError{Code: "551/1545041", Message: "This person isn't available right now."}},
		{"expired token", 401, nil, graphErr(190, 463, "Error validating access token: Session has expired"),
			channel.SendError{Code: "190/463", Message: "Error validating access token: Session has expired"}},
		{"missing permissions", 400, nil, graphErr(1, 99, "An unknown error occurred"),
			channel.SendError{Code: "1/99", Message: "An unknown error occurred"}},
		{"temporary", 500, nil, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"A"}}`,
			channel.SendError{Code: "2", Message: "An unexpected error has occurred. Please retry your request later.", Transient: true}},
		{"temporary send failure", 400, nil, graphErr(1200, 0, "Temporary send message failure. Please try again later."),
			channel.SendError{Code: "1200", Message: "Temporary send message failure. Please try again later.", Transient: true}},
		{"server error without a Graph error", 503, nil, `<html>Service Unavailable</html>`,
			channel.SendError{Message: "Messenger send API answered HTTP 503", Transient: true}},
		{"application rate limit", 400, nil, graphErr(4, 0, "(#4) Application request limit reached"),
			channel.SendError{Code: "4", Message: "(#4) Application request limit reached", Transient: true}},
		{"too many requests, with Retry-After", 429, http.Header{"Retry-After": {"30"}}, graphErr(4, 2018022, "Too many send requests to phone numbers"),
			channel.SendError{Code: "4/2018022", Message: "Too many send requests to phone numbers", Transient: true, RetryAfter: 30 * time.Second}},
		{"page rate limit", 400, nil, graphErr(32, 0, "Page request limit reached"),
			channel.SendError{Code: "32", Message: "Page request limit reached", Transient: true}},
		{"user rate limit", 400, nil, graphErr(17, 0, "User request limit reached"),
			channel.SendError{Code: "17", Message: "User request limit reached", Transient: true}},
		{"API rate limit, with the business use case usage", 400,
			http.Header{"X-Business-Use-Case-Usage": {`{"104857600000001":[{"type":"messenger","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":5}]}`}},
			graphErr(613, 0, "Calls to this api have exceeded the rate limit."),
			channel.SendError{Code: "613", Message: "Calls to this api have exceeded the rate limit.", Transient: true, RetryAfter: 5 * time.Minute}},
		{"API rate limit, with an estimate past the cap", 400,
			http.Header{"X-Business-Use-Case-Usage": {`{"1":[{"type":"messenger","estimated_time_to_regain_access":9223372036854775807}]}`}},
			graphErr(613, 0, "Calls to this api have exceeded the rate limit."),
			channel.SendError{Code: "613", Message: "Calls to this api have exceeded the rate limit.", Transient: true, RetryAfter: domain.MaxRetryAfter}},
		{"Messenger business use case rate limit", 400, nil, graphErr(80006, 0, "There have been too many messages sent to this user"),
			channel.SendError{Code: "80006", Message: "There have been too many messages sent to this user", Transient: true}},
		{"accepted without a message id", 200, nil, `{"recipient_id":"6945201234567890"}`,
			channel.SendError{Message: "Messenger send API answered HTTP 200 without a message_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeSendAPI(t, tc.status, tc.header, tc.body)
			s := Messenger{BaseURL: api.URL, Client: api.Client()}
			_, err := s.Send(context.Background(), metaChannel(domain.ChannelMessenger), contact(psid), channel.Outgoing{BatonMessageID: "msg_1", Content: textContent("hi")})
			var se *channel.SendError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *channel.SendError", err)
			}
			if d := cmp.Diff(tc.want, *se); d != "" {
				t.Errorf("SendError (-want +got):\n%s", d)
			}
		})
	}
}

func TestInstagramSendError(t *testing.T) {
	api := newFakeSendAPI(t, 400, nil, graphErr(10, 2534022, "(#10) This message is sent outside of allowed window."))
	_, err := Instagram{BaseURL: api.URL, Client: api.Client()}.Send(context.Background(), metaChannel(domain.ChannelInstagram), contact(igsid), channel.Outgoing{Content: textContent("hi")})
	var se *channel.SendError
	if !errors.As(err, &se) || se.Transient || se.Code != "10/2534022" {
		t.Fatalf("got %#v, want a permanent SendError with code 10/2534022", err)
	}
}

// checkTransport: a request that got no answer may work later, and the error does not show the
// access token that was in the URL.
func checkTransport(t *testing.T, err error) *channel.SendError {
	t.Helper()
	var se *channel.SendError
	if !errors.As(err, &se) || !se.Transient {
		t.Fatalf("got %v, want a transient *channel.SendError", err)
	}
	if strings.Contains(se.Error(), "EAAGm0PX4ZCps") || strings.Contains(se.Error(), "access_token") {
		t.Errorf("the error shows the access token: %v", se)
	}
	return se
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Messenger{BaseURL: "http://" + addr + "/v21.0"}.Send(context.Background(), metaChannel(domain.ChannelMessenger), contact(psid), channel.Outgoing{Content: textContent("hi")})
	checkTransport(t, err)
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	client := srv.Client()
	client.Timeout = 50 * time.Millisecond
	_, err := Messenger{BaseURL: srv.URL, Client: client}.Send(context.Background(), metaChannel(domain.ChannelMessenger), contact(psid), channel.Outgoing{Content: textContent("hi")})
	if se := checkTransport(t, err); !strings.Contains(se.Message, "timed out") {
		t.Errorf("the error does not say it timed out: %v", se)
	}
}

func TestSendConnectionDropped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	_, err := Instagram{BaseURL: srv.URL, Client: srv.Client()}.Send(context.Background(), metaChannel(domain.ChannelInstagram), contact(igsid), channel.Outgoing{Content: textContent("hi")})
	checkTransport(t, err)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSendDefaultsToTheGraphAPI(t *testing.T) {
	var got string
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(sent)), Header: http.Header{}}, nil
	})}
	if _, err := (Messenger{Client: client}).Send(context.Background(), metaChannel(domain.ChannelMessenger), contact(psid), channel.Outgoing{Content: textContent("hi")}); err != nil {
		t.Fatal(err)
	}
	if want := DefaultGraphURL + "/me/messages"; got != want {
		t.Errorf("posted to %s, want %s", got, want)
	}
}
