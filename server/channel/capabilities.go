package channel

// What each kind of channel can render (Capabilities), whether a message fits it (Check), and
// how a message that does not fit reads as plain text (Fallback, Render).
//
// Every figure is the smaller of the network's documented limit and the API's own limit
// (message.proto's protovalidate rules), so that content the API accepts and Check passes is
// content the channel's send API takes. Lengths count characters (Unicode code points), as
// protovalidate's max_len does, except where a network counts bytes (Telegram's callback_data).

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// The API's own limits (message.proto). Web chat and generic channels render all the API allows.
const (
	apiTextLength            = 8192 // TextContent.text
	apiButtons               = 10   // ButtonsContent.buttons
	apiButtonTitleLength     = 80   // Button.title
	apiButtonsTextLength     = 2000 // ButtonsContent.text and QuickReplies.text
	apiQuickReplies          = 13   // QuickReplies.replies
	apiQuickReplyTitleLength = 20   // QuickReply.title
	apiCarouselCards         = 10   // Carousel.cards
	apiCardButtons           = 3    // Card.buttons
	apiCaptionLength         = 4096 // Attachment.caption
	apiPayloadLength         = 1000 // Button.payload and QuickReply.payload
)

// profile is what one kind of channel can render: the published capabilities and the few
// limits ChannelCapabilities has no field for, which Check enforces all the same.
type profile struct {
	// name is how refusals call the channel, at the start of a sentence.
	name string
	caps *batonv1.ChannelCapabilities
	// maxCaptionLength is the longest attachment caption, in characters; noAudioCaption says
	// audio takes none.
	maxCaptionLength int
	noAudioCaption   bool
	// buttonPayload and replyPayload bound the payload of a button and of a quick reply.
	buttonPayload, replyPayload payloadLimit
	// lonelyLinkButton: a button that opens a URL must be the message's only button.
	lonelyLinkButton bool
	// distinctTitles: no two buttons, or quick replies, of a message may have the same title.
	distinctTitles bool
	// postbacks: a Postback can be sent to the customer. Only Baton's own clients can show one;
	// on a network a postback is what a customer's tap sends back, never something sent.
	postbacks bool
}

// payloadLimit bounds a payload: n characters, or n bytes when bytes is set; required says
// it may not be empty.
type payloadLimit struct {
	n        int
	bytes    bool
	required bool
}

// check checks the payload of what field names ("button", "quick reply").
func (l payloadLimit) check(field, name, what, payload string) error {
	if l.required && payload == "" {
		return domain.Invalid(field, "%s needs a %s payload of 1 to %d %s; this one is empty", name, what, l.n, l.unit())
	}
	if n := l.size(payload); n > l.n {
		return domain.Invalid(field, "%s takes %s payloads of at most %d %s; this one has %d", name, what, l.n, l.unit(), n)
	}
	return nil
}

func (l payloadLimit) size(s string) int {
	if l.bytes {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

func (l payloadLimit) unit() string {
	if l.bytes {
		return "bytes"
	}
	return "characters"
}

// apiProfile is a channel that renders everything the API allows.
func apiProfile(name string, kind batonv1.ChannelKind) profile {
	return profile{
		name: name,
		caps: &batonv1.ChannelCapabilities{
			Kind:                     kind,
			MaxTextLength:            apiTextLength,
			Attachments:              true,
			MaxButtons:               apiButtons,
			MaxButtonTitleLength:     apiButtonTitleLength,
			MaxButtonsTextLength:     apiButtonsTextLength,
			MaxQuickReplies:          apiQuickReplies,
			MaxQuickReplyTitleLength: apiQuickReplyTitleLength,
			MaxCarouselCards:         apiCarouselCards,
			MaxCardButtons:           apiCardButtons,
			Location:                 true,
		},
		maxCaptionLength: apiCaptionLength,
		buttonPayload:    payloadLimit{n: apiPayloadLength},
		replyPayload:     payloadLimit{n: apiPayloadLength},
		postbacks:        true,
	}
}

// profiles holds one entry per channel kind. Sources are Meta's Messenger Platform, Instagram
// messaging and WhatsApp Cloud API references and the Telegram Bot API, as read in 2026.
var profiles = map[domain.ChannelKind]profile{
	domain.ChannelMessenger: {
		name: "Messenger",
		caps: &batonv1.ChannelCapabilities{
			Kind: batonv1.ChannelKind_CHANNEL_KIND_MESSENGER,
			// Send API: message text "has a 2000 character limit".
			MaxTextLength: 2000,
			// Image, audio, video and file attachments.
			Attachments: true,
			// Button template: "UTF-8-encoded text of up to 640 characters" above "1-3 buttons";
			// a postback or URL button's title has a "20 character limit".
			MaxButtons:           3,
			MaxButtonTitleLength: 20,
			// Quick replies ride on a text message (2000), but one figure covers the text above
			// buttons and above quick replies: the button template's 640 holds for both.
			MaxButtonsTextLength: 640,
			// Quick replies: "up to 13", titles of 20 characters.
			MaxQuickReplies:          13,
			MaxQuickReplyTitleLength: 20,
			// Generic template: "Maximum of 10 elements", each with up to three buttons.
			MaxCarouselCards: 10,
			MaxCardButtons:   3,
			// The Send API has no message that sends a location.
			Location: false,
		},
		// Messenger attachments have no caption: it goes as a text message after the file.
		maxCaptionLength: 2000,
		// Postback button and quick reply payloads: "1000 character limit".
		buttonPayload: payloadLimit{n: 1000},
		replyPayload:  payloadLimit{n: 1000},
	},
	domain.ChannelInstagram: {
		name: "Instagram",
		caps: &batonv1.ChannelCapabilities{
			Kind: batonv1.ChannelKind_CHANNEL_KIND_INSTAGRAM,
			// Send a Message: "Text message must be less than 1000 characters" (the same page
			// also says "UTF-8 and ... 1000 bytes or less").
			MaxTextLength: 1000,
			// Images, video and audio (and files on the newer pages).
			Attachments: true,
			// Button template: "up to three attached buttons" (not shown on the web version).
			// The Instagram pages give no lengths: those of the Messenger Platform, which
			// serves them, apply (640-character text, 20-character button titles).
			MaxButtons:           3,
			MaxButtonTitleLength: 20,
			MaxButtonsTextLength: 640,
			// Quick replies: "A maximum of 13", each "up to 20 characters" (mobile apps only).
			MaxQuickReplies:          13,
			MaxQuickReplyTitleLength: 20,
			// Generic template: up to 10 elements, "A maximum of 3 buttons per element" (not
			// shown on desktop).
			MaxCarouselCards: 10,
			MaxCardButtons:   3,
			// No location message.
			Location: false,
		},
		// No captions either: the caption goes as a text message after the file.
		maxCaptionLength: 1000,
		buttonPayload:    payloadLimit{n: 1000},
		replyPayload:     payloadLimit{n: 1000},
	},
	domain.ChannelWhatsApp: {
		name: "WhatsApp",
		caps: &batonv1.ChannelCapabilities{
			Kind: batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP,
			// Text messages: body of at most 4096 characters.
			MaxTextLength: 4096,
			// Image, video, audio and document messages.
			Attachments: true,
			// Payload buttons are interactive reply buttons when there are up to three (titles
			// of 20 characters, ids of 256) and an interactive list beyond ("up to 10 rows for
			// all sections combined", row titles of 24 characters, ids of 200); body text of
			// 1024 either way. A URL button is an interactive call-to-action URL message: one
			// button, on its own (lonelyLinkButton).
			MaxButtons:           10,
			MaxButtonTitleLength: 20,
			MaxButtonsTextLength: 1024,
			// Quick replies go the same way as payload buttons.
			MaxQuickReplies:          10,
			MaxQuickReplyTitleLength: 20,
			// Chosen: no carousel. WhatsApp's interactive media carousel needs 2 to 10 cards,
			// each with an image or video header and the same set of buttons, and has no card
			// title: it cannot carry a Baton carousel faithfully.
			MaxCarouselCards: 0,
			MaxCardButtons:   0,
			// Location messages.
			Location: true,
		},
		// Image, video and document captions: "Maximum 1024 characters". Audio has none.
		maxCaptionLength: 1024,
		noAudioCaption:   true,
		// The payload is a reply button's id (256 characters) or a list row's (200).
		buttonPayload:    payloadLimit{n: 200},
		replyPayload:     payloadLimit{n: 200},
		lonelyLinkButton: true,
		// Reply button titles "must be unique within the message".
		distinctTitles: true,
	},
	domain.ChannelTelegram: {
		name: "Telegram",
		caps: &batonv1.ChannelCapabilities{
			Kind: batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM,
			// sendMessage: "1-4096 characters after entities parsing".
			MaxTextLength: 4096,
			// sendPhoto, sendVideo, sendAudio, sendDocument.
			Attachments: true,
			// Buttons are an inline keyboard under the text. The Bot API states no number of
			// buttons and no length of their text, so the API's limits stand; the text above
			// them is a message text (4096), above the API's 2000.
			MaxButtons:           apiButtons,
			MaxButtonTitleLength: apiButtonTitleLength,
			MaxButtonsTextLength: apiButtonsTextLength,
			// Quick replies are inline keyboard buttons too: a reply keyboard would send back
			// the title only, not the payload.
			MaxQuickReplies:          apiQuickReplies,
			MaxQuickReplyTitleLength: apiQuickReplyTitleLength,
			// No carousel.
			MaxCarouselCards: 0,
			MaxCardButtons:   0,
			// sendLocation, or sendVenue when there is a name and address.
			Location: true,
		},
		// Captions: "0-1024 characters after entities parsing".
		maxCaptionLength: 1024,
		// callback_data, which carries a button's or quick reply's payload: "1-64 bytes".
		buttonPayload: payloadLimit{n: 64, bytes: true, required: true},
		replyPayload:  payloadLimit{n: 64, bytes: true, required: true},
	},
	domain.ChannelWebchat: apiProfile("Web chat", batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT),
	domain.ChannelGeneric: apiProfile("A generic channel", batonv1.ChannelKind_CHANNEL_KIND_GENERIC),
}

// Capabilities is what a kind of channel can render, or nil for an unknown kind. The result is
// the caller's to keep or change.
func Capabilities(kind domain.ChannelKind) *batonv1.ChannelCapabilities {
	p, ok := profiles[kind]
	if !ok {
		return nil
	}
	return proto.Clone(p.caps).(*batonv1.ChannelCapabilities)
}

// Check returns nil when a kind of channel can render c, and otherwise a *domain.InvalidError
// naming the first field that does not fit and the limit it breaks. It checks the channel's
// limits only: that c is valid at all is protovalidate's business.
func Check(kind domain.ChannelKind, c *batonv1.MessageContent) error {
	p, ok := profiles[kind]
	if !ok {
		return domain.Invalid("channel", "unknown channel kind %q", kind)
	}
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text:
		if n, limit := runes(k.Text.GetText()), p.caps.GetMaxTextLength(); n > int(limit) {
			return domain.Invalid("content.text.text", "%s takes text of at most %d characters; this text has %d", p.name, limit, n)
		}
		return nil
	case *batonv1.MessageContent_Attachment:
		return p.checkAttachment(k.Attachment)
	case *batonv1.MessageContent_Buttons:
		return p.checkButtons(k.Buttons)
	case *batonv1.MessageContent_Carousel:
		return p.checkCarousel(k.Carousel)
	case *batonv1.MessageContent_QuickReplies:
		return p.checkQuickReplies(k.QuickReplies)
	case *batonv1.MessageContent_Postback:
		if !p.postbacks {
			return domain.Invalid("content.postback", "%s cannot send a postback: a postback is what a customer's tap sends back", p.name)
		}
		return nil
	case *batonv1.MessageContent_Location:
		if !p.caps.GetLocation() {
			return domain.Invalid("content.location", "%s cannot send a location", p.name)
		}
		return nil
	default:
		return domain.Invalid("content", "the content has no kind: set one of text, attachment, buttons, carousel, quick_replies, postback or location")
	}
}

func (p profile) checkAttachment(a *batonv1.Attachment) error {
	if !p.caps.GetAttachments() {
		return domain.Invalid("content.attachment", "%s cannot send attachments", p.name)
	}
	if p.noAudioCaption && a.GetType() == batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO && a.GetCaption() != "" {
		return domain.Invalid("content.attachment.caption", "%s sends audio without a caption; send the caption as a text message", p.name)
	}
	if n := runes(a.GetCaption()); n > p.maxCaptionLength {
		return domain.Invalid("content.attachment.caption", "%s takes captions of at most %d characters; this caption has %d", p.name, p.maxCaptionLength, n)
	}
	return nil
}

func (p profile) checkButtons(b *batonv1.ButtonsContent) error {
	const field = "content.buttons"
	limit := int(p.caps.GetMaxButtons())
	if limit == 0 {
		return domain.Invalid(field, "%s cannot show buttons", p.name)
	}
	buttons := b.GetButtons()
	if len(buttons) > limit {
		return domain.Invalid(field+".buttons", "%s shows at most %d buttons; this message has %d", p.name, limit, len(buttons))
	}
	if n, limit := runes(b.GetText()), int(p.caps.GetMaxButtonsTextLength()); n > limit {
		return domain.Invalid(field+".text", "%s takes at most %d characters above buttons; this text has %d", p.name, limit, n)
	}
	if err := p.checkButtonList(field+".buttons", buttons); err != nil {
		return err
	}
	if p.lonelyLinkButton && len(buttons) > 1 {
		links := 0
		for _, btn := range buttons {
			if btn.GetUrl() != "" {
				links++
			}
		}
		if links > 0 {
			return domain.Invalid(field+".buttons", "%s shows a link button only on its own; this message has %d buttons, %d of them links", p.name, len(buttons), links)
		}
	}
	if p.distinctTitles {
		titles := make([]string, len(buttons))
		for i, btn := range buttons {
			titles[i] = btn.GetTitle()
		}
		return p.checkDistinct(field+".buttons", "button", "buttons", titles)
	}
	return nil
}

// checkDistinct refuses two equal titles among those of the list field names: things (one
// thing) in a message.
func (p profile) checkDistinct(field, thing, things string, titles []string) error {
	seen := make(map[string]int, len(titles))
	for i, t := range titles {
		if j, dup := seen[t]; dup {
			return domain.Invalid(fmt.Sprintf("%s[%d].title", field, i), "%s needs distinct %s titles; %s %d and %d are both %q", p.name, thing, things, j, i, t)
		}
		seen[t] = i
	}
	return nil
}

// checkButtonList checks the title and payload of each button; field names the list.
func (p profile) checkButtonList(field string, buttons []*batonv1.Button) error {
	titleLimit := int(p.caps.GetMaxButtonTitleLength())
	for i, btn := range buttons {
		if n := runes(btn.GetTitle()); n > titleLimit {
			return domain.Invalid(fmt.Sprintf("%s[%d].title", field, i), "%s takes button titles of at most %d characters; this one has %d", p.name, titleLimit, n)
		}
		if a, ok := btn.GetAction().(*batonv1.Button_Payload); ok {
			if err := p.buttonPayload.check(fmt.Sprintf("%s[%d].payload", field, i), p.name, "button", a.Payload); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p profile) checkCarousel(c *batonv1.Carousel) error {
	const field = "content.carousel"
	limit := int(p.caps.GetMaxCarouselCards())
	if limit == 0 {
		return domain.Invalid(field, "%s cannot show carousels", p.name)
	}
	cards := c.GetCards()
	if len(cards) > limit {
		return domain.Invalid(field+".cards", "%s shows at most %d cards in a carousel; this one has %d", p.name, limit, len(cards))
	}
	buttonLimit := int(p.caps.GetMaxCardButtons())
	for i, card := range cards {
		cardField := fmt.Sprintf("%s.cards[%d].buttons", field, i)
		if n := len(card.GetButtons()); n > buttonLimit {
			return domain.Invalid(cardField, "%s shows at most %d buttons on a card; this card has %d", p.name, buttonLimit, n)
		}
		if err := p.checkButtonList(cardField, card.GetButtons()); err != nil {
			return err
		}
	}
	return nil
}

func (p profile) checkQuickReplies(q *batonv1.QuickReplies) error {
	const field = "content.quick_replies"
	limit := int(p.caps.GetMaxQuickReplies())
	if limit == 0 {
		return domain.Invalid(field, "%s cannot show quick replies", p.name)
	}
	replies := q.GetReplies()
	if len(replies) > limit {
		return domain.Invalid(field+".replies", "%s shows at most %d quick replies; this message has %d", p.name, limit, len(replies))
	}
	if n, limit := runes(q.GetText()), int(p.caps.GetMaxButtonsTextLength()); n > limit {
		return domain.Invalid(field+".text", "%s takes at most %d characters above quick replies; this text has %d", p.name, limit, n)
	}
	titleLimit := int(p.caps.GetMaxQuickReplyTitleLength())
	for i, r := range replies {
		if n := runes(r.GetTitle()); n > titleLimit {
			return domain.Invalid(fmt.Sprintf("%s.replies[%d].title", field, i), "%s takes quick reply titles of at most %d characters; this one has %d", p.name, titleLimit, n)
		}
		if err := p.replyPayload.check(fmt.Sprintf("%s.replies[%d].payload", field, i), p.name, "quick reply", r.GetPayload()); err != nil {
			return err
		}
	}
	if p.distinctTitles {
		titles := make([]string, len(replies))
		for i, r := range replies {
			titles[i] = r.GetTitle()
		}
		return p.checkDistinct(field+".replies", "quick reply", "quick replies", titles)
	}
	return nil
}

// Fallback is c as plain text, for a channel that cannot show c as it is, or nil when c has no
// kind. Text stays as it is; an attachment is its caption and URL; buttons are the text and
// the numbered button titles (with their URLs); a carousel is each card's title, subtitle and
// numbered buttons; quick replies are the text and the numbered titles; a location is its
// name and address and a map link; a postback is its title (or its payload when untitled).
// The text is not shortened to any channel's limit: Render does that.
func Fallback(c *batonv1.MessageContent) *batonv1.MessageContent {
	var s string
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text:
		s = k.Text.GetText()
	case *batonv1.MessageContent_Attachment:
		s = lines(k.Attachment.GetCaption(), k.Attachment.GetUrl())
	case *batonv1.MessageContent_Buttons:
		s = paragraphs(k.Buttons.GetText(), buttonLines(k.Buttons.GetButtons()))
	case *batonv1.MessageContent_Carousel:
		cards := make([]string, 0, len(k.Carousel.GetCards()))
		for _, card := range k.Carousel.GetCards() {
			cards = append(cards, lines(card.GetTitle(), card.GetSubtitle(), buttonLines(card.GetButtons())))
		}
		s = paragraphs(cards...)
	case *batonv1.MessageContent_QuickReplies:
		titles := make([]string, 0, len(k.QuickReplies.GetReplies()))
		for i, r := range k.QuickReplies.GetReplies() {
			titles = append(titles, strconv.Itoa(i+1)+". "+r.GetTitle())
		}
		s = paragraphs(k.QuickReplies.GetText(), lines(titles...))
	case *batonv1.MessageContent_Postback:
		s = k.Postback.GetTitle()
		if s == "" {
			s = k.Postback.GetPayload()
		}
	case *batonv1.MessageContent_Location:
		l := k.Location
		s = lines(join(", ", l.GetName(), l.GetAddress()), mapURL(l.GetLatitude(), l.GetLongitude()))
	default:
		return nil
	}
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

// mapURL links to a point on Google Maps (its documented Maps URLs, which open the app where
// there is one).
func mapURL(latitude, longitude float64) string {
	return "https://www.google.com/maps/search/?api=1&query=" +
		strconv.FormatFloat(latitude, 'f', -1, 64) + "%2C" + strconv.FormatFloat(longitude, 'f', -1, 64)
}

// Render is c as a kind of channel will show it: c itself when Check passes; otherwise, when
// textFallback is set, Fallback(c) — shortened to the channel's text limit with an ellipsis —
// provided the channel can show that; otherwise Check's error. With textFallback, a text that
// is too long is shortened too.
func Render(kind domain.ChannelKind, c *batonv1.MessageContent, textFallback bool) (*batonv1.MessageContent, error) {
	err := Check(kind, c)
	if err == nil {
		return c, nil
	}
	p, ok := profiles[kind]
	if !textFallback || !ok {
		return nil, err
	}
	f := Fallback(c)
	if f == nil || f.GetText().GetText() == "" {
		return nil, err
	}
	f.GetText().Text = truncate(f.GetText().GetText(), int(p.caps.GetMaxTextLength()))
	if Check(kind, f) != nil {
		return nil, err
	}
	return f, nil
}

// buttonLines numbers buttons from 1, each with its URL if it opens one.
func buttonLines(buttons []*batonv1.Button) string {
	out := make([]string, 0, len(buttons))
	for i, b := range buttons {
		line := strconv.Itoa(i+1) + ". " + b.GetTitle()
		if u := b.GetUrl(); u != "" {
			line += ": " + u
		}
		out = append(out, line)
	}
	return lines(out...)
}

// lines joins the non-empty parts with newlines; paragraphs with blank lines.
func lines(parts ...string) string      { return join("\n", parts...) }
func paragraphs(parts ...string) string { return join("\n\n", parts...) }

func join(sep string, parts ...string) string {
	kept := make([]string, 0, len(parts))
	for _, s := range parts {
		if s != "" {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, sep)
}

// ellipsis ends a shortened text.
const ellipsis = "…"

// truncate shortens s to at most limit characters, ending it with an ellipsis when it cuts.
func truncate(s string, limit int) string {
	if runes(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	cut := 0
	for range limit - 1 { // keep limit-1 characters, then the ellipsis
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + ellipsis
}

func runes(s string) int { return utf8.RuneCountInString(s) }
