package telegram

import (
	"os"
	"path/filepath"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func text(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

func attachment(t batonv1.AttachmentType, url, caption, mime string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
		Type: t, Url: url, Caption: caption, MimeType: mime,
	}}}
}

func place(lat, lon float64, name, address string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
		Latitude: lat, Longitude: lon, Name: name, Address: address,
	}}}
}

func postback(title, payload string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Title: title, Payload: payload}}}
}

// testUser is the customer of Telegram's documented examples.
var testUser = domain.Contact{ExternalID: "1111111", DisplayName: "Test Firstname Test Lastname"}

func with(c domain.Contact, f func(*domain.Contact)) domain.Contact {
	f(&c)
	return c
}

// cmpUpdates compares updates: contents as protos, errors by presence.
var cmpUpdates = []cmp.Option{
	protocmp.Transform(),
	cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) }),
}

func TestParse(t *testing.T) {
	const docFile = "telegram-file:AwADBAADbXXXXXXXXXXXGBdhD2l6_XX"
	tests := []struct {
		fixture string
		want    []channel.Update
		wantErr bool
	}{
		{fixture: "text.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1365", Content: text("/start"),
			Contact: with(testUser, func(c *domain.Contact) { c.Locale = "en" }),
		}}},
		{fixture: "text_untyped_chat.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1365", Content: text("/start"),
			Contact: domain.Contact{ExternalID: "1111111", DisplayName: "Test Test Lastname"},
		}}},
		{fixture: "text_entities_reply.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1366", Content: text("Bold and italics"), Contact: testUser,
		}}},
		{fixture: "photo.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1367",
			Contact: with(testUser, func(c *domain.Contact) { c.Locale = "pt-br" }),
			Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, "telegram-file:AgACAgQAAxkBAAIBc2Large", "Look at this", ""),
		}}},
		{fixture: "document.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1365", Contact: testUser,
			Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, docFile, "", "application/pdf"),
		}}},
		{fixture: "audio.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1365", Contact: testUser,
			Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO, docFile, "", "audio/mpeg"),
		}}},
		{fixture: "voice.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1365", Contact: testUser,
			Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO, docFile, "", "audio/ogg"),
		}}},
		{fixture: "video.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1368",
			Contact: domain.Contact{ExternalID: "1111111", DisplayName: "Test Firstname"},
			Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO, "telegram-file:BAACAgQAAxkBAAIBdVideo", "Clip", "video/mp4"),
		}}},
		{fixture: "location.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1369",
			Contact: with(testUser, func(c *domain.Contact) { c.Locale = "de" }),
			Content: place(52.520008, 13.404954, "", ""),
		}}},
		{fixture: "venue.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1370",
			Contact: domain.Contact{ExternalID: "1111111", DisplayName: "Test Firstname"},
			Content: place(48.858370, 2.294481, "Eiffel Tower", "Champ de Mars, 5 Av. Anatole France, Paris"),
		}}},
		{fixture: "callback_query.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "cb:4382bfdwdsb323b2d9",
			Contact: with(testUser, func(c *domain.Contact) { c.Locale = "en" }),
			Content: postback("Shipping", "TOPIC_SHIPPING"),
		}}},
		// Telegram's documented example: a button on a message sent in inline mode, whose chat
		// is unknown; the title cannot be found.
		{fixture: "callback_query_inline.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "cb:4382bfdwdsb323b2d9", Contact: testUser,
			Content: postback("", "Data from button callback"),
		}}},
		// Content Baton has no kind for: the customer wrote, but it cannot be stored.
		{fixture: "sticker.json", want: []channel.Update{{
			Kind: channel.UpdateMessage, ChannelMessageID: "1111111:1371",
			Contact: domain.Contact{ExternalID: "1111111", DisplayName: "Test Firstname"},
			Err:     errSome,
		}}},
		// Ignored, without error.
		{fixture: "service_message.json"},
		{fixture: "callback_query_group.json"},
		{fixture: "edited_message.json"},
		{fixture: "group_message.json"},
		{fixture: "channel_post.json"},
		{fixture: "inline_query.json"},
		// Not an Update.
		{fixture: "malformed.json", wantErr: true},
		{fixture: "no_update_id.json", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := Parse(fixture(t, tt.fixture))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse: error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpUpdates...); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			for _, u := range got {
				if u.Content == nil {
					continue
				}
				if err := protovalidate.Validate(u.Content); err != nil {
					t.Errorf("content %v breaks the API's rules: %v", u.Content, err)
				}
			}
		})
	}
}

// errSome stands for any error in wanted updates.
var errSome = os.ErrInvalid

func TestParseBodies(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []channel.Update
		wantErr bool
	}{
		{name: "empty", body: ``, wantErr: true},
		{name: "array", body: `[{"update_id":1}]`, wantErr: true},
		{name: "null", body: `null`, wantErr: true},
		{name: "null update_id", body: `{"update_id":null}`, wantErr: true},
		{name: "message not an object", body: `{"update_id":1,"message":"hi"}`, wantErr: true},
		{name: "only update_id", body: `{"update_id":1}`},
		{name: "unknown kind", body: `{"update_id":1,"message_reaction":{"chat":{"id":1,"type":"private"}}}`},
		{name: "callback for a game", body: `{"update_id":1,"callback_query":{"id":"9","from":{"id":5,"first_name":"A"},"chat_instance":"1","game_short_name":"g"}}`},
		{name: "inaccessible message of a callback", body: `{"update_id":1,"callback_query":{"id":"9","from":{"id":5,"first_name":"A"},"message":{"chat":{"id":5,"type":"private"},"message_id":3,"date":0},"chat_instance":"1","data":"X"}}`,
			want: []channel.Update{{Kind: channel.UpdateMessage, ChannelMessageID: "cb:9", Contact: domain.Contact{ExternalID: "5", DisplayName: "A"}, Content: postback("", "X")}}},
		{name: "photo sizes in any order", body: `{"update_id":1,"message":{"message_id":2,"chat":{"id":5,"type":"private"},"photo":[{"file_id":"b","width":800,"height":600},{"file_id":"s","width":80,"height":60}]}}`,
			want: []channel.Update{{Kind: channel.UpdateMessage, ChannelMessageID: "5:2", Contact: domain.Contact{ExternalID: "5"},
				Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, "telegram-file:b", "", "")}}},
		{name: "animation over its document", body: `{"update_id":1,"message":{"message_id":2,"chat":{"id":5,"type":"private"},"animation":{"file_id":"a","mime_type":"video/mp4"},"document":{"file_id":"a","mime_type":"video/mp4"}}}`,
			want: []channel.Update{{Kind: channel.UpdateMessage, ChannelMessageID: "5:2", Contact: domain.Contact{ExternalID: "5"},
				Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO, "telegram-file:a", "", "video/mp4")}}},
		{name: "file id needing escapes", body: `{"update_id":1,"message":{"message_id":2,"chat":{"id":5,"type":"private"},"document":{"file_id":"a/b c"}}}`,
			want: []channel.Update{{Kind: channel.UpdateMessage, ChannelMessageID: "5:2", Contact: domain.Contact{ExternalID: "5"},
				Content: attachment(batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, "telegram-file:a%2Fb%20c", "", "")}}},
		{name: "private message without ids", body: `{"update_id":1,"message":{"chat":{"type":"private"},"text":"hi"}}`,
			want: []channel.Update{{Kind: channel.UpdateMessage, ChannelMessageID: "0:0", Contact: domain.Contact{ExternalID: "0"}, Err: errSome}}},
		{name: "untyped group chat", body: `{"update_id":1,"message":{"message_id":2,"chat":{"id":-5},"text":"hi"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse: error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpUpdates...); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileURL(t *testing.T) {
	for _, id := range []string{"AgACAgQAAxkBAAIBc2Large", "a/b c%d", "-_"} {
		u := FileURL(id)
		got, ok := FileID(u)
		if !ok || got != id {
			t.Errorf("FileID(FileURL(%q) = %q) = %q, %v", id, u, got, ok)
		}
	}
	for _, u := range []string{"https://example.com/a.png", "telegram-file:", "telegram-file:%zz", "telegram-files:x"} {
		if id, ok := FileID(u); ok {
			t.Errorf("FileID(%q) = %q, want no file id", u, id)
		}
	}
}

func TestCallbackAnswer(t *testing.T) {
	body, ok := CallbackAnswer("cb:4382bfdwdsb323b2d9")
	if want := `{"method":"answerCallbackQuery","callback_query_id":"4382bfdwdsb323b2d9"}`; !ok || string(body) != want {
		t.Errorf("CallbackAnswer = %s, %v, want %s", body, ok, want)
	}
	for _, id := range []string{"1111111:1365", "cb:", ""} {
		if body, ok := CallbackAnswer(id); ok {
			t.Errorf("CallbackAnswer(%q) = %s, want none", id, body)
		}
	}
}

func FuzzParse(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(fixture(f, e.Name()))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		updates, err := Parse(body)
		if err != nil && len(updates) > 0 {
			t.Fatalf("Parse returned both updates and error %v", err)
		}
		for _, u := range updates {
			if u.Kind != channel.UpdateMessage {
				t.Fatalf("update of kind %d", u.Kind)
			}
			if (u.Content == nil) == (u.Err == nil) {
				t.Fatalf("update with content %v and error %v: want exactly one", u.Content, u.Err)
			}
			if u.ChannelMessageID == "" {
				t.Fatal("update without a ChannelMessageID")
			}
		}
	})
}
