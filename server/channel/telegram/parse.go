package telegram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// FileScheme is the URL scheme of an attachment Telegram holds: "telegram-file:" followed by
// the file_id, path-escaped (file ids are URL-safe, so in practice verbatim). A file_id belongs
// to the bot that received it; downloading needs getFile and the bot token, which must not
// appear in a stored URL, so the id is kept instead. Sender sends such a URL back by its
// file_id, which Telegram recommends over re-uploading.
const FileScheme = "telegram-file"

// FileURL is the URL Baton stores for the file Telegram knows as fileID.
func FileURL(fileID string) string { return FileScheme + ":" + url.PathEscape(fileID) }

// FileID is the file_id of a FileURL, and whether u is one.
func FileID(u string) (string, bool) {
	rest, ok := strings.CutPrefix(u, FileScheme+":")
	if !ok || rest == "" {
		return "", false
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" {
		return "", false
	}
	return id, true
}

// CallbackPrefix starts the ChannelMessageID of a button press: "cb:" and the callback
// query's id (a press is not a message, and its id is unique among the bot's queries).
const CallbackPrefix = "cb:"

// The Bot API's objects, as far as Baton reads them (https://core.telegram.org/bots/api#update).
type (
	update struct {
		UpdateID      *int64         `json:"update_id"`
		Message       *message       `json:"message"`
		CallbackQuery *callbackQuery `json:"callback_query"`
		// edited_message, channel_post, business_message, inline_query, my_chat_member and
		// the other kinds are not decoded: Baton ignores them.
	}

	user struct {
		ID           int64  `json:"id"`
		FirstName    string `json:"first_name"`
		LastName     string `json:"last_name"`
		LanguageCode string `json:"language_code"`
	}

	chat struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	}

	message struct {
		MessageID   int64                 `json:"message_id"`
		From        *user                 `json:"from"`
		Chat        *chat                 `json:"chat"`
		Text        string                `json:"text"`
		Caption     string                `json:"caption"`
		Photo       []photoSize           `json:"photo"`
		Animation   *file                 `json:"animation"`
		Video       *file                 `json:"video"`
		VideoNote   *file                 `json:"video_note"`
		Audio       *file                 `json:"audio"`
		Voice       *file                 `json:"voice"`
		Document    *file                 `json:"document"`
		Venue       *venue                `json:"venue"`
		Location    *location             `json:"location"`
		ReplyMarkup *inlineKeyboardMarkup `json:"reply_markup"`

		// Content a customer can send that Baton has no kind for.
		Sticker   json.RawMessage `json:"sticker"`
		Contact   json.RawMessage `json:"contact"`
		Poll      json.RawMessage `json:"poll"`
		Dice      json.RawMessage `json:"dice"`
		Game      json.RawMessage `json:"game"`
		Story     json.RawMessage `json:"story"`
		PaidMedia json.RawMessage `json:"paid_media"`
		Checklist json.RawMessage `json:"checklist"`
	}

	photoSize struct {
		FileID   string `json:"file_id"`
		Width    int64  `json:"width"`
		Height   int64  `json:"height"`
		FileSize int64  `json:"file_size"`
	}

	// file is any of Animation, Video, VideoNote, Audio, Voice and Document.
	file struct {
		FileID   string `json:"file_id"`
		MimeType string `json:"mime_type"`
	}

	location struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	}

	venue struct {
		Location location `json:"location"`
		Title    string   `json:"title"`
		Address  string   `json:"address"`
	}

	callbackQuery struct {
		ID              string   `json:"id"`
		From            *user    `json:"from"`
		Message         *message `json:"message"`
		InlineMessageID string   `json:"inline_message_id"`
		Data            *string  `json:"data"`
	}

	inlineKeyboardMarkup struct {
		InlineKeyboard [][]inlineKeyboardButton `json:"inline_keyboard"`
	}

	inlineKeyboardButton struct {
		Text         string `json:"text"`
		CallbackData string `json:"callback_data,omitempty"`
		URL          string `json:"url,omitempty"`
	}
)

// Parse reads the body of one webhook request: one Update object. It yields
//
//   - for a message in a private chat, an UpdateMessage: text as TextContent; a photo (its
//     largest size), animation, video, video note, audio, voice message or document as an
//     Attachment (URL a FileURL, with the caption and the mime_type Telegram gives); a venue
//     or a location as a Location. Its ChannelMessageID is "<chat id>:<message_id>" (message
//     ids are per chat), Contact.ExternalID the chat id, where replies go;
//   - for a callback_query (a press on an inline keyboard button), an UpdateMessage with a
//     Postback of the button's callback_data, titled with the button's text when the message
//     the button is on is at hand; its ChannelMessageID is "cb:" and the query id;
//   - for a private message with content Baton has no kind for (a sticker, a contact, a
//     poll...), an UpdateMessage carrying Err.
//
// Edited messages, channel posts, messages in groups, service messages and every other kind
// of update yield nothing. A body that is not an Update (not JSON, no update_id) is an error.
func Parse(body []byte) ([]channel.Update, error) {
	var u update
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, fmt.Errorf("the body is not a Telegram Update: %w", err)
	}
	if u.UpdateID == nil {
		return nil, errors.New("the body is not a Telegram Update: it has no update_id")
	}
	switch {
	case u.Message != nil:
		if up, ok := parseMessage(u.Message); ok {
			return []channel.Update{up}, nil
		}
	case u.CallbackQuery != nil:
		if up, ok := parseCallback(u.CallbackQuery); ok {
			return []channel.Update{up}, nil
		}
	}
	return nil, nil
}

// private reports whether c is a private chat with a user. The Bot API always sets type; the
// oldest examples of Telegram's webhook guide leave it out, and then the chat is taken as
// private when its id is positive (groups' and channels' ids are negative).
func (c *chat) private() bool {
	if c == nil {
		return false
	}
	if c.Type == "" {
		return c.ID > 0
	}
	return c.Type == "private"
}

// contact is the customer: the chat replies go to, named and localised after the sender.
func contact(chatID int64, from *user, c *chat) domain.Contact {
	ct := domain.Contact{ExternalID: strconv.FormatInt(chatID, 10)}
	switch {
	case from != nil:
		ct.DisplayName = fullName(from.FirstName, from.LastName)
		ct.Locale = from.LanguageCode
	case c != nil:
		ct.DisplayName = fullName(c.FirstName, c.LastName)
	}
	return ct
}

func fullName(first, last string) string { return strings.TrimSpace(first + " " + last) }

func parseMessage(m *message) (channel.Update, bool) {
	if !m.Chat.private() {
		return channel.Update{}, false
	}
	up := channel.Update{
		Kind:             channel.UpdateMessage,
		Contact:          contact(m.Chat.ID, m.From, m.Chat),
		ChannelMessageID: fmt.Sprintf("%d:%d", m.Chat.ID, m.MessageID),
	}
	if m.Chat.ID == 0 || m.MessageID == 0 {
		up.Err = errors.New("the message has no chat id or no message_id")
		return up, true
	}
	content, unsupported := messageContent(m)
	switch {
	case content != nil:
		up.Content = content
	case unsupported != "":
		up.Err = fmt.Errorf("a Telegram %s message has no Baton content kind", unsupported)
	default:
		return channel.Update{}, false // a service message: nothing the customer wrote
	}
	return up, true
}

// messageContent is the content of m, or the name of the content Baton cannot represent, or
// neither for a service message.
func messageContent(m *message) (*batonv1.MessageContent, string) {
	attach := func(t batonv1.AttachmentType, fileID, mime string) *batonv1.MessageContent {
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type: t, Url: FileURL(fileID), Caption: m.Caption, MimeType: mime,
		}}}
	}
	switch {
	case m.Text != "":
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: m.Text}}}, ""
	case len(m.Photo) > 0:
		if p := largest(m.Photo); p.FileID != "" {
			return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE, p.FileID, ""), ""
		}
	// An animation comes with a document too, for clients that predate animations.
	case m.Animation != nil && m.Animation.FileID != "":
		return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO, m.Animation.FileID, m.Animation.MimeType), ""
	case m.Video != nil && m.Video.FileID != "":
		return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO, m.Video.FileID, m.Video.MimeType), ""
	case m.VideoNote != nil && m.VideoNote.FileID != "":
		return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_VIDEO, m.VideoNote.FileID, m.VideoNote.MimeType), ""
	case m.Audio != nil && m.Audio.FileID != "":
		return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO, m.Audio.FileID, m.Audio.MimeType), ""
	case m.Voice != nil && m.Voice.FileID != "":
		return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_AUDIO, m.Voice.FileID, m.Voice.MimeType), ""
	case m.Document != nil && m.Document.FileID != "":
		return attach(batonv1.AttachmentType_ATTACHMENT_TYPE_FILE, m.Document.FileID, m.Document.MimeType), ""
	// A venue comes with its location too.
	case m.Venue != nil:
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
			Latitude: m.Venue.Location.Latitude, Longitude: m.Venue.Location.Longitude, Name: m.Venue.Title, Address: m.Venue.Address,
		}}}, ""
	case m.Location != nil:
		return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
			Latitude: m.Location.Latitude, Longitude: m.Location.Longitude,
		}}}, ""
	}
	for _, c := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"sticker", m.Sticker}, {"contact", m.Contact}, {"poll", m.Poll}, {"dice", m.Dice}, {"game", m.Game},
		{"story", m.Story}, {"paid media", m.PaidMedia}, {"checklist", m.Checklist},
	} {
		if present(c.raw) {
			return nil, c.name
		}
	}
	if len(m.Photo) > 0 || m.Animation != nil || m.Video != nil || m.VideoNote != nil || m.Audio != nil || m.Voice != nil || m.Document != nil {
		return nil, "media without a file_id"
	}
	return nil, ""
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// largest is the biggest of a photo's sizes (by area, then file size; the last of equals,
// Telegram listing them from the smallest).
func largest(sizes []photoSize) photoSize {
	best := sizes[0]
	for _, p := range sizes[1:] {
		if a, b := p.Width*p.Height, best.Width*best.Height; a > b || (a == b && p.FileSize >= best.FileSize) {
			best = p
		}
	}
	return best
}

func parseCallback(q *callbackQuery) (channel.Update, bool) {
	if q.Data == nil {
		return channel.Update{}, false // a game's button: game_short_name instead of data
	}
	var (
		chatID int64
		title  string
	)
	switch {
	case q.Message != nil:
		// The bot's message the button is on; an inaccessible (old) one still has its chat.
		if !q.Message.Chat.private() {
			return channel.Update{}, false
		}
		chatID = q.Message.Chat.ID
		title = buttonText(q.Message.ReplyMarkup, *q.Data)
	case q.From != nil:
		// A message sent in inline mode: the chat is unknown, and replies go to the user's
		// private chat with the bot, whose id is the user's.
		chatID = q.From.ID
	}
	var c *chat
	if q.Message != nil {
		c = q.Message.Chat
	}
	up := channel.Update{
		Kind:             channel.UpdateMessage,
		Contact:          contact(chatID, q.From, c),
		ChannelMessageID: CallbackPrefix + q.ID,
		Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{
			Title: title, Payload: *q.Data,
		}}},
	}
	if q.ID == "" || chatID == 0 {
		up.Content = nil
		up.Err = errors.New("the callback query has no id or no chat")
	}
	return up, true
}

// buttonText is the text of the button of an inline keyboard that carries data, if any.
func buttonText(k *inlineKeyboardMarkup, data string) string {
	if k == nil {
		return ""
	}
	for _, row := range k.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return b.Text
			}
		}
	}
	return ""
}
