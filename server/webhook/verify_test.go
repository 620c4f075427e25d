package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// verification is the handshake's message as an endpoint decodes it.
type verification struct {
	Type      string
	Timestamp string
	Data      struct{ Challenge string }
}

// answering replies to a verification with what reply makes of its challenge.
func answering(t *testing.T, reply func(challenge string) (int, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v verification
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			t.Errorf("decoding the verification: %v", err)
		}
		code, body := reply(v.Data.Challenge)
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func echoed(challenge string) (int, string) {
	return http.StatusOK, `{"ok":true,"challenge":"` + challenge + `"}`
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{32,}$`)

func TestVerifyPassesOnEcho(t *testing.T) {
	srv, got := endpoint(t, answering(t, echoed))
	secrets := []string{NewSecret(), NewSecret()}
	now := time.Now()
	if err := NewClient(Config{AllowNetworks: loopback}).Verify(t.Context(), srv.URL, secrets, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	rec := <-got
	for _, secret := range secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(rec.body, rec.header); err != nil {
			t.Errorf("the challenge does not verify: %v", err)
		}
	}
	if id := rec.header.Get("webhook-id"); !strings.HasPrefix(id, "verify_") || len(id) < len("verify_")+16 {
		t.Errorf("webhook-id = %q, want verify_ and a random part", id)
	}
	if ts := rec.header.Get("webhook-timestamp"); ts != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("webhook-timestamp = %q, want now", ts)
	}
	var v verification
	if err := json.Unmarshal(rec.body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Type != "webhook.verification" || v.Timestamp != now.UTC().Format(time.RFC3339Nano) || !urlSafe.MatchString(v.Data.Challenge) {
		t.Errorf("verification = %+v, want its type, now and a URL-safe challenge of 32+ characters", v)
	}
}

func TestVerifyChallengesDiffer(t *testing.T) {
	srv, got := endpoint(t, answering(t, echoed))
	c := NewClient(Config{AllowNetworks: loopback})
	seen := map[string]bool{}
	for range 2 {
		if err := c.Verify(t.Context(), srv.URL, []string{NewSecret()}, time.Now()); err != nil {
			t.Fatal(err)
		}
		var v verification
		rec := <-got
		if err := json.Unmarshal(rec.body, &v); err != nil {
			t.Fatal(err)
		}
		seen[v.Data.Challenge], seen[rec.header.Get("webhook-id")] = true, true
	}
	if len(seen) != 4 {
		t.Fatalf("challenges and ids repeat: %v", seen)
	}
}

func TestVerifyFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reply  func(challenge string) (int, string)
		reason string
	}{
		{"wrong echo", func(string) (int, string) { return http.StatusOK, `{"challenge":"nope"}` }, "the endpoint did not echo the challenge"},
		{"no echo", func(string) (int, string) { return http.StatusOK, `{}` }, "the endpoint did not echo the challenge"},
		{"echo not a string", func(string) (int, string) { return http.StatusOK, `{"challenge":7}` }, "the endpoint did not echo the challenge"},
		{"empty", func(string) (int, string) { return http.StatusNoContent, `` }, "the endpoint did not echo the challenge: its answer is not JSON"},
		{"not JSON", func(c string) (int, string) { return http.StatusOK, c }, "the endpoint did not echo the challenge: its answer is not JSON"},
		{"not 2xx", func(c string) (int, string) { _, b := echoed(c); return http.StatusNotFound, b }, "the endpoint answered 404"},
		{"too long", func(c string) (int, string) {
			return http.StatusOK, `{"challenge":"` + c + `","pad":"` + strings.Repeat("x", 64<<10) + `"}`
		}, "the endpoint's answer is over 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := endpoint(t, answering(t, tc.reply))
			err := NewClient(Config{AllowNetworks: loopback}).Verify(t.Context(), srv.URL, []string{NewSecret()}, time.Now())
			if ve := (*VerifyError)(nil); !errors.As(err, &ve) || ve.Error() != tc.reason {
				t.Fatalf("Verify = %v, want a VerifyError %q", err, tc.reason)
			}
		})
	}
}

func TestVerifyRefusesPrivateAddresses(t *testing.T) {
	srv, got := endpoint(t, answering(t, echoed))
	err := NewClient(Config{}).Verify(t.Context(), srv.URL, []string{NewSecret()}, time.Now())
	if ve := (*VerifyError)(nil); !errors.As(err, &ve) || ve.Reason != "dial: address not allowed by the SSRF policy" {
		t.Fatalf("Verify = %v, want a VerifyError: address not allowed", err)
	}
	if len(got) != 0 {
		t.Fatal("the endpoint was reached")
	}
}
