package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
)

var chatAdmin = domain.Principal{Role: domain.PrincipalAdmin, KeyID: "test"}

// testStore opens an embedded store in the test's directory, closed when the test ends.
func testStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func chatApp(t *testing.T) *App {
	t.Helper()
	a := New(Config{Store: testStore(t)})
	if err := a.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func chatChannel(t *testing.T, a *App, kind domain.ChannelKind, secret string) domain.Channel {
	t.Helper()
	ch, err := a.CreateChannel(context.Background(), chatAdmin, domain.Channel{
		Kind: kind, ExternalID: fmt.Sprintf("%s-%s-%d", t.Name(), kind, len(secret)), DisplayName: "Site",
		Credentials: domain.Credentials{WebhookSecret: secret},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestStartChatRefusesWhatIsNotAWebChatWithASecret(t *testing.T) {
	ctx := context.Background()
	a := chatApp(t)
	generic := chatChannel(t, a, domain.ChannelGeneric, "whsec_x")
	bare := chatChannel(t, a, domain.ChannelWebchat, "")
	var nf *domain.NotFoundError
	for _, id := range []string{generic.ID, "ch_missing"} {
		if _, err := a.StartChat(ctx, id, "", ""); !errors.As(err, &nf) {
			t.Errorf("StartChat(%s) = %v, want not found", id, err)
		}
	}
	var pre *domain.PreconditionError
	if _, err := a.StartChat(ctx, bare.ID, "", ""); !errors.As(err, &pre) {
		t.Errorf("StartChat without a secret = %v, want a precondition error", err)
	}
}

func TestChatTokens(t *testing.T) {
	ctx := context.Background()
	a := chatApp(t)
	one := chatChannel(t, a, domain.ChannelWebchat, "secret-one")
	two := chatChannel(t, a, domain.ChannelWebchat, "secret-two-")
	tok1, err := a.StartChat(ctx, one.ID, "Ada", "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := a.StartChat(ctx, two.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, visitor, err := a.ChatVisitor(ctx, tok1)
	if err != nil || ch != one.ID || !strings.HasPrefix(visitor, "visitor_") {
		t.Fatalf("ChatVisitor = %q, %q, %v", ch, visitor, err)
	}
	if strings.Trim(tok1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
		t.Errorf("token %q is not URL-safe", tok1)
	}

	p1, m1, _ := strings.Cut(tok1, ".")
	p2, m2, _ := strings.Cut(tok2, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 'A' ^ 'B'
		if b[i] == s[i] {
			b[i] = 'C'
		}
		return string(b)
	}
	bad := map[string]string{
		"empty":                "",
		"garbage":              "not a token",
		"no mac":               p1,
		"payload changed":      flip(p1, len(p1)/2) + "." + m1,
		"mac changed":          p1 + "." + flip(m1, 3),
		"other channel's mac":  p2 + "." + m1,
		"mac of other payload": p1 + "." + m2,
		"too long":             p1 + "." + m1 + strings.Repeat("A", 600),
	}
	for name, tok := range bad {
		if _, _, err := a.ChatVisitor(ctx, tok); !errors.Is(err, ErrChatToken) {
			t.Errorf("%s: ChatVisitor = %v, want ErrChatToken", name, err)
		}
	}

	// A new secret revokes the channel's tokens.
	if _, err := a.UpdateChannel(ctx, chatAdmin, ChannelUpdate{ID: one.ID, Credentials: &domain.Credentials{WebhookSecret: "rotated"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.ChatVisitor(ctx, tok1); !errors.Is(err, ErrChatToken) {
		t.Errorf("after rotation: ChatVisitor = %v, want ErrChatToken", err)
	}
	if _, _, err := a.ChatVisitor(ctx, tok2); err != nil {
		t.Errorf("the other channel's token: %v", err)
	}
}

func TestChatTokenCutsALongDisplayName(t *testing.T) {
	name := strings.Repeat("é", 200) // 400 bytes: more than fits
	tok := signChatToken("s", Visitor{ChannelID: "ch_" + strings.Repeat("x", 61), VisitorID: "visitor_0123456789abcdefghjkmnpqrs", Locale: strings.Repeat("l", 35), DisplayName: name})
	if len(tok) > maxChatToken {
		t.Fatalf("token of %d bytes, more than %d", len(tok), maxChatToken)
	}
	v, _, _, ok := parseChatToken(tok)
	if !ok || !utf8.ValidString(v.DisplayName) || !strings.HasPrefix(name, v.DisplayName) || len(v.DisplayName) < 100 {
		t.Fatalf("parsed %v, %q", ok, v.DisplayName)
	}
}

func TestChatMessages(t *testing.T) {
	defer func(n int) { chatPageSize = n }(chatPageSize)
	chatPageSize = 2 // so reads cross pages
	ctx := context.Background()
	a := chatApp(t)
	ch := chatChannel(t, a, domain.ChannelWebchat, "secret")
	tok, err := a.StartChat(ctx, ch.ID, "Ada", "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	msgs, cur, err := a.ChatMessages(ctx, tok, ChatCursor{}, 10)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("before the first message: %v, %v", msgs, err)
	}
	var invalid *domain.InvalidError
	if _, _, err := a.ChatMessages(ctx, tok, ChatCursor{AfterMessageID: "msg_x"}, 10); !errors.As(err, &invalid) {
		t.Fatalf("after a message of no chat: %v, want invalid", err)
	}

	var ids []string
	send := func(client string) {
		t.Helper()
		out, err := a.SendChatMessage(ctx, tok, client, []byte(`{"text":{"text":"`+client+`"}}`), "")
		if err != nil {
			t.Fatal(err)
		}
		if !out.Duplicate {
			ids = append(ids, out.Message.ID)
		}
	}
	for i := range 5 {
		send(fmt.Sprint("c", i))
	}
	send("c2") // a retry
	if len(ids) != 5 {
		t.Fatalf("stored %d messages, want 5", len(ids))
	}
	_, visitor, _ := a.ChatVisitor(ctx, tok)
	contacts, _, err := a.ListContacts(ctx, chatAdmin, store.ContactQuery{ChannelID: ch.ID}, store.Page{Size: 10})
	if err != nil || len(contacts) != 1 || contacts[0].ExternalID != visitor || contacts[0].DisplayName != "Ada" || contacts[0].Locale != "en-GB" {
		t.Fatalf("contacts %+v, %v", contacts, err)
	}

	got := func(msgs []domain.Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, m.ID)
		}
		return out
	}
	check := func(what string, msgs []domain.Message, err error, want []string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if fmt.Sprint(got(msgs)) != fmt.Sprint(want) {
			t.Fatalf("%s: %v, want %v", what, got(msgs), want)
		}
	}
	msgs, cur, err = a.ChatMessages(ctx, tok, cur, 3)
	check("first read", msgs, err, ids[:3])
	msgs, cur, err = a.ChatMessages(ctx, tok, cur, 3)
	check("second read", msgs, err, ids[3:])
	msgs, cur, err = a.ChatMessages(ctx, tok, cur, 3)
	check("nothing new", msgs, err, nil)
	send("c5")
	msgs, _, err = a.ChatMessages(ctx, tok, cur, 3)
	check("a new one", msgs, err, ids[5:])

	msgs, _, err = a.ChatMessages(ctx, tok, ChatCursor{AfterMessageID: ids[1]}, 10)
	check("resume after the second", msgs, err, ids[2:])
	msgs, _, err = a.ChatMessages(ctx, tok, ChatCursor{AfterMessageID: ids[5]}, 10)
	check("resume after the last", msgs, err, nil)
	if _, _, err := a.ChatMessages(ctx, tok, ChatCursor{AfterMessageID: "msg_x"}, 10); !errors.As(err, &invalid) {
		t.Fatalf("after a message of no chat: %v, want invalid", err)
	}

	// Another visitor of the channel sees none of it, and may not resume from it.
	other, err := a.StartChat(ctx, ch.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.ChatMessages(ctx, other, ChatCursor{AfterMessageID: ids[0]}, 10); !errors.As(err, &invalid) {
		t.Fatalf("another visitor resuming from this chat: %v, want invalid", err)
	}
	msgs, _, err = a.ChatMessages(ctx, other, ChatCursor{}, 10)
	check("another visitor", msgs, err, nil)
}
