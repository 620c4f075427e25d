package channel_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	validate "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// kinds is every domain channel kind, with the name refusals give it and its API kind.
var kinds = []struct {
	kind  domain.ChannelKind
	name  string
	proto batonv1.ChannelKind
}{
	{domain.ChannelMessenger, "Messenger", batonv1.ChannelKind_CHANNEL_KIND_MESSENGER},
	{domain.ChannelWhatsApp, "WhatsApp", batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP},
	{domain.ChannelInstagram, "Instagram", batonv1.ChannelKind_CHANNEL_KIND_INSTAGRAM},
	{domain.ChannelTelegram, "Telegram", batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM},
	{domain.ChannelWebchat, "Web chat", batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT},
	{domain.ChannelGeneric, "A generic channel", batonv1.ChannelKind_CHANNEL_KIND_GENERIC},
}

func TestCapabilitiesTable(t *testing.T) {
	api := &batonv1.ChannelCapabilities{
		MaxTextLength: 8192, Attachments: true,
		MaxButtons: 10, MaxButtonTitleLength: 80, MaxButtonsTextLength: 2000,
		MaxQuickReplies: 13, MaxQuickReplyTitleLength: 20,
		MaxCarouselCards: 10, MaxCardButtons: 3, Location: true,
	}
	withKind := func(c *batonv1.ChannelCapabilities, k batonv1.ChannelKind) *batonv1.ChannelCapabilities {
		c = proto.Clone(c).(*batonv1.ChannelCapabilities)
		c.Kind = k
		return c
	}
	want := map[domain.ChannelKind]*batonv1.ChannelCapabilities{
		domain.ChannelMessenger: {
			Kind:          batonv1.ChannelKind_CHANNEL_KIND_MESSENGER,
			MaxTextLength: 2000, Attachments: true,
			MaxButtons: 3, MaxButtonTitleLength: 20, MaxButtonsTextLength: 640,
			MaxQuickReplies: 13, MaxQuickReplyTitleLength: 20,
			MaxCarouselCards: 10, MaxCardButtons: 3, Location: false,
		},
		domain.ChannelInstagram: {
			Kind:          batonv1.ChannelKind_CHANNEL_KIND_INSTAGRAM,
			MaxTextLength: 1000, Attachments: true,
			MaxButtons: 3, MaxButtonTitleLength: 20, MaxButtonsTextLength: 640,
			MaxQuickReplies: 13, MaxQuickReplyTitleLength: 20,
			MaxCarouselCards: 10, MaxCardButtons: 3, Location: false,
		},
		domain.ChannelWhatsApp: {
			Kind:          batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP,
			MaxTextLength: 4096, Attachments: true,
			MaxButtons: 10, MaxButtonTitleLength: 20, MaxButtonsTextLength: 1024,
			MaxQuickReplies: 10, MaxQuickReplyTitleLength: 20,
			MaxCarouselCards: 0, MaxCardButtons: 0, Location: true,
		},
		domain.ChannelTelegram: {
			Kind:          batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM,
			MaxTextLength: 4096, Attachments: true,
			MaxButtons: 10, MaxButtonTitleLength: 80, MaxButtonsTextLength: 2000,
			MaxQuickReplies: 13, MaxQuickReplyTitleLength: 20,
			MaxCarouselCards: 0, MaxCardButtons: 0, Location: true,
		},
		domain.ChannelWebchat: withKind(api, batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT),
		domain.ChannelGeneric: withKind(api, batonv1.ChannelKind_CHANNEL_KIND_GENERIC),
	}
	for _, k := range kinds {
		if d := cmp.Diff(want[k.kind], channel.Capabilities(k.kind), protocmp.Transform()); d != "" {
			t.Errorf("Capabilities(%s) mismatch (-want +got):\n%s", k.kind, d)
		}
	}
	for _, k := range []domain.ChannelKind{"", "sms"} {
		if got := channel.Capabilities(k); got != nil {
			t.Errorf("Capabilities(%q) = %v, want nil", k, got)
		}
	}
}

// TestEveryKindHasAnEntry checks that each ChannelKind the API defines is the Kind of exactly
// one domain kind's entry, and each domain kind's entry has its own API kind.
func TestEveryKindHasAnEntry(t *testing.T) {
	seen := map[batonv1.ChannelKind]domain.ChannelKind{}
	for _, k := range kinds {
		c := channel.Capabilities(k.kind)
		if c == nil {
			t.Errorf("Capabilities(%s) = nil", k.kind)
			continue
		}
		if c.GetKind() != k.proto {
			t.Errorf("Capabilities(%s).Kind = %v, want %v", k.kind, c.GetKind(), k.proto)
		}
		if prev, dup := seen[c.GetKind()]; dup {
			t.Errorf("kind %v is the entry of both %s and %s", c.GetKind(), prev, k.kind)
		}
		seen[c.GetKind()] = k.kind
	}
	values := batonv1.ChannelKind(0).Descriptor().Values()
	for i := range values.Len() {
		v := batonv1.ChannelKind(values.Get(i).Number())
		if v == batonv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED {
			continue
		}
		if _, ok := seen[v]; !ok {
			t.Errorf("%v has no capabilities entry", v)
		}
	}
}

func TestCapabilitiesAreACopy(t *testing.T) {
	c := channel.Capabilities(domain.ChannelMessenger)
	c.MaxButtons = 99
	c.Location = true
	if got := channel.Capabilities(domain.ChannelMessenger); got.GetMaxButtons() != 3 || got.GetLocation() {
		t.Errorf("changing a result changed the table: %v", got)
	}
}

// TestAPILimits checks that web chat and generic channels advertise exactly the API's limits,
// as message.proto's validation rules state them, and that no channel advertises more.
func TestAPILimits(t *testing.T) {
	api := &batonv1.ChannelCapabilities{
		MaxTextLength:            maxLen(t, &batonv1.TextContent{}, "text"),
		Attachments:              true,
		MaxButtons:               maxItems(t, &batonv1.ButtonsContent{}, "buttons"),
		MaxButtonTitleLength:     maxLen(t, &batonv1.Button{}, "title"),
		MaxButtonsTextLength:     maxLen(t, &batonv1.ButtonsContent{}, "text"),
		MaxQuickReplies:          maxItems(t, &batonv1.QuickReplies{}, "replies"),
		MaxQuickReplyTitleLength: maxLen(t, &batonv1.QuickReply{}, "title"),
		MaxCarouselCards:         maxItems(t, &batonv1.Carousel{}, "cards"),
		MaxCardButtons:           maxItems(t, &batonv1.Card{}, "buttons"),
		Location:                 true,
	}
	if q := maxLen(t, &batonv1.QuickReplies{}, "text"); q != api.GetMaxButtonsTextLength() {
		t.Fatalf("QuickReplies.text max_len %d differs from ButtonsContent.text's %d: ChannelCapabilities has one figure for both", q, api.GetMaxButtonsTextLength())
	}
	for _, k := range kinds {
		got := channel.Capabilities(k.kind)
		if k.kind == domain.ChannelWebchat || k.kind == domain.ChannelGeneric {
			want := proto.Clone(api).(*batonv1.ChannelCapabilities)
			want.Kind = k.proto
			if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
				t.Errorf("%s does not advertise the API's limits (-api +got):\n%s", k.kind, d)
			}
			continue
		}
		for _, l := range []struct {
			name     string
			got, max int32
		}{
			{"max_text_length", got.GetMaxTextLength(), api.GetMaxTextLength()},
			{"max_buttons", got.GetMaxButtons(), api.GetMaxButtons()},
			{"max_button_title_length", got.GetMaxButtonTitleLength(), api.GetMaxButtonTitleLength()},
			{"max_buttons_text_length", got.GetMaxButtonsTextLength(), api.GetMaxButtonsTextLength()},
			{"max_quick_replies", got.GetMaxQuickReplies(), api.GetMaxQuickReplies()},
			{"max_quick_reply_title_length", got.GetMaxQuickReplyTitleLength(), api.GetMaxQuickReplyTitleLength()},
			{"max_carousel_cards", got.GetMaxCarouselCards(), api.GetMaxCarouselCards()},
			{"max_card_buttons", got.GetMaxCardButtons(), api.GetMaxCardButtons()},
		} {
			if l.got > l.max {
				t.Errorf("%s: %s %d exceeds the API's %d", k.kind, l.name, l.got, l.max)
			}
		}
	}
}

func fieldRules(t *testing.T, m proto.Message, field string) *validate.FieldRules {
	t.Helper()
	fd := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(field))
	if fd == nil {
		t.Fatalf("%s has no field %s", m.ProtoReflect().Descriptor().FullName(), field)
	}
	return proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
}

func maxLen(t *testing.T, m proto.Message, field string) int32 {
	t.Helper()
	return int32(fieldRules(t, m, field).GetString().GetMaxLen())
}

func maxItems(t *testing.T, m proto.Message, field string) int32 {
	t.Helper()
	return int32(fieldRules(t, m, field).GetRepeated().GetMaxItems())
}

// Builders. Lengths are in characters, made of "é" (two bytes each) so that a byte count
// would show.

func chars(n int) string { return strings.Repeat("é", n) }

func textContent(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

func payloadButton(title, payload string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Payload{Payload: payload}}
}

func urlButton(title, url string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Url{Url: url}}
}

// numbered is n payload buttons titled "Option 1", "Option 2"...
func numbered(n int) []*batonv1.Button {
	out := make([]*batonv1.Button, n)
	for i := range out {
		out[i] = payloadButton("Option "+strconv.Itoa(i+1), "p"+strconv.Itoa(i+1))
	}
	return out
}

func buttonsContent(text string, buttons ...*batonv1.Button) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{Text: text, Buttons: buttons}}}
}

func quickReplies(text string, n int) *batonv1.QuickReplies {
	q := &batonv1.QuickReplies{Text: text}
	for i := range n {
		q.Replies = append(q.Replies, &batonv1.QuickReply{Title: "Reply " + strconv.Itoa(i+1), Payload: "r" + strconv.Itoa(i+1)})
	}
	return q
}

func quickRepliesContent(q *batonv1.QuickReplies) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: q}}
}

func carousel(cards, buttonsPerCard int) *batonv1.Carousel {
	c := &batonv1.Carousel{}
	for i := range cards {
		c.Cards = append(c.Cards, &batonv1.Card{Title: "Card " + strconv.Itoa(i+1), Buttons: numbered(buttonsPerCard)})
	}
	return c
}

func carouselContent(c *batonv1.Carousel) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: c}}
}

func attachmentContent(typ batonv1.AttachmentType, caption string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
		Type: typ, Url: "https://example.com/f", Caption: caption,
	}}}
}

func locationContent(lat, lng float64, name, address string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
		Latitude: lat, Longitude: lng, Name: name, Address: address,
	}}}
}

func postbackContent(title, payload string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Title: title, Payload: payload}}}
}

// checkCase is content for a kind, and the refusal expected: none when field is empty;
// otherwise the field, and words the reason must contain.
type checkCase struct {
	name    string
	kind    domain.ChannelKind
	content *batonv1.MessageContent
	field   string
	reason  []string
}

func (c checkCase) run(t *testing.T) {
	t.Helper()
	err := channel.Check(c.kind, c.content)
	if c.field == "" {
		if err != nil {
			t.Errorf("Check: %v, want nil", err)
		}
		return
	}
	var invalid *domain.InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("Check: %v, want an InvalidError on %s", err, c.field)
	}
	if invalid.Field != c.field {
		t.Errorf("field = %q, want %q (%v)", invalid.Field, c.field, err)
	}
	for _, w := range c.reason {
		if !strings.Contains(invalid.Reason, w) {
			t.Errorf("reason %q does not say %q", invalid.Reason, w)
		}
	}
}

// limitCases checks each advertised limit of a kind: at the limit passes, one over is refused
// with a reason that names the channel and the limit; an unsupported kind of content is refused.
func limitCases(kind domain.ChannelKind, name string) []checkCase {
	c := channel.Capabilities(kind)
	var cases []checkCase
	at := func(what string, limit int32, content func(n int) *batonv1.MessageContent, field string) {
		n := int(limit)
		cases = append(cases,
			checkCase{name: fmt.Sprintf("%s at %d", what, n), kind: kind, content: content(n)},
			checkCase{name: fmt.Sprintf("%s over %d", what, n), kind: kind, content: content(n + 1), field: field,
				reason: []string{name, "at most " + strconv.Itoa(n) + " ", "has " + strconv.Itoa(n+1)}},
		)
	}
	unsupported := func(what string, content *batonv1.MessageContent, field string) {
		cases = append(cases, checkCase{name: what + " unsupported", kind: kind, content: content, field: field, reason: []string{name, "cannot"}})
	}

	at("text", c.GetMaxTextLength(), func(n int) *batonv1.MessageContent { return textContent(chars(n)) }, "content.text.text")

	if c.GetMaxButtons() == 0 {
		unsupported("buttons", buttonsContent("Pick", numbered(1)...), "content.buttons")
	} else {
		at("buttons", c.GetMaxButtons(), func(n int) *batonv1.MessageContent { return buttonsContent("Pick", numbered(n)...) }, "content.buttons.buttons")
		at("buttons text", c.GetMaxButtonsTextLength(), func(n int) *batonv1.MessageContent { return buttonsContent(chars(n), numbered(1)...) }, "content.buttons.text")
		at("button title", c.GetMaxButtonTitleLength(), func(n int) *batonv1.MessageContent {
			return buttonsContent("Pick", payloadButton(chars(n), "p"), payloadButton("Other", "o"))
		}, "content.buttons.buttons[0].title")
	}

	if c.GetMaxQuickReplies() == 0 {
		unsupported("quick replies", quickRepliesContent(quickReplies("Pick", 1)), "content.quick_replies")
	} else {
		at("quick replies", c.GetMaxQuickReplies(), func(n int) *batonv1.MessageContent { return quickRepliesContent(quickReplies("Pick", n)) }, "content.quick_replies.replies")
		at("quick replies text", c.GetMaxButtonsTextLength(), func(n int) *batonv1.MessageContent { return quickRepliesContent(quickReplies(chars(n), 1)) }, "content.quick_replies.text")
		at("quick reply title", c.GetMaxQuickReplyTitleLength(), func(n int) *batonv1.MessageContent {
			q := quickReplies("Pick", 2)
			q.Replies[1].Title = chars(n)
			return quickRepliesContent(q)
		}, "content.quick_replies.replies[1].title")
	}

	if c.GetMaxCarouselCards() == 0 {
		unsupported("carousel", carouselContent(carousel(2, 1)), "content.carousel")
	} else {
		at("cards", c.GetMaxCarouselCards(), func(n int) *batonv1.MessageContent { return carouselContent(carousel(n, 1)) }, "content.carousel.cards")
		at("card buttons", c.GetMaxCardButtons(), func(n int) *batonv1.MessageContent { return carouselContent(carousel(2, n)) }, "content.carousel.cards[0].buttons")
		at("card button title", c.GetMaxButtonTitleLength(), func(n int) *batonv1.MessageContent {
			cs := carousel(2, 2)
			cs.Cards[1].Buttons[0].Title = chars(n)
			return carouselContent(cs)
		}, "content.carousel.cards[1].buttons[0].title")
	}

	if c.GetLocation() {
		cases = append(cases, checkCase{name: "location", kind: kind, content: locationContent(48.8584, 2.2945, "Tower", "Paris")})
	} else {
		unsupported("location", locationContent(48.8584, 2.2945, "Tower", "Paris"), "content.location")
	}
	if c.GetAttachments() {
		cases = append(cases, checkCase{name: "attachment", kind: kind, content: attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, "")})
	} else {
		unsupported("attachment", attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, ""), "content.attachment")
	}
	return cases
}

func TestCheckLimits(t *testing.T) {
	for _, k := range kinds {
		for _, c := range limitCases(k.kind, k.name) {
			t.Run(string(k.kind)+"/"+c.name, c.run)
		}
	}
}

func TestCheckChannelRules(t *testing.T) {
	var (
		image = batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE
		audio = batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO
	)
	payloadOf := func(p string) *batonv1.MessageContent {
		return buttonsContent("Pick", payloadButton("Yes", p), payloadButton("No", "n"))
	}
	replyPayloadOf := func(p string) *batonv1.MessageContent {
		q := quickReplies("Pick", 2)
		q.Replies[0].Payload = p
		return quickRepliesContent(q)
	}
	cases := []checkCase{
		// Captions.
		{name: "messenger caption at 2000", kind: domain.ChannelMessenger, content: attachmentContent(image, chars(2000))},
		{name: "messenger caption over 2000", kind: domain.ChannelMessenger, content: attachmentContent(image, chars(2001)),
			field: "content.attachment.caption", reason: []string{"Messenger", "at most 2000 characters", "has 2001"}},
		{name: "instagram caption at 1000", kind: domain.ChannelInstagram, content: attachmentContent(image, chars(1000))},
		{name: "instagram caption over 1000", kind: domain.ChannelInstagram, content: attachmentContent(image, chars(1001)),
			field: "content.attachment.caption", reason: []string{"Instagram", "at most 1000 characters"}},
		{name: "whatsapp caption at 1024", kind: domain.ChannelWhatsApp, content: attachmentContent(image, chars(1024))},
		{name: "whatsapp caption over 1024", kind: domain.ChannelWhatsApp, content: attachmentContent(image, chars(1025)),
			field: "content.attachment.caption", reason: []string{"WhatsApp", "at most 1024 characters", "has 1025"}},
		{name: "whatsapp audio without caption", kind: domain.ChannelWhatsApp, content: attachmentContent(audio, "")},
		{name: "whatsapp audio with caption", kind: domain.ChannelWhatsApp, content: attachmentContent(audio, "Listen"),
			field: "content.attachment.caption", reason: []string{"WhatsApp", "audio without a caption"}},
		{name: "telegram audio with caption", kind: domain.ChannelTelegram, content: attachmentContent(audio, "Listen")},
		{name: "telegram caption at 1024", kind: domain.ChannelTelegram, content: attachmentContent(image, chars(1024))},
		{name: "telegram caption over 1024", kind: domain.ChannelTelegram, content: attachmentContent(image, chars(1025)),
			field: "content.attachment.caption", reason: []string{"Telegram", "at most 1024 characters"}},
		{name: "webchat caption at 4096", kind: domain.ChannelWebchat, content: attachmentContent(image, chars(4096))},
		{name: "webchat caption over 4096", kind: domain.ChannelWebchat, content: attachmentContent(image, chars(4097)),
			field: "content.attachment.caption", reason: []string{"Web chat", "at most 4096 characters"}},

		// Telegram's callback_data counts bytes.
		{name: "telegram payload at 64 bytes", kind: domain.ChannelTelegram, content: payloadOf(strings.Repeat("a", 64))},
		{name: "telegram payload over 64 bytes", kind: domain.ChannelTelegram, content: payloadOf(strings.Repeat("a", 65)),
			field: "content.buttons.buttons[0].payload", reason: []string{"Telegram", "at most 64 bytes", "has 65"}},
		{name: "telegram payload of 33 two-byte characters", kind: domain.ChannelTelegram, content: payloadOf(chars(33)),
			field: "content.buttons.buttons[0].payload", reason: []string{"64 bytes", "has 66"}},
		{name: "telegram empty payload", kind: domain.ChannelTelegram, content: payloadOf(""),
			field: "content.buttons.buttons[0].payload", reason: []string{"Telegram", "1 to 64 bytes", "empty"}},
		{name: "telegram url button", kind: domain.ChannelTelegram, content: buttonsContent("Read", urlButton("Docs", "https://example.com/"+strings.Repeat("d", 100)))},
		{name: "telegram quick reply payload over 64 bytes", kind: domain.ChannelTelegram, content: replyPayloadOf(strings.Repeat("a", 65)),
			field: "content.quick_replies.replies[0].payload", reason: []string{"quick reply payloads", "at most 64 bytes"}},
		{name: "telegram carousel refused", kind: domain.ChannelTelegram, content: carouselContent(carousel(1, 0)),
			field: "content.carousel", reason: []string{"Telegram cannot show carousels"}},

		// Payload lengths elsewhere count characters.
		{name: "whatsapp payload at 200", kind: domain.ChannelWhatsApp, content: payloadOf(chars(200))},
		{name: "whatsapp payload over 200", kind: domain.ChannelWhatsApp, content: payloadOf(chars(201)),
			field: "content.buttons.buttons[0].payload", reason: []string{"WhatsApp", "at most 200 characters", "has 201"}},
		{name: "whatsapp quick reply payload over 200", kind: domain.ChannelWhatsApp, content: replyPayloadOf(chars(201)),
			field: "content.quick_replies.replies[0].payload", reason: []string{"at most 200 characters"}},
		{name: "messenger payload of 1000", kind: domain.ChannelMessenger, content: payloadOf(chars(1000))},
		{name: "messenger empty payload", kind: domain.ChannelMessenger, content: payloadOf("")},

		// WhatsApp's link button stands alone; titles are distinct.
		{name: "whatsapp one link button", kind: domain.ChannelWhatsApp, content: buttonsContent("Read", urlButton("Docs", "https://example.com"))},
		{name: "whatsapp link and payload buttons", kind: domain.ChannelWhatsApp,
			content: buttonsContent("Read", urlButton("Docs", "https://example.com"), payloadButton("Later", "later")),
			field:   "content.buttons.buttons", reason: []string{"WhatsApp", "link button only on its own", "2 buttons, 1 of them links"}},
		{name: "whatsapp two link buttons", kind: domain.ChannelWhatsApp,
			content: buttonsContent("Read", urlButton("Docs", "https://example.com"), urlButton("Blog", "https://example.org")),
			field:   "content.buttons.buttons", reason: []string{"2 buttons, 2 of them links"}},
		{name: "telegram link and payload buttons", kind: domain.ChannelTelegram,
			content: buttonsContent("Read", urlButton("Docs", "https://example.com"), payloadButton("Later", "later"))},
		{name: "whatsapp same button titles", kind: domain.ChannelWhatsApp,
			content: buttonsContent("Pick", payloadButton("Yes", "a"), payloadButton("No", "b"), payloadButton("Yes", "c")),
			field:   "content.buttons.buttons[2].title", reason: []string{"WhatsApp", "distinct button titles", "buttons 0 and 2", `"Yes"`}},
		{name: "whatsapp same quick reply titles", kind: domain.ChannelWhatsApp,
			content: quickRepliesContent(&batonv1.QuickReplies{Text: "Pick", Replies: []*batonv1.QuickReply{{Title: "Red"}, {Title: "Red"}}}),
			field:   "content.quick_replies.replies[1].title", reason: []string{"distinct quick reply titles", "quick replies 0 and 1"}},
		{name: "messenger same button titles", kind: domain.ChannelMessenger,
			content: buttonsContent("Pick", payloadButton("Yes", "a"), payloadButton("Yes", "b"))},

		// Postbacks are sent only where Baton draws the screen.
		{name: "webchat postback", kind: domain.ChannelWebchat, content: postbackContent("Yes", "yes")},
		{name: "generic postback", kind: domain.ChannelGeneric, content: postbackContent("Yes", "yes")},
		{name: "messenger postback", kind: domain.ChannelMessenger, content: postbackContent("Yes", "yes"),
			field: "content.postback", reason: []string{"Messenger cannot send a postback"}},
		{name: "whatsapp postback", kind: domain.ChannelWhatsApp, content: postbackContent("Yes", "yes"), field: "content.postback"},
		{name: "instagram postback", kind: domain.ChannelInstagram, content: postbackContent("Yes", "yes"), field: "content.postback"},
		{name: "telegram postback", kind: domain.ChannelTelegram, content: postbackContent("Yes", "yes"), field: "content.postback"},

		// Characters, not bytes: 2000 "é" are 4000 bytes.
		{name: "messenger 2000 two-byte characters", kind: domain.ChannelMessenger, content: textContent(chars(2000))},
		{name: "messenger 2000 four-byte characters", kind: domain.ChannelMessenger, content: textContent(strings.Repeat("😀", 2000))},

		// Nothing to check against.
		{name: "unknown kind", kind: "sms", content: textContent("hi"), field: "channel", reason: []string{`"sms"`}},
		{name: "no content", kind: domain.ChannelWebchat, content: nil, field: "content", reason: []string{"no kind"}},
		{name: "empty content", kind: domain.ChannelWebchat, content: &batonv1.MessageContent{}, field: "content"},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestCheckMessage(t *testing.T) {
	err := channel.Check(domain.ChannelMessenger, buttonsContent("Pick", numbered(4)...))
	const want = "content.buttons.buttons: Messenger shows at most 3 buttons; this message has 4"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %q", err, want)
	}
	err = channel.Check(domain.ChannelInstagram, textContent(chars(1001)))
	const wantText = "content.text.text: Instagram takes text of at most 1000 characters; this text has 1001"
	if err == nil || err.Error() != wantText {
		t.Errorf("Check = %v, want %q", err, wantText)
	}
}

func TestFallback(t *testing.T) {
	for _, c := range []struct {
		name    string
		content *batonv1.MessageContent
		want    string
	}{
		{"text", textContent("Hello there"), "Hello there"},
		{"attachment with caption", attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, "Our menu"),
			"Our menu\nhttps://example.com/f"},
		{"attachment without caption", attachmentContent(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, ""),
			"https://example.com/f"},
		{"buttons", buttonsContent("How can we help?",
			payloadButton("Track my order", "track"), payloadButton("Talk to someone", "human"), urlButton("Opening hours", "https://example.com/hours")),
			"How can we help?\n\n1. Track my order\n2. Talk to someone\n3. Opening hours: https://example.com/hours"},
		{"carousel", carouselContent(&batonv1.Carousel{Cards: []*batonv1.Card{
			{Title: "Wool hat", Subtitle: "Warm, 25 EUR", ImageUrl: "https://example.com/hat.jpg",
				Buttons: []*batonv1.Button{payloadButton("Buy", "buy-hat"), urlButton("Details", "https://example.com/hat")}},
			{Title: "Scarf", Buttons: []*batonv1.Button{payloadButton("Buy", "buy-scarf")}},
			{Title: "Gloves", Subtitle: "Sold out"},
		}}),
			"Wool hat\nWarm, 25 EUR\n1. Buy\n2. Details: https://example.com/hat\n\nScarf\n1. Buy\n\nGloves\nSold out"},
		{"quick replies", quickRepliesContent(&batonv1.QuickReplies{Text: "Which color?", Replies: []*batonv1.QuickReply{
			{Title: "Red", Payload: "red"}, {Title: "Green", Payload: "green"}, {Title: "Blue"},
		}}), "Which color?\n\n1. Red\n2. Green\n3. Blue"},
		{"location", locationContent(48.8584, 2.2945, "Eiffel Tower", "Champ de Mars, Paris"),
			"Eiffel Tower, Champ de Mars, Paris\nhttps://www.google.com/maps/search/?api=1&query=48.8584%2C2.2945"},
		{"location without address", locationContent(-33.8568, 151.2153, "Opera House", ""),
			"Opera House\nhttps://www.google.com/maps/search/?api=1&query=-33.8568%2C151.2153"},
		{"bare location", locationContent(0, -0.5, "", ""),
			"https://www.google.com/maps/search/?api=1&query=0%2C-0.5"},
		{"postback", postbackContent("Yes please", "yes"), "Yes please"},
		{"untitled postback", postbackContent("", "yes"), "yes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := channel.Fallback(c.content)
			want := textContent(c.want)
			if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
				t.Errorf("Fallback mismatch (-want +got):\n%s", d)
			}
		})
	}
	if got := channel.Fallback(&batonv1.MessageContent{}); got != nil {
		t.Errorf("Fallback(no kind) = %v, want nil", got)
	}
	if got := channel.Fallback(nil); got != nil {
		t.Errorf("Fallback(nil) = %v, want nil", got)
	}
}

func TestFallbackLeavesContentAlone(t *testing.T) {
	c := textContent("Hello")
	f := channel.Fallback(c)
	f.GetText().Text = "changed"
	if c.GetText().GetText() != "Hello" {
		t.Errorf("Fallback shares the content it was given")
	}
}

func TestRender(t *testing.T) {
	location := locationContent(48.8584, 2.2945, "Eiffel Tower", "Champ de Mars, Paris")
	// Three link buttons, which WhatsApp refuses, whose text is longer than WhatsApp's 4096:
	// "Links", a blank line, two lines of 2026 characters, and the third cut 34 characters in.
	long := func(name string) *batonv1.Button {
		return urlButton(name, "https://example.com/"+strings.Repeat("a", 2000))
	}
	links := buttonsContent("Links", long("A"), long("B"), long("C"))
	linksText := channel.Fallback(links).GetText().GetText()
	if len(linksText) != 5+2+3*2026+2 || !strings.HasSuffix(linksText[:4095], "3. C: https://example.com/aaaaaaaa") {
		t.Fatalf("unexpected fallback of the links: %d characters", len(linksText))
	}
	longTelegramPayload := buttonsContent("Pick", payloadButton("Yes", strings.Repeat("y", 65)), payloadButton("No", "no"))
	for _, c := range []struct {
		name         string
		kind         domain.ChannelKind
		content      *batonv1.MessageContent
		textFallback bool
		want         *batonv1.MessageContent // nil: want the Check error
		wantField    string
	}{
		{name: "fits", kind: domain.ChannelWhatsApp, content: location, want: location},
		{name: "fits, fallback allowed", kind: domain.ChannelWhatsApp, content: location, textFallback: true, want: location},
		{name: "refused", kind: domain.ChannelMessenger, content: location, wantField: "content.location"},
		{name: "location as text", kind: domain.ChannelMessenger, content: location, textFallback: true,
			want: textContent("Eiffel Tower, Champ de Mars, Paris\nhttps://www.google.com/maps/search/?api=1&query=48.8584%2C2.2945")},
		{name: "carousel as text", kind: domain.ChannelWhatsApp, content: carouselContent(carousel(2, 1)), textFallback: true,
			want: textContent("Card 1\n1. Option 1\n\nCard 2\n1. Option 1")},
		{name: "buttons beyond the count as text", kind: domain.ChannelInstagram, content: buttonsContent("Pick", numbered(4)...), textFallback: true,
			want: textContent("Pick\n\n1. Option 1\n2. Option 2\n3. Option 3\n4. Option 4")},
		{name: "long payload refused", kind: domain.ChannelTelegram, content: longTelegramPayload, wantField: "content.buttons.buttons[0].payload"},
		{name: "long payload as text", kind: domain.ChannelTelegram, content: longTelegramPayload, textFallback: true,
			want: textContent("Pick\n\n1. Yes\n2. No")},
		{name: "long text shortened", kind: domain.ChannelInstagram, content: textContent(strings.Repeat("x", 998) + " yyyy"), textFallback: true,
			want: textContent(strings.Repeat("x", 998) + "…")},
		{name: "long text refused", kind: domain.ChannelInstagram, content: textContent(strings.Repeat("x", 998) + " yyyy"),
			wantField: "content.text.text"},
		{name: "long fallback shortened", kind: domain.ChannelWhatsApp, content: links, textFallback: true,
			want: textContent(linksText[:4095] + "…")},
		{name: "empty fallback refused", kind: domain.ChannelTelegram, content: postbackContent("", ""), textFallback: true,
			wantField: "content.postback"},
		{name: "unknown kind", kind: "sms", content: textContent("hi"), textFallback: true, wantField: "channel"},
		{name: "no content", kind: domain.ChannelWebchat, content: &batonv1.MessageContent{}, textFallback: true, wantField: "content"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := channel.Render(c.kind, c.content, c.textFallback)
			if c.want == nil {
				var invalid *domain.InvalidError
				if !errors.As(err, &invalid) || invalid.Field != c.wantField {
					t.Fatalf("Render = %v, %v; want an InvalidError on %s", got, err, c.wantField)
				}
				if checkErr := channel.Check(c.kind, c.content); err.Error() != checkErr.Error() {
					t.Errorf("Render error %q differs from Check's %q", err, checkErr)
				}
				if got != nil {
					t.Errorf("Render returned %v with its error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if d := cmp.Diff(c.want, got, protocmp.Transform()); d != "" {
				t.Errorf("Render mismatch (-want +got):\n%s", d)
			}
			if err := channel.Check(c.kind, got); err != nil {
				t.Errorf("Render's result does not pass Check: %v", err)
			}
		})
	}
}

// TestRenderShortens checks the shortened fallback of every kind: exactly the text limit, in
// characters, ending with the ellipsis.
func TestRenderShortens(t *testing.T) {
	for _, k := range kinds {
		limit := int(channel.Capabilities(k.kind).GetMaxTextLength())
		got, err := channel.Render(k.kind, textContent(chars(limit+50)), true)
		if err != nil {
			t.Fatalf("%s: Render: %v", k.kind, err)
		}
		s := got.GetText().GetText()
		if n := utf8.RuneCountInString(s); n != limit || s != chars(limit-1)+"…" {
			t.Errorf("%s: shortened to %d characters, want %d characters ending with an ellipsis", k.kind, n, limit)
		}
	}
}

func TestRenderKeepsFittingContent(t *testing.T) {
	c := buttonsContent("Pick", numbered(3)...)
	got, err := channel.Render(domain.ChannelMessenger, c, true)
	if err != nil || got != c {
		t.Errorf("Render = %p, %v; want the content itself (%p)", got, err, c)
	}
}
