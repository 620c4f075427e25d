package channel_test

import (
	"encoding/json"
	"strings"
	"testing"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
)

// TestPreview renders each kind of content as one short line for an inbox row.
func TestPreview(t *testing.T) {
	long := strings.Repeat("é", 200)
	for _, c := range []struct {
		name    string
		content *batonv1.MessageContent
		want    string
	}{
		{"text, whitespace folded", text("Hello,\n\n  where is   my parcel?"), "Hello, where is my parcel?"},
		{"long text cut at 140", text(long), strings.Repeat("é", 139) + "…"},
		{"image with caption", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, Url: "https://example.com/a.png", Caption: "My receipt"}}}, "[image] My receipt"},
		{"file without caption", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, Url: "https://example.com/a.pdf"}}}, "[file]"},
		{"buttons", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{
			Text: "Pick one", Buttons: []*batonv1.Button{{Title: "A", Action: &batonv1.Button_Payload{Payload: "a"}}}}}}, "Pick one"},
		{"carousel", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{
			Cards: []*batonv1.Card{{Title: "Red shoes"}, {Title: "Blue shoes"}}}}}, "[carousel] Red shoes"},
		{"quick replies", &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
			Text: "Yes or no?", Replies: []*batonv1.QuickReply{{Title: "Yes"}}}}}, "Yes or no?"},
		{"postback without title", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Payload: "ORDER_STATUS"}}}, "ORDER_STATUS"},
		{"location", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
			Latitude: 45.76, Longitude: 4.83, Name: "Home", Address: "1 rue de la Paix"}}}, "[location] Home, 1 rue de la Paix"},
	} {
		raw, err := channel.EncodeContent(c.content)
		if err != nil {
			t.Fatal(err)
		}
		if got := channel.Preview(raw); got != c.want {
			t.Errorf("%s: preview = %q, want %q", c.name, got, c.want)
		}
	}
	if got := channel.Preview(json.RawMessage(`{"unknown": 1`)); got != "[message]" {
		t.Errorf("undecodable content: preview = %q, want [message]", got)
	}
}

// TestWords: what routing rules read in a message is all its words, never cut.
func TestWords(t *testing.T) {
	long := strings.Repeat("invoice ", 100)
	for _, c := range []struct {
		name    string
		content *batonv1.MessageContent
		want    string
	}{
		{"long text whole", text(long), long},
		{"caption", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, Url: "https://example.com/a.png", Caption: "My receipt"}}}, "My receipt"},
		{"postback title and payload", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Title: "Billing", Payload: "TOPIC_BILLING"}}}, "Billing\nTOPIC_BILLING"},
		{"location", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{Name: "Home", Address: "1 rue de la Paix"}}}, "Home\n1 rue de la Paix"},
		{"carousel says nothing", &batonv1.MessageContent{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{Cards: []*batonv1.Card{{Title: "Red"}}}}}, ""},
	} {
		raw, err := channel.EncodeContent(c.content)
		if err != nil {
			t.Fatal(err)
		}
		if got := channel.Words(raw); got != c.want {
			t.Errorf("%s: words = %q, want %q", c.name, got, c.want)
		}
	}
	if got := channel.Words(json.RawMessage(`{"unknown": 1`)); got != "" {
		t.Errorf("undecodable content: words = %q, want none", got)
	}
}

func text(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}
