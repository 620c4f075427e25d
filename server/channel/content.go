package channel

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// EncodeContent encodes message content as Baton stores it: the API's JSON encoding. The JSON
// is compacted because protojson deliberately varies its whitespace between builds, and stored
// bytes should not.
func EncodeContent(c *batonv1.MessageContent) (json.RawMessage, error) {
	b, err := protojson.MarshalOptions{}.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeContent decodes stored content; empty content decodes to nil. Unknown fields are
// dropped so that content written by a newer server stays readable.
func DecodeContent(raw json.RawMessage) (*batonv1.MessageContent, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	c := new(batonv1.MessageContent)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("decode content: %w", err)
	}
	return c, nil
}

// previewLength is how many characters of a message a list row shows.
const previewLength = 140

// Preview is a message's content as one line of an inbox row, at most 140 characters: Line,
// truncated.
func Preview(raw json.RawMessage) string { return truncate(Line(raw), previewLength) }

// Line is a message's content as one line of text: text as it is, whitespace runs made one
// space, rich content as a short rendering ("[image] caption", "[carousel] first card").
// Content that does not decode is "[message]".
func Line(raw json.RawMessage) string {
	c, err := DecodeContent(raw)
	if err != nil || c == nil {
		return "[message]"
	}
	var s string
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text, *batonv1.MessageContent_Buttons, *batonv1.MessageContent_QuickReplies:
		s = Words(raw)
	case *batonv1.MessageContent_Attachment:
		s = tagged(attachmentTags[k.Attachment.GetType()], k.Attachment.GetCaption())
	case *batonv1.MessageContent_Carousel:
		var first string
		if cards := k.Carousel.GetCards(); len(cards) > 0 {
			first = cards[0].GetTitle()
		}
		s = tagged("[carousel]", first)
	case *batonv1.MessageContent_Postback:
		s = cmp.Or(k.Postback.GetTitle(), k.Postback.GetPayload())
	case *batonv1.MessageContent_Location:
		s = tagged("[location]", join(", ", k.Location.GetName(), k.Location.GetAddress()))
	default:
		s = "[message]"
	}
	return strings.Join(strings.Fields(s), " ")
}

// Words is what a message says in words, whole: its text, an attachment's caption, the text of
// buttons or quick replies, a postback's title and payload, a location's name and address. It
// is what routing rules look for words and patterns in; "" when the content says nothing.
func Words(raw json.RawMessage) string {
	c, err := DecodeContent(raw)
	if err != nil || c == nil {
		return ""
	}
	switch k := c.GetKind().(type) {
	case *batonv1.MessageContent_Text:
		return k.Text.GetText()
	case *batonv1.MessageContent_Attachment:
		return k.Attachment.GetCaption()
	case *batonv1.MessageContent_Buttons:
		return k.Buttons.GetText()
	case *batonv1.MessageContent_QuickReplies:
		return k.QuickReplies.GetText()
	case *batonv1.MessageContent_Postback:
		return join("\n", k.Postback.GetTitle(), k.Postback.GetPayload())
	case *batonv1.MessageContent_Location:
		return join("\n", k.Location.GetName(), k.Location.GetAddress())
	}
	return ""
}

var attachmentTags = map[batonv1.AttachmentType]string{
	batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE: "[image]",
	batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO: "[video]",
	batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO: "[audio]",
	batonv1.AttachmentType_ATTACHMENT_TYPE_FILE:  "[file]",
}

// tagged is a tag followed by the text, if any; "[file]" for an untagged attachment.
func tagged(tag, text string) string { return join(" ", cmp.Or(tag, "[file]"), text) }
