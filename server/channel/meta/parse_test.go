package meta

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// errMalformed stands, in a wanted Update, for any error wrapping ErrMalformed.
var errMalformed = errors.New("any malformed item")

func textContent(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

func mediaContent(t batonv1.AttachmentType, url string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{Type: t, Url: url}}}
}

func postbackContent(title, payload string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Title: title, Payload: payload}}}
}

func contact(id string) domain.Contact { return domain.Contact{ExternalID: id} }

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

const (
	psid  = "6945201234567890"
	psid2 = "7012345678901234"
	igsid = "5837419012345678"
	// pluginUser is the contact of user_ref cp_5c1f8e2a9d7b4e06.
	pluginUser = "user_ref:cp_5c1f8e2a9d7b4e06"
	ourApp     = "1517776481860111"
	igMID      = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTk5NjE"
	image      = batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE
	video      = batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO
	audio      = batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO
	file       = batonv1.AttachmentType_ATTACHMENT_TYPE_FILE
	msgKind    = channel.UpdateMessage
)

// diffUpdates compares Updates: protos by value, and an Err only by whether it is one (a wanted
// errMalformed matches any error wrapping ErrMalformed). Each update's Account (its entry's id)
// is left out here; TestParseMessagingAccounts checks it.
func diffUpdates(want, got []channel.Update) string {
	return cmp.Diff(want, got, protocmp.Transform(), cmpopts.IgnoreFields(channel.Update{}, "Account"), cmp.Comparer(func(a, b error) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		match := func(w, g error) bool { return w == errMalformed && errors.Is(g, ErrMalformed) }
		return match(a, b) || match(b, a) || a == b
	}))
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseMessagingFixtures parses Meta's documented sample payloads.
func TestParseMessagingFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []channel.Update
	}{
		{"messenger_text.json", []channel.Update{
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.1457764197618:41d102a3e1ae206a38", Content: textContent("hello, world!")},
		}},
		{"messenger_attachments.json", []channel.Update{
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c", Content: mediaContent(image, "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg")},
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_d", Content: mediaContent(video, "https://video.xx.fbcdn.net/v/t42.3356-2/clip.mp4")},
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_e", Content: mediaContent(audio, "https://cdn.fbsbx.com/v/t59.3654-21/voice.mp4")},
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_f", Content: mediaContent(file, "https://cdn.fbsbx.com/v/t59.2708-21/invoice.pdf")},
			// Several photos sent at once are one message: one Update each.
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_g", Content: mediaContent(image, "https://scontent.xx.fbcdn.net/v/t1.15752-9/one.jpg")},
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_g#1", Content: mediaContent(image, "https://scontent.xx.fbcdn.net/v/t1.15752-9/two.jpg")},
			// A shared link is its text; the link preview (a fallback attachment) adds nothing.
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_h", Content: textContent("https://example.com/order/42")},
		}},
		{"messenger_location.json", []channel.Update{
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.1458696618141:b4ef9d19ec21086067", Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{
				Location: &batonv1.Location{Latitude: 52.5200066, Longitude: 13.404954, Name: "Ada's Location"},
			}}},
		}},
		{"messenger_quick_reply.json", []channel.Update{
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.1457764197618:41d102a3e1ae206a39", Content: postbackContent("Red", "COLOR_RED")},
		}},
		{"messenger_postback.json", []channel.Update{
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P", Content: postbackContent("Talk to a human", "HANDOFF")},
			// No mid (the Get Started button of an older API version): sender and timestamp.
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "postback:" + psid + ":1527459825000", Content: postbackContent("Get Started", "GET_STARTED"), EntryPoint: "spring-sale"},
		}},
		{"messenger_echo.json", []channel.Update{
			{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "mid.1457764197618:41d102a3e1ae206a38", Content: textContent("Your order has shipped."), BatonMessageID: "msg_01HZY3Q8K2", AppID: ourApp, Time: ms(1457764197627)},
			{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "mid.1457764199618:41d102a3e1ae206a40", BatonMessageID: "msg_01HZY3Q8K3", AppID: ourApp, Time: ms(1457764199627),
				Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{
					Text: "Anything else?",
					Buttons: []*batonv1.Button{
						{Title: "Talk to a human", Action: &batonv1.Button_Payload{Payload: "HANDOFF"}},
						{Title: "Track", Action: &batonv1.Button_Url{Url: "https://example.com/track/42"}},
					},
				}}}},
			// Metadata that is not Baton's names no Baton message.
			{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "mid.1457764200618:41d102a3e1ae206a41", Content: textContent("Spring sale starts today"), AppID: ourApp, Time: ms(1457764200627)},
			// From the standby channel: a human answering in the Page inbox.
			{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "qT7ywaKpO9kkQR7Gv-nM8LIfLZDamVrALniheUYEDdHJXjDXEAyaS1xxONzb2Iv-DFzmTihfWJV012P5pK0AhQ", Content: textContent("Hi, this is Sam from support. Let me look into it."), AppID: PageInboxAppID, Time: ms(1570053170673)},
		}},
		{"messenger_delivery.json", []channel.Update{
			{Kind: channel.UpdateStatus, Contact: contact(psid), ChannelMessageID: "mid.1458668856218:ed81099e15d3f4f233", Status: domain.DeliveryDelivered},
			{Kind: channel.UpdateStatus, Contact: contact(psid), ChannelMessageID: "mid.1458668856219:ed81099e15d3f4f234", Status: domain.DeliveryDelivered},
			{Kind: channel.UpdateStatus, Contact: contact(psid), Watermark: ms(1458668856253), Status: domain.DeliveryDelivered},
		}},
		// A person writing through the Chat Plugin (or opted in with the Checkbox plugin) has a
		// user_ref and no PSID: the contact is keyed by it.
		{"messenger_user_ref.json", []channel.Update{
			{Kind: msgKind, Contact: contact(pluginUser), ChannelMessageID: "m_8vZ1Qn3kT0aW5pXr7yLcB2dHfJ4gMs6eUo9iRt0wKq1xNy_plugin", Content: textContent("Hi, is the store open on Sunday?")},
			{Kind: msgKind, Contact: contact(pluginUser), ChannelMessageID: "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_plugin", Content: postbackContent("Opening hours", "HOURS"), EntryPoint: "store-page"},
			{Kind: channel.UpdateStatus, Contact: contact(pluginUser), ChannelMessageID: "m_reply_to_plugin_user", Status: domain.DeliveryDelivered},
		}},
		// The App Dashboard's "Test" button: entry id 0, the changes[] form, made-up ids.
		{"messenger_dashboard_test.json", []channel.Update{{Kind: channel.UpdateTest, Field: "messages"}}},
		{"messenger_read.json", []channel.Update{
			{Kind: channel.UpdateStatus, Contact: contact(psid), Watermark: ms(1458668856253), Status: domain.DeliveryRead},
		}},
		{"messenger_handover.json", []channel.Update{
			// Each with its time: the rules apply them in that order, whatever the arrival.
			{Kind: channel.UpdateThreadTaken, Contact: contact(psid), AppID: PageInboxAppID, Time: ms(1458692752478)},
			// request_thread_control yields nothing.
			{Kind: channel.UpdateThreadReleased, Contact: contact(psid), AppID: PageInboxAppID, Time: ms(1458692752480)},
			{Kind: channel.UpdateThreadReleased, Contact: contact(psid2), Time: ms(1458692752481)}, // from idle: no previous owner
		}},
		{"instagram_message.json", []channel.Update{
			{Kind: msgKind, Contact: contact(igsid), ChannelMessageID: igMID + "2", Content: textContent("Is this still in stock?")},
			{Kind: msgKind, Contact: contact(igsid), ChannelMessageID: igMID + "3", Content: mediaContent(image, "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17951234567890&signature=abc")},
			{Kind: msgKind, Contact: contact(igsid), ChannelMessageID: igMID + "4", Content: postbackContent("Size M", "SIZE_M")},
			{Kind: msgKind, Contact: contact(igsid), ChannelMessageID: igMID + "5", Content: postbackContent("Buy", "BUY_TEE")},
			{Kind: channel.UpdateStatus, Contact: contact(igsid), ChannelMessageID: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTk5NjIw", Status: domain.DeliveryRead},
			{Kind: channel.UpdateEcho, Contact: contact(igsid), ChannelMessageID: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTk5NjIx", Content: textContent("Yes! Which size?"), Time: ms(1569262485849)},
			// The customer unsending a message yields nothing.
		}},
		{"batch.json", []channel.Update{
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.batch.1", Content: textContent("first")},
			{Err: errMalformed},
			{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "mid.batch.3", Content: textContent("third")},
			{Kind: msgKind, Contact: contact(psid2), ChannelMessageID: "mid.batch.4", Content: textContent("another page")},
			{Kind: channel.UpdateStatus, Contact: contact(psid2), Watermark: ms(1458692752490), Status: domain.DeliveryRead},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseMessaging(readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := diffUpdates(tc.want, got); d != "" {
				t.Errorf("updates (-want +got):\n%s", d)
			}
		})
	}
}

// TestParseMessagingAccounts checks every update carries its entry's id: the page (or Instagram
// account) it is for, by which the gateway keeps each channel to its own.
func TestParseMessagingAccounts(t *testing.T) {
	got, err := ParseMessaging(readFixture(t, "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var accounts []string
	for _, u := range got {
		accounts = append(accounts, u.Account)
	}
	var entries struct {
		Entry []struct{ ID channel.JSONText }
	}
	if err := json.Unmarshal(readFixture(t, "batch.json"), &entries); err != nil {
		t.Fatal(err)
	}
	first, second := string(entries.Entry[0].ID), string(entries.Entry[len(entries.Entry)-1].ID)
	if first == "" || first == second {
		t.Fatalf("the fixture's entries are %q and %q: want two pages", first, second)
	}
	want := []string{first, first, first, second, second}
	if d := cmp.Diff(want, accounts); d != "" {
		t.Errorf("accounts (-want +got):\n%s", d)
	}
}

func TestParseMessagingMalformedItemSaysWhere(t *testing.T) {
	got, err := ParseMessaging(readFixture(t, "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 || got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "entry 0, messaging 1") {
		t.Fatalf("the malformed item's error should say where it is: %+v", got)
	}
}

// TestParseMessagingUnreadFieldSaysWhich: an item of changes[] on a real page names the field,
// and stays with the page's channel, whose log then shows it.
func TestParseMessagingUnreadFieldSaysWhich(t *testing.T) {
	got, err := ParseMessaging([]byte(`{"object":"page","entry":[{"id":"104857600000001","time":1795251600,"changes":[{"field":"feed","value":{"item":"post"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), `"feed"`) || got[0].Account != "104857600000001" {
		t.Fatalf("got %+v", got)
	}
}

// payload wraps messaging events in a page payload.
func payload(items ...string) []byte {
	return []byte(`{"object":"page","entry":[{"id":"1","time":1,"messaging":[` + strings.Join(items, ",") + `]}]}`)
}

const from = `"sender":{"id":"6945201234567890"},"recipient":{"id":"104857600000001"},"timestamp":1458692752478`

func TestParseMessagingCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []channel.Update
	}{
		{"no entries", `{"object":"page","entry":[]}`, nil},
		{"Get Started after an m.me link: the postback carries the ref", string(payload(`{` + from + `,"postback":{"mid":"m_p1","title":"Get Started","payload":"GET_STARTED",` +
			`"referral":{"ref":"billing-page","source":"SHORTLINK","type":"OPEN_THREAD"}}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m_p1", Content: postbackContent("Get Started", "GET_STARTED"), EntryPoint: "billing-page"}}},
		{"back through an m.me link: a referral of its own", string(payload(`{` + from + `,"referral":{"ref":"spring-sale","source":"SHORTLINK","type":"OPEN_THREAD"}}`)),
			[]channel.Update{{Kind: channel.UpdateReferral, Contact: contact(psid), EntryPoint: "spring-sale"}}},
		{"back through an ad without ref", string(payload(`{` + from + `,"referral":{"ad_id":"6045246247433","source":"ADS","type":"OPEN_THREAD","ads_context_data":{"ad_title":"Sale"}}}`)),
			[]channel.Update{{Kind: channel.UpdateReferral, Contact: contact(psid), EntryPoint: "ad:6045246247433"}}},
		{"a referral naming nothing", string(payload(`{` + from + `,"referral":{"source":"SHORTLINK","type":"OPEN_THREAD"}}`)), nil},
		{"a message with an ad referral", string(payload(`{` + from + `,"message":{"mid":"m1","text":"Is it in stock?","referral":{"ad_id":"6045246247433","source":"ADS","type":"OPEN_THREAD"}}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("Is it in stock?"), EntryPoint: "ad:6045246247433"}}},
		{"instagram object", `{"object":"instagram","entry":[{"id":"1","messaging":[{` + from + `,"message":{"mid":"m1","text":"hi"}}]}]}`,
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("hi")}}},
		{"entry not an object", `{"object":"page","entry":[42,{"id":"1","messaging":[{` + from + `,"message":{"mid":"m1","text":"hi"}}]}]}`,
			[]channel.Update{{Err: errMalformed}, {Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("hi")}}},
		{"messaging not a list", `{"object":"page","entry":[{"id":"1","messaging":{"a":1},"standby":[{` + from + `,"message":{"mid":"m1","text":"hi"}}]}]}`,
			[]channel.Update{{Err: errMalformed}, {Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("hi")}}},
		{"standby before messaging keeps its order", `{"object":"page","entry":[{"id":"1","standby":[{` + from + `,"message":{"mid":"m1","text":"one"}}],"messaging":[{` + from + `,"message":{"mid":"m2","text":"two"}}]}]}`,
			[]channel.Update{
				{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("one")},
				{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m2", Content: textContent("two")},
			}},
		{"event not an object", string(payload(`"x"`, `null`)), []channel.Update{{Err: errMalformed}, {Err: errMalformed}}},
		{"message without sender", string(payload(`{"recipient":{"id":"1"},"message":{"mid":"m1","text":"hi"}}`)), []channel.Update{{Err: errMalformed}}},
		{"user_ref sender without mid", string(payload(`{"sender":{"user_ref":"abc"},"recipient":{"id":"1"},"timestamp":1,"postback":{"payload":"P"}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact("user_ref:abc"), ChannelMessageID: "postback:user_ref:abc:1", Content: postbackContent("", "P")}}},
		{"both id and user_ref: the PSID wins", string(payload(`{"sender":{"id":"6945201234567890","user_ref":"abc"},"recipient":{"id":"1"},"message":{"mid":"m1","text":"hi"}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("hi")}}},
		{"empty user_ref", string(payload(`{"sender":{"user_ref":""},"recipient":{"id":"1"},"message":{"mid":"m1","text":"hi"}}`)), []channel.Update{{Err: errMalformed}}},
		{"echo to a user_ref", string(payload(`{"sender":{"id":"1"},"recipient":{"user_ref":"abc"},"message":{"mid":"m1","is_echo":true,"app_id":"263902037430900","text":"Sam here"}}`)),
			[]channel.Update{{Kind: channel.UpdateEcho, Contact: contact("user_ref:abc"), ChannelMessageID: "m1", AppID: PageInboxAppID, Content: textContent("Sam here")}}},
		{"message without mid", string(payload(`{` + from + `,"message":{"text":"hi"}}`)), []channel.Update{{Err: errMalformed}}},
		{"numeric ids and string timestamp", string(payload(`{"sender":{"id":6945201234567890},"recipient":{"id":1},"timestamp":"1527459824","postback":{"title":"T","payload":"P"}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "postback:" + psid + ":1527459824", Content: postbackContent("T", "P")}}},
		{"id of the wrong type", string(payload(`{"sender":{"id":true},"recipient":{"id":"1"},"message":{"mid":"m1","text":"hi"}}`)), []channel.Update{{Err: errMalformed}}},
		{"negative timestamp", string(payload(`{"sender":{"id":"1"},"timestamp":-5,"postback":{"payload":"P"}}`)), []channel.Update{{Err: errMalformed}}},
		{"postback with neither mid nor timestamp", string(payload(`{"sender":{"id":"1"},"postback":{"payload":"P"}}`)), []channel.Update{{Err: errMalformed}}},
		{"unsupported attachment beside a supported one", string(payload(`{` + from + `,"message":{"mid":"m1","attachments":[` +
			`{"type":"story_mention","payload":{"url":"https://cdn.example/story"}},{"type":"image","payload":{"url":"https://cdn.example/a.jpg"}}]}}`)),
			[]channel.Update{
				{Contact: contact(psid), ChannelMessageID: "m1", Err: errMalformed},
				{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1#1", Content: mediaContent(image, "https://cdn.example/a.jpg")},
			}},
		{"attachment without url", string(payload(`{` + from + `,"message":{"mid":"m1","attachments":[{"type":"image","payload":null}]}}`)),
			[]channel.Update{{Contact: contact(psid), ChannelMessageID: "m1", Err: errMalformed}}},
		{"location without coordinates", string(payload(`{` + from + `,"message":{"mid":"m1","attachments":[{"type":"location","payload":{}}]}}`)),
			[]channel.Update{{Contact: contact(psid), ChannelMessageID: "m1", Err: errMalformed}}},
		{"location off the map", string(payload(`{` + from + `,"message":{"mid":"m1","attachments":[{"type":"location","payload":{"coordinates":{"lat":91,"long":0}}}]}}`)),
			[]channel.Update{{Contact: contact(psid), ChannelMessageID: "m1", Err: errMalformed}}},
		{"shared link without text", string(payload(`{` + from + `,"message":{"mid":"m1","attachments":[{"type":"fallback","payload":{"url":"https://example.com/a","title":"A"}}]}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: textContent("https://example.com/a")}}},
		{"reel", string(payload(`{` + from + `,"message":{"mid":"m1","attachments":[{"type":"ig_reel","payload":{"url":"https://cdn.example/r.mp4","title":"Launch","reel_video_id":"123"}}]}}`)),
			[]channel.Update{{Kind: msgKind, Contact: contact(psid), ChannelMessageID: "m1", Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{
				Attachment: &batonv1.Attachment{Type: video, Url: "https://cdn.example/r.mp4", Caption: "Launch"}}}}}},
		{"message with nothing readable", string(payload(`{` + from + `,"message":{"mid":"m1","is_unsupported":true}}`)), []channel.Update{{Err: errMalformed}}},
		{"echo without recipient", string(payload(`{"sender":{"id":"1"},"message":{"mid":"m1","is_echo":true,"text":"hi"}}`)), []channel.Update{{Err: errMalformed}}},
		{"echo of quick replies", string(payload(`{"sender":{"id":"1"},"recipient":{"id":"` + psid + `"},"message":{"mid":"m1","is_echo":true,"app_id":1,"metadata":"baton:b1","text":"Pick",` +
			`"quick_replies":[{"content_type":"text","title":"Red","payload":"R"}]}}`)),
			[]channel.Update{{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "m1", AppID: "1", BatonMessageID: "b1",
				Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
					Text: "Pick", Replies: []*batonv1.QuickReply{{Title: "Red", Payload: "R"}}}}}}}},
		{"echo of a carousel", string(payload(`{"sender":{"id":"1"},"recipient":{"id":"` + psid + `"},"message":{"mid":"m1","is_echo":true,"attachments":[{"type":"template","payload":{` +
			`"template_type":"generic","elements":[{"title":"Tee","subtitle":"$24","image_url":"https://example.com/tee.jpg","buttons":[{"type":"web_url","url":"https://example.com/tee","title":"View"}]}]}}]}}`)),
			[]channel.Update{{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "m1",
				Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{Cards: []*batonv1.Card{{
					Title: "Tee", Subtitle: "$24", ImageUrl: "https://example.com/tee.jpg",
					Buttons: []*batonv1.Button{{Title: "View", Action: &batonv1.Button_Url{Url: "https://example.com/tee"}}},
				}}}}}}}},
		{"echo Baton cannot show is still an echo", string(payload(`{"sender":{"id":"1"},"recipient":{"id":"` + psid + `"},"message":{"mid":"m1","is_echo":true,"app_id":"263902037430900",` +
			`"attachments":[{"type":"template","payload":{"template_type":"media"}}]}}`)),
			[]channel.Update{{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "m1", AppID: PageInboxAppID}}},
		{"echo of several photos", string(payload(`{"sender":{"id":"1"},"recipient":{"id":"` + psid + `"},"message":{"mid":"m1","is_echo":true,"attachments":[` +
			`{"type":"image","payload":{"url":"https://cdn.example/1.jpg"}},{"type":"image","payload":{"url":"https://cdn.example/2.jpg"}}]}}`)),
			[]channel.Update{
				{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "m1", Content: mediaContent(image, "https://cdn.example/1.jpg")},
				{Kind: channel.UpdateEcho, Contact: contact(psid), ChannelMessageID: "m1#1", Content: mediaContent(image, "https://cdn.example/2.jpg")},
			}},
		{"delivery with neither mids nor watermark", string(payload(`{` + from + `,"delivery":{"mids":[]}}`)), []channel.Update{{Err: errMalformed}}},
		{"read with neither watermark nor mid", string(payload(`{` + from + `,"read":{}}`)), []channel.Update{{Err: errMalformed}}},
		{"take thread control without a new owner (older versions)", string(payload(`{` + from + `,"take_thread_control":{"previous_owner_app_id":"123"}}`)),
			[]channel.Update{{Kind: channel.UpdateThreadTaken, Contact: contact(psid), Time: ms(1458692752478)}}},
		{"dashboard test of another field", `{"object":"page","entry":[{"id":"0","time":1795251600,"changes":[{"field":"messaging_postbacks","value":{` +
			`"sender":{"user_ref":"USER-REF-ID"},"recipient":{"id":"PAGE-ID"},"timestamp":"1527459824","postback":{"mid":"m_MESSAGE-ID","title":"T","payload":"P"}}}]}]}`,
			[]channel.Update{{Kind: channel.UpdateTest, Field: "messaging_postbacks"}}},
		{"changes on a page: a field Baton does not read", `{"object":"page","entry":[{"id":"104857600000001","time":1795251600,"changes":[{"field":"feed","value":{"item":"post","verb":"add"}}]}]}`,
			[]channel.Update{{Err: errMalformed}}},
		{"changes not a list", `{"object":"page","entry":[{"id":"0","changes":{"field":"messages"}}]}`, []channel.Update{{Err: errMalformed}}},
		{"events Baton does not read", string(payload(
			`{`+from+`,"reaction":{"mid":"m1","action":"react","reaction":"love","emoji":"❤️"}}`,
			`{`+from+`,"request_thread_control":{"requested_owner_app_id":1}}`,
			`{`+from+`,"message":null}`,
		)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMessaging([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if d := diffUpdates(tc.want, got); d != "" {
				t.Errorf("updates (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseMessagingRefusesOtherBodies(t *testing.T) {
	for _, body := range []string{
		``,
		`not json`,
		`null`,
		`[{"object":"page","entry":[]}]`,
		`{"object":"whatsapp_business_account","entry":[]}`,
		`{"entry":[]}`,
		`{"object":"page","entry":{"id":"1"}}`,
		`{"object":"page","entry":[]} trailing`,
	} {
		if got, err := ParseMessaging([]byte(body)); err == nil {
			t.Errorf("ParseMessaging(%q) = %v, want an error", body, got)
		}
	}
}
