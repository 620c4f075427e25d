package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

const accessToken = "EAAJB3xZC0test"

var (
	waChannel = domain.Channel{
		ID: "ch_1", Kind: domain.ChannelWhatsApp, ExternalID: phoneID,
		Credentials: domain.Credentials{AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: accessToken},
	}
	recipient = domain.Contact{ID: "ct_1", ExternalID: sheena, DisplayName: "Sheena Nelson"}
)

// request is what the fake Cloud API received.
type request struct {
	Method, Path, Auth, ContentType string
	Body                            any
}

// cloudAPI is a fake Cloud API on loopback: it records each request and answers with the given
// status and body.
type cloudAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
}

func newCloudAPI(t *testing.T, status int, answer string, header http.Header) *cloudAPI {
	t.Helper()
	api := &cloudAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request: %v", err)
		}
		var body any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("the request body is not JSON: %v: %s", err, b)
		}
		api.mu.Lock()
		api.requests = append(api.requests, request{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
		api.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(api.Close)
	return api
}

func (api *cloudAPI) sender() Sender {
	return Sender{BaseURL: api.URL + "/v21.0", Client: api.Client()}
}

func (api *cloudAPI) received() []request {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]request(nil), api.requests...)
}

// sentOK is the Cloud API's answer to an accepted message.
const sentOK = `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NUNGOUQ3QkQzRkQzNzEwQjcA"}]}`

func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expected JSON: %v: %s", err, s)
	}
	return v
}

func buttonsContent(text string, buttons ...*batonv1.Button) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{Text: text, Buttons: buttons}}}
}

func payloadButton(title, payload string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Payload{Payload: payload}}
}

func urlButton(title, url string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Url{Url: url}}
}

func quickReplies(text string, pairs ...string) *batonv1.MessageContent {
	qr := &batonv1.QuickReplies{Text: text}
	for i := 0; i+1 < len(pairs); i += 2 {
		qr.Replies = append(qr.Replies, &batonv1.QuickReply{Title: pairs[i], Payload: pairs[i+1]})
	}
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: qr}}
}

func TestSend(t *testing.T) {
	const (
		image = batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE
		video = batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO
		audio = batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO
		file  = batonv1.AttachmentType_ATTACHMENT_TYPE_FILE
	)
	// head is the part of every body before the message itself.
	head := `"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",`
	tests := []struct {
		name       string
		listButton string
		content    *batonv1.MessageContent
		batonID    string
		body       string
	}{
		{"text", "", textContent("Does it come in another color?"), "msg_1",
			`{` + head + `"biz_opaque_callback_data":"msg_1","type":"text","text":{"body":"Does it come in another color?","preview_url":false}}`},
		{"text with a link", "", textContent("See https://www.luckyshrub.com/colors?a=1&b=2"), "",
			`{` + head + `"type":"text","text":{"body":"See https://www.luckyshrub.com/colors?a=1&b=2","preview_url":true}}`},
		{"image by link", "", attachmentContent(image, "https://www.luckyshrub.com/assets/succulents/aloe.png", "The best succulent ever?", "image/png"), "",
			`{` + head + `"type":"image","image":{"link":"https://www.luckyshrub.com/assets/succulents/aloe.png","caption":"The best succulent ever?"}}`},
		{"image by media id", "", attachmentContent(image, "whatsapp-media:1003383421387256", "", ""), "",
			`{` + head + `"type":"image","image":{"id":"1003383421387256"}}`},
		{"video", "", attachmentContent(video, "https://www.luckyshrub.com/media/unboxing.mp4", "Unboxing", ""), "",
			`{` + head + `"type":"video","video":{"link":"https://www.luckyshrub.com/media/unboxing.mp4","caption":"Unboxing"}}`},
		{"audio", "", attachmentContent(audio, "https://www.luckyshrub.com/media/hello.ogg", "", "audio/ogg"), "",
			`{` + head + `"type":"audio","audio":{"link":"https://www.luckyshrub.com/media/hello.ogg"}}`},
		{"document", "", attachmentContent(file, "https://www.luckyshrub.com/invoices/4573.pdf", "Invoice 4573", "application/pdf"), "",
			`{` + head + `"type":"document","document":{"link":"https://www.luckyshrub.com/invoices/4573.pdf","caption":"Invoice 4573"}}`},
		{"location", "", locationContent(37.44216251868683, -122.16153582049394, "Philz Coffee", "101 Forest Ave, Palo Alto, CA 94301"), "",
			`{` + head + `"type":"location","location":{"latitude":"37.44216251868683","longitude":"-122.16153582049394","name":"Philz Coffee","address":"101 Forest Ave, Palo Alto, CA 94301"}}`},
		{"location without a name", "", locationContent(-33.8688, 151.2093, "", ""), "",
			`{` + head + `"type":"location","location":{"latitude":"-33.8688","longitude":"151.2093"}}`},
		{"reply buttons", "", buttonsContent("Your workshop is at 9am tomorrow.",
			payloadButton("Change", "change-button"), payloadButton("Cancel", "cancel-button")), "msg_2",
			`{` + head + `"biz_opaque_callback_data":"msg_2","type":"interactive","interactive":{"type":"button","body":{"text":"Your workshop is at 9am tomorrow."},"action":{"buttons":[` +
				`{"type":"reply","reply":{"id":"change-button","title":"Change"}},{"type":"reply","reply":{"id":"cancel-button","title":"Cancel"}}]}}}`},
		{"quick replies as buttons", "", quickReplies("Was this helpful?", "Yes", "yes", "No", "no", "Agent", "agent"), "",
			`{` + head + `"type":"interactive","interactive":{"type":"button","body":{"text":"Was this helpful?"},"action":{"buttons":[` +
				`{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}},{"type":"reply","reply":{"id":"agent","title":"Agent"}}]}}}`},
		{"reply without a payload", "", quickReplies("Anything else?", "No, thanks", ""), "",
			`{` + head + `"type":"interactive","interactive":{"type":"button","body":{"text":"Anything else?"},"action":{"buttons":[` +
				`{"type":"reply","reply":{"id":"No, thanks","title":"No, thanks"}}]}}}`},
		{"quick replies as a list", "Shipping Options", quickReplies("Which shipping option do you prefer?",
			"Priority Mail Express", "priority_express", "Priority Mail", "priority_mail", "Ground", "ground", "Pick up", "pickup"), "",
			`{` + head + `"type":"interactive","interactive":{"type":"list","body":{"text":"Which shipping option do you prefer?"},"action":{"button":"Shipping Options","sections":[{"title":"Shipping Options","rows":[` +
				`{"id":"priority_express","title":"Priority Mail Express"},{"id":"priority_mail","title":"Priority Mail"},{"id":"ground","title":"Ground"},{"id":"pickup","title":"Pick up"}]}]}}}`},
		{"buttons as a list, default label", "", buttonsContent("Pick a size",
			payloadButton("XS", "xs"), payloadButton("S", "s"), payloadButton("M", "m"), payloadButton("L", "l")), "",
			`{` + head + `"type":"interactive","interactive":{"type":"list","body":{"text":"Pick a size"},"action":{"button":"Options","sections":[{"title":"Options","rows":[` +
				`{"id":"xs","title":"XS"},{"id":"s","title":"S"},{"id":"m","title":"M"},{"id":"l","title":"L"}]}]}}}`},
		{"one URL button", "", buttonsContent("Tap the button below to see available dates.", urlButton("See Dates", "https://www.luckyshrub.com?clickID=kqDGWd24Q5TRwoEQTICY7W1JKoXvaZOXWAS7h1P76s0R7Paec4")), "",
			`{` + head + `"type":"interactive","interactive":{"type":"cta_url","body":{"text":"Tap the button below to see available dates."},"action":{"name":"cta_url","parameters":` +
				`{"display_text":"See Dates","url":"https://www.luckyshrub.com?clickID=kqDGWd24Q5TRwoEQTICY7W1JKoXvaZOXWAS7h1P76s0R7Paec4"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newCloudAPI(t, http.StatusOK, sentOK, nil)
			s := api.sender()
			s.ListButton = tt.listButton
			id, err := s.Send(context.Background(), waChannel, recipient, channel.Outgoing{BatonMessageID: tt.batonID, Content: tt.content})
			if err != nil {
				t.Fatal(err)
			}
			if id != "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NUNGOUQ3QkQzRkQzNzEwQjcA" {
				t.Errorf("id = %q", id)
			}
			want := []request{{
				Method: http.MethodPost, Path: "/v21.0/106540352242922/messages",
				Auth: "Bearer " + accessToken, ContentType: "application/json",
				Body: jsonOf(t, tt.body),
			}}
			if diff := cmp.Diff(want, api.received()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendRefuses(t *testing.T) {
	many := quickReplies("Pick one", "1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6", "7", "7", "8", "8", "9", "9", "10", "10", "11", "11")
	carousel := &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{
		Cards: []*batonv1.Card{{Title: "Aloe", Buttons: []*batonv1.Button{payloadButton("Buy", "buy-aloe")}}},
	}}}
	noToken := waChannel
	noToken.Credentials.AccessToken = ""
	noPhone := waChannel
	noPhone.ExternalID = ""
	tests := []struct {
		name    string
		ch      domain.Channel
		to      domain.Contact
		content *batonv1.MessageContent
	}{
		{"carousel", waChannel, recipient, carousel},
		{"postback", waChannel, recipient, postbackContent("yes", "Yes")},
		{"no content", waChannel, recipient, nil},
		{"more than 10 choices", waChannel, recipient, many},
		{"two URL buttons", waChannel, recipient, buttonsContent("Links", urlButton("A", "https://a.example"), urlButton("B", "https://b.example"))},
		{"URL and reply buttons", waChannel, recipient, buttonsContent("Mixed", urlButton("A", "https://a.example"), payloadButton("B", "b"))},
		{"audio with a caption", waChannel, recipient, attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO, "https://a.example/a.ogg", "listen", "")},
		{"attachment without URL", waChannel, recipient, attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, "", "", "")},
		{"attachment without type", waChannel, recipient, attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_UNSPECIFIED, "https://a.example/a", "", "")},
		{"no access token", noToken, recipient, textContent("hi")},
		{"no phone number id", noPhone, recipient, textContent("hi")},
		{"no recipient", waChannel, domain.Contact{}, textContent("hi")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newCloudAPI(t, http.StatusOK, sentOK, nil)
			_, err := api.sender().Send(context.Background(), tt.ch, tt.to, channel.Outgoing{Content: tt.content})
			var se *channel.SendError
			if !errors.As(err, &se) || se.Transient || se.Message == "" {
				t.Fatalf("Send = %v, want a permanent *channel.SendError", err)
			}
			if n := len(api.received()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	graphError := func(code int, message, details string) string {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{
			"message": message, "type": "OAuthException", "code": code,
			"error_data": map[string]any{"messaging_product": "whatsapp", "details": details},
			"fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
		}})
		return string(b)
	}
	tests := []struct {
		name   string
		status int
		answer string
		header http.Header
		want   channel.SendError
	}{
		{"re-engagement", http.StatusBadRequest,
			graphError(131047, "(#131047) Re-engagement message", "Message failed to send because more than 24 hours have passed since the recipient last replied to this number."), nil,
			channel.SendError{Code: "131047", Message: "(#131047) Re-engagement message: Message failed to send because more than 24 hours have passed since the recipient last replied to this number."}},
		{"undeliverable", http.StatusBadRequest, graphError(131026, "(#131026) Message Undeliverable.", ""), nil,
			channel.SendError{Code: "131026", Message: "(#131026) Message Undeliverable."}},
		{"invalid parameter", http.StatusBadRequest, graphError(100, "(#100) Invalid parameter", "Parameter value is not valid"), nil,
			channel.SendError{Code: "100", Message: "(#100) Invalid parameter: Parameter value is not valid"}},
		{"expired token", http.StatusUnauthorized, graphError(190, "Error validating access token: Session has expired.", ""), nil,
			channel.SendError{Code: "190", Message: "Error validating access token: Session has expired."}},
		{"rate limit", http.StatusBadRequest, graphError(130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."), http.Header{"Retry-After": {"30"}},
			channel.SendError{Code: "130429", Message: "(#130429) Rate limit hit: Cloud API message throughput has been reached.", Transient: true, RetryAfter: 30 * time.Second}},
		{"pair rate limit", http.StatusBadRequest, graphError(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit", ""), nil,
			channel.SendError{Code: "131056", Message: "(#131056) (Business Account, Consumer Account) pair rate limit hit", Transient: true}},
		{"service unavailable", http.StatusServiceUnavailable, graphError(131016, "(#131016) Service unavailable", "A service is temporarily unavailable."), nil,
			channel.SendError{Code: "131016", Message: "(#131016) Service unavailable: A service is temporarily unavailable.", Transient: true}},
		{"something went wrong", http.StatusInternalServerError, graphError(131000, "(#131000) Something went wrong", ""), nil,
			channel.SendError{Code: "131000", Message: "(#131000) Something went wrong", Transient: true}},
		{"5xx without a Graph error", http.StatusBadGateway, `<html>Bad Gateway</html>`, nil,
			channel.SendError{Message: `WhatsApp answered HTTP 502: "<html>Bad Gateway</html>"`, Transient: true}},
		{"429 without a Graph error", http.StatusTooManyRequests, ``, nil,
			channel.SendError{Message: `WhatsApp answered HTTP 429: ""`, Transient: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newCloudAPI(t, tt.status, tt.answer, tt.header)
			_, err := api.sender().Send(context.Background(), waChannel, recipient, channel.Outgoing{Content: textContent("hi")})
			var se *channel.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want a *channel.SendError", err)
			}
			if diff := cmp.Diff(tt.want, *se); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendTransportFailures(t *testing.T) {
	send := func(ctx context.Context, s Sender) error {
		_, err := s.Send(ctx, waChannel, recipient, channel.Outgoing{Content: textContent("hi")})
		return err
	}
	transient := func(t *testing.T, err error) {
		t.Helper()
		var se *channel.SendError
		if !errors.As(err, &se) || !se.Transient {
			t.Fatalf("Send = %v, want a transient *channel.SendError", err)
		}
	}

	t.Run("connection dropped", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		}))
		defer srv.Close()
		transient(t, send(context.Background(), Sender{BaseURL: srv.URL, Client: srv.Client()}))
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base, client := srv.URL, srv.Client()
		srv.Close()
		transient(t, send(context.Background(), Sender{BaseURL: base, Client: client}))
	})
	t.Run("deadline passed", func(t *testing.T) {
		api := newCloudAPI(t, http.StatusOK, sentOK, nil)
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		transient(t, send(ctx, api.sender()))
	})
	t.Run("canceled", func(t *testing.T) {
		api := newCloudAPI(t, http.StatusOK, sentOK, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := send(ctx, api.sender())
		var se *channel.SendError
		if !errors.Is(err, context.Canceled) || errors.As(err, &se) {
			t.Fatalf("Send = %v, want context.Canceled", err)
		}
	})
	t.Run("accepted without an id", func(t *testing.T) {
		api := newCloudAPI(t, http.StatusOK, `{"messaging_product":"whatsapp","messages":[]}`, nil)
		err := send(context.Background(), api.sender())
		var se *channel.SendError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("Send = %v, want an error that is no refusal", err)
		}
	})
}
