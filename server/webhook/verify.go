package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonhq/baton/server/ids"
)

// VerificationEventType is the type of the handshake's message.
const VerificationEventType = "webhook.verification"

// verifyLimit bounds the handshake's answer; an echo is a few dozen bytes.
const verifyLimit = 64 << 10

// VerifyError says why an endpoint failed verification, in words fit for its owner.
type VerifyError struct {
	Reason string
}

func (e *VerifyError) Error() string { return e.Reason }

// Verify proves that the endpoint at url is there and answers for the webhook: it posts a
// signed verification message carrying a random challenge, and passes only when the endpoint
// answers 2xx with {"challenge": <the same>}. A failure is a *VerifyError.
func (c *Client) Verify(ctx context.Context, url string, secrets []string, now time.Time) error {
	challenge := newChallenge()
	data, _ := json.Marshal(map[string]string{"challenge": challenge}) // strings always marshal
	res, body, err := c.post(ctx, Request{
		URL: url, ID: ids.New("verify"), Time: now, Secrets: secrets,
		Body: Body(VerificationEventType, now, data),
	}, verifyLimit+1)
	switch {
	case res.Error != "":
		return &VerifyError{res.Error}
	case !res.OK():
		return &VerifyError{fmt.Sprintf("the endpoint answered %d", res.StatusCode)}
	case err != nil:
		return &VerifyError{"reading the answer: " + err.Error()}
	case len(body) > verifyLimit:
		return &VerifyError{"the endpoint's answer is over 64 KiB"}
	}
	var echo struct {
		Challenge string `json:"challenge"`
	}
	if !json.Valid(body) {
		return &VerifyError{"the endpoint did not echo the challenge: its answer is not JSON"}
	}
	if json.Unmarshal(body, &echo) != nil || echo.Challenge != challenge {
		return &VerifyError{"the endpoint did not echo the challenge"}
	}
	return nil
}

// newChallenge returns 43 URL-safe characters carrying 256 random bits, which an endpoint can
// only echo if it received the message.
func newChallenge() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on failure)
	return base64.RawURLEncoding.EncodeToString(b)
}
