package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Tolerance is how far a signed message's timestamp may be from now: an older one is a replay.
const Tolerance = 5 * time.Minute

// ErrSignature says a message's Standard Webhooks signature is missing, wrong or stale.
var ErrSignature = errors.New("webhook signature does not verify")

// CheckSignature verifies a message received with Standard Webhooks headers: one of the
// webhook-signature's v1 signatures must be the HMAC of its id, timestamp and body by secret,
// and the timestamp within Tolerance of now. The library checks freshness against the wall
// clock only, so the timestamp is checked here, against the server's clock.
func CheckSignature(secret string, h http.Header, body []byte, now time.Time) error {
	wh, err := signer(secret)
	if err != nil {
		return err
	}
	if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
		return errors.Join(ErrSignature, err)
	}
	unix, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64) // the library parsed it
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return errors.Join(ErrSignature, errors.New("webhook-timestamp is too far from now"))
	}
	return nil
}
