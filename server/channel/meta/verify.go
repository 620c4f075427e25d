// Package meta speaks Meta's webhooks and send APIs: Messenger and Instagram here, and the
// verification every Meta product shares (WhatsApp's payloads are in package whatsapp).
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// VerifySubscription answers Meta's subscription check (GET ?hub.mode=subscribe&
// hub.verify_token=...&hub.challenge=...): the challenge to echo, when the token is the
// channel's verify token.
func VerifySubscription(q url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if !hmac.Equal([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) {
		return "", false
	}
	return q.Get("hub.challenge"), true
}

// ErrSignature says a payload's X-Hub-Signature-256 is missing or wrong.
var ErrSignature = errors.New("X-Hub-Signature-256 does not verify")

// CheckSignature verifies X-Hub-Signature-256 ("sha256=" and the hex HMAC-SHA256 of the raw
// body, keyed with the app secret).
func CheckSignature(appSecret string, h http.Header, body []byte) error {
	got, ok := strings.CutPrefix(h.Get("X-Hub-Signature-256"), "sha256=")
	if !ok || appSecret == "" {
		return ErrSignature
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return ErrSignature
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return ErrSignature
	}
	return nil
}
