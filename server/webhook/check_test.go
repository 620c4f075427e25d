package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestCheckSignatureAcceptsTheReferenceSigner(t *testing.T) {
	secret, other := NewSecret(), NewSecret()
	body := []byte(`{"messages":[]}`)
	now := time.Now()
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ref.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	headers := func(id string, ts time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		h.Set("webhook-signature", sig)
		return h
	}
	if err := CheckSignature(secret, headers("msg_1", now, sig), body, now); err != nil {
		t.Fatalf("the reference signature: %v", err)
	}
	otherSig, _ := Sign([]string{other}, "msg_1", now, body)
	if err := CheckSignature(secret, headers("msg_1", now, otherSig+" "+sig), body, now); err != nil {
		t.Errorf("a list holding the right signature: %v", err)
	}

	refused := map[string]func() error{
		"another secret": func() error { return CheckSignature(other, headers("msg_1", now, sig), body, now) },
		"another id":     func() error { return CheckSignature(secret, headers("msg_2", now, sig), body, now) },
		"another body": func() error {
			return CheckSignature(secret, headers("msg_1", now, sig), []byte(`{"messages":[{}]}`), now)
		},
		"a replay": func() error {
			return CheckSignature(secret, headers("msg_1", now, sig), body, now.Add(Tolerance+time.Second))
		},
		"no signature": func() error { return CheckSignature(secret, headers("msg_1", now, ""), body, now) },
		"a bad timestamp": func() error {
			h := headers("msg_1", now, sig)
			h.Set("webhook-timestamp", "yesterday")
			return CheckSignature(secret, h, body, now)
		},
	}
	for name, check := range refused {
		if err := check(); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
}

// FuzzCheckSignature changes one byte of a signed body or of its id: the signature must fail.
func FuzzCheckSignature(f *testing.F) {
	secret := NewSecret()
	f.Add([]byte(`{"messages":[{"id":"src-1","contact":{"externalId":"c"},"content":{"text":{"text":"hi"}}}]}`), uint(3), byte(1))
	f.Add([]byte(`{}`), uint(0), byte(0x80))
	f.Fuzz(func(t *testing.T, body []byte, at uint, flip byte) {
		if len(body) == 0 || flip == 0 {
			return
		}
		now := time.Unix(1795251600, 0)
		sig, err := Sign([]string{secret}, "msg_1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", "msg_1")
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", sig)
		if err := CheckSignature(secret, h, body, now); err != nil {
			t.Fatalf("the untouched body: %v", err)
		}
		changed := append([]byte(nil), body...)
		changed[at%uint(len(changed))] ^= flip
		if err := CheckSignature(secret, h, changed, now); !errors.Is(err, ErrSignature) {
			t.Fatalf("a changed byte verified: %v", err)
		}
	})
}
