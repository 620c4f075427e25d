package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/channel/meta"
)

// appSecret signed the fixtures: testdata/*.json.sig were computed with openssl (see
// testdata/README.md), not with Go.
const appSecret = "d6c5e1f7a2b34c8e9f01a2b3c4d5e6f7"

// fixtures are the names of the signed payloads in testdata.
func fixtures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

func signed(sig string) http.Header {
	h := http.Header{}
	h.Set("X-Hub-Signature-256", strings.TrimSpace(sig))
	return h
}

// TestSignature checks Meta's X-Hub-Signature-256 on the fixtures, as WhatsApp's webhook handler
// does with meta.CheckSignature: every signature computed outside Go is accepted, and a change of
// any one byte of the body, or of the signature, is refused.
func TestSignature(t *testing.T) {
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			body := fixture(t, name)
			sig := string(fixture(t, name+".sig"))
			if err := meta.CheckSignature(appSecret, signed(sig), body); err != nil {
				t.Fatalf("the openssl signature is refused: %v", err)
			}
			if _, err := Parse(body); err != nil {
				t.Fatalf("a signed fixture does not parse: %v", err)
			}
			changed := make([]byte, len(body))
			for i := range body {
				copy(changed, body)
				changed[i] ^= 0x01
				if meta.CheckSignature(appSecret, signed(sig), changed) == nil {
					t.Fatalf("accepted with byte %d of the body changed", i)
				}
			}
			hexSig := strings.TrimPrefix(strings.TrimSpace(sig), "sha256=")
			for i := range hexSig {
				flipped := []byte(hexSig)
				if flipped[i] == '0' {
					flipped[i] = '1'
				} else {
					flipped[i] = '0'
				}
				if meta.CheckSignature(appSecret, signed("sha256="+string(flipped)), body) == nil {
					t.Fatalf("accepted with character %d of the signature changed", i)
				}
			}
			for _, h := range []http.Header{{}, signed(hexSig), signed("sha1=" + hexSig)} {
				if meta.CheckSignature(appSecret, h, body) == nil {
					t.Errorf("accepted header %v", h)
				}
			}
			if meta.CheckSignature(appSecret+"x", signed(sig), body) == nil {
				t.Error("accepted with another app secret")
			}
		})
	}
}

// FuzzSignature: a body signed with the app secret is accepted, and refused once any one of its
// bytes changes.
func FuzzSignature(f *testing.F) {
	for _, name := range fixtures(f) {
		body := fixture(f, name)
		f.Add(body, uint(len(body)/2), byte(0x20))
	}
	f.Add([]byte{}, uint(0), byte(1))
	f.Fuzz(func(t *testing.T, body []byte, pos uint, mask byte) {
		mac := hmac.New(sha256.New, []byte(appSecret))
		mac.Write(body)
		h := signed("sha256=" + hex.EncodeToString(mac.Sum(nil)))
		if err := meta.CheckSignature(appSecret, h, body); err != nil {
			t.Fatalf("a signed body is refused: %v", err)
		}
		if len(body) == 0 {
			if meta.CheckSignature(appSecret, h, []byte{mask}) == nil {
				t.Fatal("accepted with a byte added")
			}
			return
		}
		if mask == 0 {
			mask = 1
		}
		changed := append([]byte(nil), body...)
		changed[pos%uint(len(body))] ^= mask
		if meta.CheckSignature(appSecret, h, changed) == nil {
			t.Fatalf("accepted with byte %d changed", pos%uint(len(body)))
		}
	})
}
