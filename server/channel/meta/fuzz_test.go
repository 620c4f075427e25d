package meta

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/channel"
)

func fixtureBodies(t testing.TB) [][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParseMessaging: no payload panics, and every Update either says why it could not be read
// or is a complete Update of its kind.
func FuzzParseMessaging(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b)
	}
	f.Add(payload(`{"sender":{"id":1},"recipient":{"id":2},"timestamp":"3","message":{"mid":"m","is_echo":true,"attachments":[{"type":"template","payload":{"template_type":"button"}}]}}`))
	f.Add(payload(`{"sender":{"id":"1"},"delivery":{"mids":["", "m"],"watermark":1e3}}`))
	f.Add([]byte(`{"object":"instagram","entry":[{"standby":[{"sender":{"id":"1"},"read":{"mid":"m"}}],"messaging":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		updates, err := ParseMessaging(body)
		if err != nil {
			if len(updates) != 0 {
				t.Fatalf("an error with updates: %v", updates)
			}
			return
		}
		for i, u := range updates {
			if u.Err != nil {
				if !errors.Is(u.Err, ErrMalformed) {
					t.Fatalf("update %d: Err %v does not wrap ErrMalformed", i, u.Err)
				}
				continue
			}
			if err := complete(u); err != "" {
				t.Fatalf("update %d (%+v): %s", i, u, err)
			}
		}
	})
}

// complete says what an Update without Err lacks.
func complete(u channel.Update) string {
	if u.Kind == channel.UpdateTest {
		if u.Contact.ExternalID != "" || u.Account != "" {
			return "a test event with a contact or an account"
		}
		return ""
	}
	if u.Contact.ExternalID == "" {
		return "no contact"
	}
	switch u.Kind {
	case channel.UpdateMessage:
		if u.ChannelMessageID == "" || u.Content.GetKind() == nil {
			return "a message without id or content"
		}
	case channel.UpdateEcho:
		if u.ChannelMessageID == "" {
			return "an echo without id"
		}
	case channel.UpdateStatus:
		if u.Status == "" || (u.ChannelMessageID == "") == u.Watermark.IsZero() {
			return "a status without status, or without exactly one of id and watermark"
		}
	case channel.UpdateThreadTaken, channel.UpdateThreadReleased:
	default:
		return "neither Err nor Kind"
	}
	return ""
}

// FuzzSignature: a signed fixture with any byte changed does not verify.
func FuzzSignature(f *testing.F) {
	fixtures := signedFixtures(f)
	for i := range fixtures {
		f.Add(uint(i), uint(0), byte(1))
		f.Add(uint(i), uint(len(fixtures[i].body)/2), byte(0x80))
		f.Add(uint(i), uint(len(fixtures[i].body)-1), byte(0xff))
	}
	f.Fuzz(func(t *testing.T, which, pos uint, flip byte) {
		fx := fixtures[which%uint(len(fixtures))]
		h := signed(fx.header)
		if err := CheckSignature(fx.secret, h, fx.body); err != nil {
			t.Fatalf("%s does not verify unchanged: %v", fx.file, err)
		}
		if flip == 0 {
			flip = 1
		}
		body := append([]byte(nil), fx.body...)
		body[pos%uint(len(body))] ^= flip
		if err := CheckSignature(fx.secret, h, body); !errors.Is(err, ErrSignature) {
			t.Fatalf("%s with byte %d ^ %#x verifies: %v", fx.file, pos%uint(len(body)), flip, err)
		}
		if strings.Contains(fx.header, "sha256=") && CheckSignature(fx.secret+"x", h, fx.body) == nil {
			t.Fatalf("%s verifies with another secret", fx.file)
		}
	})
}
