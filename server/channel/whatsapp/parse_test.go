package whatsapp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// Values of Meta's samples, used throughout the fixtures.
const (
	phoneID  = "106540352242922" // the business phone number id: the channel's ExternalID
	phoneID2 = "106540352242923"
	sheena   = "16505551234"
	pablo    = "16315551181"
	// outbound is the id of a message the business sent.
	outbound = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NUNGOUQ3QkQzRkQzNzEwQjcA"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func textContent(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

func attachmentContent(typ batonv1.AttachmentType, url, caption, mime string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
		Type: typ, Url: url, Caption: caption, MimeType: mime,
	}}}
}

func postbackContent(payload, title string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Payload: payload, Title: title}}}
}

func locationContent(lat, lng float64, name, address string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
		Latitude: lat, Longitude: lng, Name: name, Address: address,
	}}}
}

func customer(id, name string) domain.Contact {
	return domain.Contact{ExternalID: id, DisplayName: name}
}

// want is an expected item; an expected error is a sentinel and words of its text.
type want struct {
	Item
	errIs       error
	errContains string
}

func inbound(phone, id string, from domain.Contact, c *batonv1.MessageContent) want {
	return want{Item: Item{PhoneNumberID: phone, Update: channel.Update{
		Kind: channel.UpdateMessage, Contact: from, ChannelMessageID: id, Content: c,
	}}}
}

func statusOf(phone, id, to string, s domain.DeliveryStatus) want {
	return want{Item: Item{PhoneNumberID: phone, Update: channel.Update{
		Kind: channel.UpdateStatus, Contact: customer(to, ""), ChannelMessageID: id, Status: s,
	}}}
}

func failure(it Item, is error, contains string) want {
	return want{Item: it, errIs: is, errContains: contains}
}

func TestParse(t *testing.T) {
	const (
		image = batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE
		video = batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO
		audio = batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO
		file  = batonv1.AttachmentType_ATTACHMENT_TYPE_FILE
	)
	sent := statusOf(phoneID, outbound, sheena, domain.DeliverySent)
	sent.BatonMessageID = "msg_01JY8ZK3N6V1X0M4T5QW2R7B9C"
	delivered := statusOf(phoneID, outbound, sheena, domain.DeliveryDelivered)
	delivered.BatonMessageID = "msg_01JY8ZK3N6V1X0M4T5QW2R7B9C"
	failedStatus := statusOf(phoneID, outbound, sheena, domain.DeliveryFailed)
	failedStatus.Error = "Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number. (code 131047)"

	tests := []struct {
		fixture string
		want    []want
	}{
		{"text.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", customer(sheena, "Sheena Nelson"),
				textContent("Does it come in another color?")),
		}},
		{"image.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMQA=", customer(sheena, "Sheena Nelson"),
				attachmentContent(image, "whatsapp-media:1003383421387256", "This is how the plant arrived", "image/jpeg")),
		}},
		{"document.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMgA=", customer(sheena, "Sheena Nelson"),
				attachmentContent(file, "whatsapp-media:1091237682398176", "Receipt for order 4573", "application/pdf")),
		}},
		{"media.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMwA=", customer(sheena, "Sheena Nelson"),
				attachmentContent(video, "whatsapp-media:1166846181421424", "Unboxing", "video/mp4")),
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxNAA=", customer(sheena, "Sheena Nelson"),
				attachmentContent(audio, "whatsapp-media:1012349871098634", "", "audio/ogg; codecs=opus")),
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxNQA=", customer(sheena, "Sheena Nelson"),
				attachmentContent(image, "whatsapp-media:1233245691384562", "", "image/webp")),
		}},
		{"location.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxNgA=", customer(sheena, "Sheena Nelson"),
				locationContent(37.44216251868683, -122.16153582049394, "Philz Coffee", "101 Forest Ave, Palo Alto, CA 94301")),
		}},
		{"button_reply.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxNwA=", customer(sheena, "Sheena Nelson"),
				postbackContent("cancel-button", "Cancel")),
		}},
		{"list_reply.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxOAA=", customer(sheena, "Sheena Nelson"),
				postbackContent("priority_express", "Priority Mail Express")),
		}},
		{"template_button.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxOQA=", customer(sheena, "Sheena Nelson"),
				postbackContent("unsubscribe-promotions", "Stop promotions")),
		}},
		{"status_sent.json", []want{sent}},
		{"status_delivered.json", []want{delivered}},
		{"status_read.json", []want{statusOf(phoneID, outbound, sheena, domain.DeliveryRead)}},
		{"status_failed.json", []want{failedStatus}},
		{"echo.json", []want{{Item: Item{PhoneNumberID: phoneID, Update: channel.Update{
			Kind: channel.UpdateEcho, Contact: customer(sheena, ""),
			ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
			Content:          textContent("Here's the info you requested! https://www.meta.com/quest/quest-3/"),
		}}}}},
		{"unsupported.json", []want{failure(Item{PhoneNumberID: phoneID, Update: channel.Update{
			Kind: channel.UpdateMessage, Contact: customer(sheena, "Sheena Nelson"),
			ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMyMAA=",
		}}, ErrUnsupported, "Message type unknown: Message type is currently not supported. (code 131051)")}},
		{"batch.json", []want{
			inbound(phoneID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMyMQA=", customer(sheena, "Sheena Nelson"),
				textContent("Hi, is my order on its way?")),
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{
				Kind: channel.UpdateMessage, Contact: customer(pablo, "Pablo Morales"),
				ChannelMessageID: "wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUI5RjE2NUE3RDNCNjhDRUQ2QgA=",
			}}, ErrMalformed, "entry 1, change 1, messages 2"),
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{
				Kind: channel.UpdateMessage, Contact: customer(sheena, "Sheena Nelson"),
				ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMyMgA=",
			}}, ErrUnsupported, `message type "reaction"`),
			inbound(phoneID, "wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUI5RjE2NUE3RDNCNjhDRUQ2QwA=", customer(pablo, "Pablo Morales"),
				attachmentContent(image, "whatsapp-media:2754859441498128", "", "image/png")),
			// change 2 is an account_update: no update
			statusOf(phoneID2, "wamid.HBgLMTYzMTU1NTExODEVAgARGBJEQjVCMzA2NEJGMjk0NkVGNkUA", pablo, domain.DeliveryDelivered),
			statusOf(phoneID2, "wamid.HBgLMTYzMTU1NTExODEVAgARGBJEQjVCMzA2NEJGMjk0NkVGNkUA", pablo, domain.DeliveryRead),
			failure(Item{PhoneNumberID: phoneID2}, ErrReported,
				"Something went wrong: Message failed to send due to an unknown error. (code 131000)"),
			{Item: Item{PhoneNumberID: phoneID, Update: channel.Update{
				Kind: channel.UpdateEcho, Contact: customer(pablo, ""),
				ChannelMessageID: "wamid.HBgLMTYzMTU1NTExODEVAgARGBJFQ0hPMDAwMDAwMDAwMDAwMDEA",
				Content:          attachmentContent(image, "whatsapp-media:1512345678901234", "Your order, packed", "image/jpeg"),
			}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			body := fixture(t, tt.fixture)
			items, err := ParseItems(body)
			if err != nil {
				t.Fatal(err)
			}
			checkItems(t, items, tt.want)
			for i, it := range items {
				if it.Content == nil {
					continue
				}
				if err := protovalidate.Validate(it.Content); err != nil {
					t.Errorf("item %d: the content breaks the API's rules: %v", i+1, err)
				}
			}

			updates, err := Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if len(updates) != len(items) {
				t.Fatalf("Parse gave %d updates, ParseItems %d", len(updates), len(items))
			}
			for i := range updates {
				want := items[i].Update
				want.Account = items[i].PhoneNumberID
				if diff := cmp.Diff(want, updates[i], protocmp.Transform(), sameError); diff != "" {
					t.Errorf("update %d: Parse differs from ParseItems (-items +Parse):\n%s", i, diff)
				}
			}
		})
	}
}

// sameError compares errors by what they say.
var sameError = cmp.Comparer(func(a, b error) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
})

func checkItems(t *testing.T, got []Item, want []want) {
	t.Helper()
	var wantItems []Item
	for _, w := range want {
		wantItems = append(wantItems, w.Item)
	}
	ignoreErr := cmpopts.IgnoreFields(channel.Update{}, "Err")
	if diff := cmp.Diff(wantItems, got, protocmp.Transform(), ignoreErr, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	for i := range min(len(got), len(want)) {
		err, w := got[i].Err, want[i]
		switch {
		case w.errIs == nil && err != nil:
			t.Errorf("item %d: unexpected error %v", i+1, err)
		case w.errIs != nil && !errors.Is(err, w.errIs):
			t.Errorf("item %d: error %v, want %v", i+1, err, w.errIs)
		case w.errIs != nil && !strings.Contains(err.Error(), w.errContains):
			t.Errorf("item %d: error %q does not say %q", i+1, err, w.errContains)
		}
	}
}

// TestParseItems covers what the fixtures do not: items of the wrong form, and bodies that are no
// WhatsApp payload at all.
func TestParseItems(t *testing.T) {
	// change wraps a value in a payload of one change of the messages field.
	change := func(value string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":` + value + `}]}]}`
	}
	meta := `"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}`
	msg := func(rest string) string {
		return change(`{` + meta + `,"messages":[{"from":"16505551234","id":"wamid.1",` + rest + `}]}`)
	}
	in := func(c domain.Contact) Item {
		return Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateMessage, Contact: c, ChannelMessageID: "wamid.1"}}
	}
	sheenaNoName := customer(sheena, "")

	tests := []struct {
		name string
		body string
		want []want
	}{
		{"no entries", `{"object":"whatsapp_business_account","entry":[]}`, nil},
		{"click to WhatsApp ad", msg(`"type":"text","text":{"body":"Is this still available?"},"referral":{"source_url":"https://fb.me/3cr4Wqqkv","source_id":"120210000000","source_type":"ad",` +
			`"body":"Spring sale","headline":"50% off","media_type":"image","image_url":"https://example.com/ad.jpg","ctwa_clid":"Aff-n8ZTODiE79d22KtAwQKj9e"}`), []want{
			{Item: func() Item {
				it := in(sheenaNoName)
				it.Content = textContent("Is this still available?")
				it.EntryPoint = "ad:120210000000"
				return it
			}()},
		}},
		{"location as strings", msg(`"type":"location","location":{"latitude":"-33.8688","longitude":"151.2093"}`), []want{
			{Item: func() Item {
				it := in(sheenaNoName)
				it.Content = locationContent(-33.8688, 151.2093, "", "")
				return it
			}()},
		}},
		{"location out of range", msg(`"type":"location","location":{"latitude":91,"longitude":0}`), []want{
			failure(in(sheenaNoName), ErrMalformed, "within ±90"),
		}},
		{"location without coordinates", msg(`"type":"location","location":{"name":"Home"}`), []want{
			failure(in(sheenaNoName), ErrMalformed, "without coordinates"),
		}},
		{"empty text", msg(`"type":"text","text":{"body":""}`), []want{
			failure(in(sheenaNoName), ErrMalformed, "without a text body"),
		}},
		{"media without id", msg(`"type":"image","image":{"mime_type":"image/jpeg"}`), []want{
			failure(in(sheenaNoName), ErrMalformed, "without a media id"),
		}},
		{"flow reply", msg(`"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}}`), []want{
			failure(in(sheenaNoName), ErrUnsupported, `interactive reply of type "nfm_reply"`),
		}},
		{"no type", msg(`"text":{"body":"hi"}`), []want{
			failure(in(sheenaNoName), ErrMalformed, "no message type"),
		}},
		{"no sender", change(`{` + meta + `,"messages":[{"id":"wamid.1","type":"text","text":{"body":"hi"}}]}`), []want{
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateMessage, ChannelMessageID: "wamid.1"}}, ErrMalformed, "no sender"),
		}},
		{"no message id", change(`{` + meta + `,"messages":[{"from":"16505551234","type":"text","text":{"body":"hi"}}]}`), []want{
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateMessage, Contact: sheenaNoName}}, ErrMalformed, "no message id"),
		}},
		{"message not an object", change(`{` + meta + `,"messages":["hi",null]}`), []want{
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateMessage}}, ErrMalformed, "messages 1"),
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateMessage}}, ErrMalformed, "messages 2"),
		}},
		{"messages not a list", change(`{` + meta + `,"messages":{}}`), []want{
			failure(Item{PhoneNumberID: phoneID}, ErrMalformed, "messages is not a list"),
		}},
		{"deleted status", change(`{` + meta + `,"statuses":[{"id":"wamid.2","status":"deleted","recipient_id":"16505551234"}]}`), []want{
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateStatus, ChannelMessageID: "wamid.2", Contact: sheenaNoName}},
				ErrUnsupported, `status "deleted"`),
		}},
		{"failed status without errors", change(`{` + meta + `,"statuses":[{"id":"wamid.2","status":"failed","recipient_id":"16505551234"}]}`), []want{
			{Item: Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateStatus, ChannelMessageID: "wamid.2", Contact: sheenaNoName, Status: domain.DeliveryFailed}}},
		}},
		{"failed status with a string code", change(`{` + meta + `,"statuses":[{"id":"wamid.2","status":"failed","recipient_id":"16505551234","errors":[{"code":"131026","title":"Message undeliverable"}]}]}`), []want{
			{Item: Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateStatus, ChannelMessageID: "wamid.2", Contact: sheenaNoName, Status: domain.DeliveryFailed,
				Error: "Message undeliverable (code 131026)"}}},
		}},
		{"status without id", change(`{` + meta + `,"statuses":[{"status":"read","recipient_id":"16505551234"}]}`), []want{
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateStatus, Contact: sheenaNoName}}, ErrMalformed, "no message id"),
		}},
		{"echo without recipient", `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"smb_message_echoes","value":{` + meta + `,"message_echoes":[{"from":"15550783881","id":"wamid.3","type":"text","text":{"body":"hi"}}]}}]}]}`, []want{
			failure(Item{PhoneNumberID: phoneID, Update: channel.Update{Kind: channel.UpdateEcho, ChannelMessageID: "wamid.3"}}, ErrMalformed, "no recipient"),
		}},
		{"value not an object", change(`[]`), []want{
			failure(Item{}, ErrMalformed, "entry 1, change 1: value"),
		}},
		{"malformed change and entry", `{"object":"whatsapp_business_account","entry":[{"changes":[7]},"x",{"changes":[{"field":"messages","value":{` + meta + `,"messages":[{"from":"16505551234","id":"wamid.1","type":"text","text":{"body":"hi"}}]}}]}]}`, []want{
			failure(Item{}, ErrMalformed, "entry 1, change 1"),
			failure(Item{}, ErrMalformed, "entry 2"),
			{Item: func() Item { it := in(sheenaNoName); it.Content = textContent("hi"); return it }()},
		}},
		{"contacts unreadable", change(`{` + meta + `,"contacts":"Sheena","messages":[{"from":"16505551234","id":"wamid.1","type":"text","text":{"body":"hi"}}]}`), []want{
			{Item: func() Item { it := in(sheenaNoName); it.Content = textContent("hi"); return it }()},
		}},
		{"other fields skipped", `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}},{"field":"history","value":{"messages":[{"id":"x"}]}}]}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ParseItems([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			checkItems(t, items, tt.want)
		})
	}
}

func TestParseRefusesOtherBodies(t *testing.T) {
	for _, body := range []string{
		``,
		`not json`,
		`{"object":"whatsapp_business_account","entry":[`,
		`[]`,
		`null`,
		`{}`,
		`{"object":"page","entry":[]}`,
		`{"object":"instagram","entry":[{"id":"1","messaging":[]}]}`,
		`{"object":"whatsapp_business_account","entry":{}}`,
		`{"object":"whatsapp_business_account","entry":[]} {}`,
	} {
		if got, err := Parse([]byte(body)); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", body, got)
		}
	}
}

func TestMediaURL(t *testing.T) {
	u := MediaURL("1003383421387256")
	if u != "whatsapp-media:1003383421387256" {
		t.Errorf("MediaURL = %q", u)
	}
	if id, ok := MediaID(u); !ok || id != "1003383421387256" {
		t.Errorf("MediaID(%q) = %q, %v", u, id, ok)
	}
	for _, u := range []string{"whatsapp-media:", "https://example.com/a.png", ""} {
		if id, ok := MediaID(u); ok {
			t.Errorf("MediaID(%q) = %q, true", u, id)
		}
	}
}
