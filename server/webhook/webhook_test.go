package webhook

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("secret %q: want whsec_ and 32 bytes in base64 (decode error %v, %d bytes)", a, err, len(key))
	}
	if _, err := standardwebhooks.NewWebhook(a); err != nil {
		t.Fatal(err)
	}
}

func TestSignMatchesStandardWebhooks(t *testing.T) {
	secrets := []string{NewSecret(), NewSecret()}
	ts := time.Unix(1_700_000_000, 123)
	body := []byte(`{"type":"conversation.created"}`)
	got, err := Sign(secrets, "msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := wh.Sign("msg_1", ts, body)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, sig)
	}
	if w := strings.Join(want, " "); got != w {
		t.Fatalf("Sign = %q, want %q", got, w)
	}
}

func TestSignRefusesMalformedSecrets(t *testing.T) {
	for _, secrets := range [][]string{nil, {"whsec_not base64!"}, {NewSecret(), "whsec_"}} {
		if sig, err := Sign(secrets, "msg_1", time.Now(), nil); err == nil {
			t.Errorf("Sign(%q) = %q, want an error", secrets, sig)
		}
	}
}

func TestBody(t *testing.T) {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("CET", 3600))
	var got struct {
		Type      string
		Timestamp string
		Data      json.RawMessage
	}
	if err := json.Unmarshal(Body("handover.requested", ts, []byte(`{"a":[1,"x"]}`)), &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "handover.requested" || got.Timestamp != "2026-03-04T04:06:07.89Z" || string(got.Data) != `{"a":[1,"x"]}` {
		t.Fatalf("Body decodes to %+v", got)
	}
	if b := Body(`a"b`, ts, nil); !json.Valid(b) || !strings.HasSuffix(string(b), `"data":null}`) {
		t.Fatalf("Body with no data = %s", b)
	}
}
