package webhook

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a signed message's timestamp may be from now: an older one is a replay.
const Tolerance = 5 * time.Minute

// ErrSignature says a message's Standard Webhooks signature is missing, wrong or stale.
var ErrSignature = errors.New("webhook signature does not verify")

// CheckSignature verifies a message received with Standard Webhooks headers: one of the
// webhook-signature's v1 signatures must be the HMAC of its id, timestamp and body by secret,
// and the timestamp within Tolerance of now.
func CheckSignature(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.Join(ErrSignature, errors.New("a webhook-id, webhook-timestamp or webhook-signature header is missing"))
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.Join(ErrSignature, errors.New("webhook-timestamp is not a number of seconds"))
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return errors.Join(ErrSignature, errors.New("webhook-timestamp is too far from now"))
	}
	want, err := Sign([]string{secret}, id, time.Unix(unix, 0), body)
	if err != nil {
		return err
	}
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return ErrSignature
}
