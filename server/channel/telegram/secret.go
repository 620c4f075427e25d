package telegram

import (
	"crypto/subtle"
	"errors"
	"net/http"
)

// SecretHeader is the header Telegram puts the webhook's secret_token in.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Errors of CheckSecret.
var (
	// ErrNoSecret says the channel has no webhook secret: nothing is accepted without one.
	ErrNoSecret = errors.New("the channel has no webhook secret (setWebhook's secret_token) to check " + SecretHeader + " with")
	// ErrSecret says the request's X-Telegram-Bot-Api-Secret-Token is missing or wrong.
	ErrSecret = errors.New(SecretHeader + " is missing or wrong")
)

// CheckSecret verifies that a webhook request comes from Telegram: its
// X-Telegram-Bot-Api-Secret-Token header must equal secret, the secret_token given to
// setWebhook (compared in constant time). An empty secret refuses every request.
func CheckSecret(secret string, h http.Header) error {
	if secret == "" {
		return ErrNoSecret
	}
	got := h.Get(SecretHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		return ErrSecret
	}
	return nil
}
