// Package webhook sends events to webhook endpoints: Standard Webhooks signatures, an HTTP
// client that refuses to reach private networks, and the handshake that verifies an endpoint.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// secretPrefix marks a Standard Webhooks secret; the base64 key follows it.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" and 32 random bytes in base64.
func NewSecret() string {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand panics on failure)
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the webhook-signature header of a message: one "v1,<base64 HMAC-SHA256>" per
// secret, space-separated, so an endpoint holding either secret of a rotation accepts it.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("no signing secret")
	}
	sigs := make([]string, len(secrets))
	for i, secret := range secrets {
		wh, err := signer(secret)
		if err != nil {
			return "", err
		}
		if sigs[i], err = wh.Sign(id, ts, body); err != nil {
			return "", err
		}
	}
	return strings.Join(sigs, " "), nil
}

// signer returns the Standard Webhooks signer of a "whsec_" secret. The library takes an empty
// key, which would sign with no secret at all: that is refused here.
func signer(secret string) (*standardwebhooks.Webhook, error) {
	key := strings.TrimPrefix(secret, secretPrefix)
	wh, err := standardwebhooks.NewWebhook(key)
	if err != nil || key == "" {
		return nil, errors.New("malformed signing secret")
	}
	return wh, nil
}

// Body is the JSON body of a delivery: {"type", "timestamp", "data"}. data must already be
// JSON (the rendered event); it is embedded as is, and empty data becomes null.
func Body(eventType string, t time.Time, data []byte) []byte {
	if len(data) == 0 {
		data = []byte("null")
	}
	typ, _ := json.Marshal(eventType) // a string always marshals
	b := make([]byte, 0, len(typ)+len(data)+64)
	b = append(b, `{"type":`...)
	b = append(b, typ...)
	b = append(b, `,"timestamp":"`...)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, data...)
	return append(b, '}')
}
