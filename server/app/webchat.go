package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// The web chat: a site's chat widget talks to Baton from the visitor's browser, with no API
// key. StartChat gives the visitor a token, signed with the web chat channel's webhook secret,
// that names them; the other calls take that token.
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(secret, label || payload)), unpadded,
// where the payload is a version byte then four length-prefixed (uvarint) strings: the channel
// id, the visitor id, the visitor's locale and display name. Carrying the profile in the token
// keeps StartChat stateless (a page view that never writes stores nothing); the contact is
// created, with that profile, by the visitor's first message. A token does not expire: changing
// the channel's webhook secret revokes every token of the channel, open streams included.

// ErrChatToken refuses a web chat token that does not verify: malformed, forged, or signed for
// a channel that no longer exists, is no longer a web chat, or changed its secret.
var ErrChatToken = errors.New("the chat token does not verify: start a new chat")

// webchatPrincipal is who web chat visitors' messages are ingested as, once their token is
// checked: a service, which may ingest on any channel.
var webchatPrincipal = domain.Principal{Role: domain.PrincipalService, KeyID: "webchat"}

// Visitor is a web chat visitor as their token names them.
type Visitor struct {
	ChannelID   string
	VisitorID   string
	DisplayName string
	Locale      string
}

const (
	// chatTokenVersion is the first byte of a token's payload.
	chatTokenVersion = 1
	// chatTokenLabel separates web chat MACs from anything else the secret signs.
	chatTokenLabel = "baton.webchat.v1\x00"
	// maxChatToken is the longest token the API takes (StreamChatRequest.token).
	maxChatToken = 512
	// maxChatPayload is the longest payload whose token fits: 4/3 of it, then "." and the MAC.
	maxChatPayload = (maxChatToken - 1 - 43) * 3 / 4
)

var chatEncoding = base64.RawURLEncoding

// StartChat starts a visitor's chat on a web chat channel and returns their token. A channel
// that does not exist or is not a web chat is not found; a web chat without a webhook secret
// cannot sign tokens. The display name is cut, at a character boundary, to what fits in a token.
func (a *App) StartChat(ctx context.Context, channelID, displayName, locale string) (string, error) {
	var ch domain.Channel
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		ch, err = tx.GetChannel(ctx, channelID)
		return err
	})
	if err != nil {
		return "", err
	}
	if ch.Kind != domain.ChannelWebchat {
		return "", domain.NotFound("channel", channelID) // other kinds are not the widget's business
	}
	if ch.Credentials.WebhookSecret == "" {
		return "", domain.Precondition("webhook_secret",
			"web chat channel %s needs a webhook secret to sign visitor tokens: set its credentials' webhook_secret", ch.ID)
	}
	v := Visitor{ChannelID: ch.ID, VisitorID: ids.New("visitor"), DisplayName: displayName, Locale: locale}
	return signChatToken(ch.Credentials.WebhookSecret, v), nil
}

// ChatVisitor verifies a token and returns the channel and visitor it names, or ErrChatToken.
func (a *App) ChatVisitor(ctx context.Context, token string) (channelID, visitorID string, err error) {
	var v Visitor
	err = a.read(ctx, func(tx store.Tx) error {
		v, err = verifyChatToken(ctx, tx, token)
		return err
	})
	return v.ChannelID, v.VisitorID, err
}

// SendChatMessage stores a visitor's message, as the channel's contact whose external id is
// the visitor id, with the token's profile. The message's channel message id is the visitor id
// and the widget's id for it, so a retry stores nothing new and returns the original.
func (a *App) SendChatMessage(ctx context.Context, token, clientMessageID string, content json.RawMessage, pageURL string) (Ingested, error) {
	if clientMessageID == "" {
		return Ingested{}, domain.Invalid("client_message_id", "is required")
	}
	var v Visitor
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		v, err = verifyChatToken(ctx, tx, token)
		return err
	})
	if err != nil {
		return Ingested{}, err
	}
	return a.Ingest(ctx, webchatPrincipal, Inbound{
		ChannelID:        v.ChannelID,
		Contact:          domain.Contact{ExternalID: v.VisitorID, DisplayName: v.DisplayName, Locale: v.Locale},
		ChannelMessageID: chatMessageID(v.VisitorID, clientMessageID),
		Content:          content,
		EntryPoint:       pageURL,
	})
}

// ChatCursor is where a reader of a visitor's chat is: after AfterMessageID (from the start
// when empty). ChatMessages returns the cursor to pass next time, which also remembers where
// in the conversation that message is, so following reads start there and not at the start.
type ChatCursor struct {
	AfterMessageID string
	// Sequence is the last event sequence committed when ChatMessages read: the chat's messages
	// committed after it come after the ones it returned.
	Sequence       uint64
	conversationID string
	page           string // the store page token of the page that holds AfterMessageID
}

// chatPageSize is how many messages ChatMessages reads at a time (a variable for tests).
var chatPageSize = 200

// ChatMessages returns up to limit messages of the visitor's conversation that come after the
// cursor, oldest first (the visitor's and the replies, outbound ones whatever their delivery
// status), and the cursor after them. A visitor who has not written yet has none. It checks
// the token again, so a token revoked since (the channel's secret changed) stops reading; an
// AfterMessageID that is not a message of the visitor's conversation is invalid.
func (a *App) ChatMessages(ctx context.Context, token string, cur ChatCursor, limit int) ([]domain.Message, ChatCursor, error) {
	limit = max(limit, 1)
	var out []domain.Message
	next := cur
	err := a.read(ctx, func(tx store.Tx) error {
		out, next = nil, cur
		v, err := verifyChatToken(ctx, tx, token)
		if err != nil {
			return err
		}
		if next.Sequence, err = tx.LastSequence(ctx); err != nil {
			return err
		}
		if next.conversationID == "" {
			conv, err := visitorConversation(ctx, tx, v)
			if isNotFound(err) {
				if cur.AfterMessageID != "" {
					return domain.Invalid("after_message_id", "%s is not a message of this chat", cur.AfterMessageID)
				}
				return nil // nothing written yet
			}
			if err != nil {
				return err
			}
			next.conversationID, next.page = conv.ID, ""
		}
		out, next, err = readChat(ctx, tx, next, limit)
		if errors.Is(err, errNotInChat) && next.page != "" {
			// The remembered page no longer holds the message: look from the start.
			next.page = ""
			out, next, err = readChat(ctx, tx, next, limit)
		}
		if errors.Is(err, errNotInChat) {
			return domain.Invalid("after_message_id", "%s is not a message of this chat", cur.AfterMessageID)
		}
		return err
	})
	return out, next, err
}

var errNotInChat = errors.New("the message is not in the chat")

// ChatFeed picks, from the committed events, the messages of one visitor's chat: what
// StreamChat sends live after ChatMessages caught up. Until the visitor has written it knows no
// conversation, and recognises the visitor's first message by its channel message id.
type ChatFeed struct {
	channelID, visitorPrefix string
	conversationID           string
}

// NewChatFeed returns the feed of a visitor's chat on a channel.
func NewChatFeed(channelID, visitorID string) *ChatFeed {
	return &ChatFeed{channelID: channelID, visitorPrefix: chatMessageID(visitorID, "")}
}

// chatMessageID is the channel message id of a visitor's message.
func chatMessageID(visitorID, clientMessageID string) string {
	return visitorID + ":" + clientMessageID
}

// Follow notes the conversation a cursor found, so that replies are picked before the visitor's
// next message.
func (f *ChatFeed) Follow(cur ChatCursor) {
	if cur.conversationID != "" {
		f.conversationID = cur.conversationID
	}
}

// Selects tells whether e carries a new message of the chat.
func (f *ChatFeed) Selects(e domain.Event) bool {
	if e.ChannelID != f.channelID || e.Message == nil || (e.Type != domain.EventMessageReceived && e.Type != domain.EventMessageSent) {
		return false
	}
	if f.conversationID == "" {
		if e.Type != domain.EventMessageReceived || !strings.HasPrefix(e.Message.ChannelMessageID, f.visitorPrefix) {
			return false
		}
		f.conversationID = e.ConversationID // the visitor's first message started it
	}
	return e.ConversationID == f.conversationID
}

// readChat pages through the cursor's conversation from its page, skips up to its message, and
// returns up to limit messages after it.
func readChat(ctx context.Context, tx store.Tx, cur ChatCursor, limit int) ([]domain.Message, ChatCursor, error) {
	var out []domain.Message
	found := cur.AfterMessageID == ""
	holder := cur.page // the page token of the page holding the last message seen
	token := cur.page
	for {
		msgs, more, err := tx.ListMessages(ctx, cur.conversationID, store.Page{Size: chatPageSize, Cursor: token})
		if err != nil {
			return nil, cur, err
		}
		for _, m := range msgs {
			if m.Direction == domain.Internal {
				continue // notes are for agents, never for the visitor
			}
			if !found {
				if m.ID == cur.AfterMessageID {
					found, holder = true, token
				}
				continue
			}
			out = append(out, m)
			holder = token
			if len(out) == limit {
				break
			}
		}
		if len(out) == limit || more == "" {
			break
		}
		token = more
	}
	if !found {
		return nil, cur, errNotInChat
	}
	if len(out) > 0 {
		cur.AfterMessageID = out[len(out)-1].ID
	}
	cur.page = holder
	return out, cur, nil
}

// visitorConversation is the visitor's conversation; NotFound until they first write.
func visitorConversation(ctx context.Context, tx store.Tx, v Visitor) (domain.Conversation, error) {
	contact, err := tx.GetContactByExternalID(ctx, v.ChannelID, v.VisitorID)
	if err != nil {
		return domain.Conversation{}, err
	}
	return tx.GetConversationByContact(ctx, contact.ID)
}

// signChatToken encodes and signs a visitor's token, cutting the display name to fit.
func signChatToken(secret string, v Visitor) string {
	payload := chatPayload(v)
	if over := len(payload) - maxChatPayload; over > 0 {
		v.DisplayName = cutUTF8(v.DisplayName, len(v.DisplayName)-over)
		payload = chatPayload(v)
	}
	return chatEncoding.EncodeToString(payload) + "." + chatEncoding.EncodeToString(chatMAC(secret, payload))
}

func chatPayload(v Visitor) []byte {
	b := []byte{chatTokenVersion}
	for _, s := range []string{v.ChannelID, v.VisitorID, v.Locale, v.DisplayName} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func chatMAC(secret string, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(chatTokenLabel))
	m.Write(payload)
	return m.Sum(nil)
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseChatToken decodes a token's payload and MAC without checking the MAC.
func parseChatToken(token string) (Visitor, []byte, []byte, bool) {
	p, m, ok := strings.Cut(token, ".")
	if !ok || len(token) > maxChatToken {
		return Visitor{}, nil, nil, false
	}
	payload, err1 := chatEncoding.DecodeString(p)
	mac, err2 := chatEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) == 0 || payload[0] != chatTokenVersion || len(mac) != sha256.Size {
		return Visitor{}, nil, nil, false
	}
	var fields [4]string
	rest := payload[1:]
	for i := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return Visitor{}, nil, nil, false
		}
		fields[i] = string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	if len(rest) != 0 || fields[0] == "" || fields[1] == "" {
		return Visitor{}, nil, nil, false
	}
	return Visitor{ChannelID: fields[0], VisitorID: fields[1], Locale: fields[2], DisplayName: fields[3]}, payload, mac, true
}

// verifyChatToken checks a token against its channel's current secret.
func verifyChatToken(ctx context.Context, tx store.Tx, token string) (Visitor, error) {
	v, payload, mac, ok := parseChatToken(token)
	if !ok {
		return Visitor{}, ErrChatToken
	}
	ch, err := tx.GetChannel(ctx, v.ChannelID)
	if isNotFound(err) {
		return Visitor{}, ErrChatToken
	}
	if err != nil {
		return Visitor{}, err
	}
	if ch.Kind != domain.ChannelWebchat || ch.Credentials.WebhookSecret == "" ||
		!hmac.Equal(mac, chatMAC(ch.Credentials.WebhookSecret, payload)) {
		return Visitor{}, ErrChatToken
	}
	return v, nil
}
