package telegram

import (
	"errors"
	"net/http"
	"testing"
)

func TestCheckSecret(t *testing.T) {
	const secret = "s3cr3t_Token-1"
	header := func(v ...string) http.Header {
		h := http.Header{}
		for _, s := range v {
			h.Add(SecretHeader, s)
		}
		return h
	}
	tests := []struct {
		name   string
		secret string
		h      http.Header
		want   error
	}{
		{"right", secret, header(secret), nil},
		{"right, canonical header key", secret, http.Header{"X-Telegram-Bot-Api-Secret-Token": {secret}}, nil},
		{"wrong", secret, header("s3cr3t_Token-2"), ErrSecret},
		{"prefix", secret, header("s3cr3t"), ErrSecret},
		{"longer", secret, header(secret + "x"), ErrSecret},
		{"missing", secret, http.Header{}, ErrSecret},
		{"empty header", secret, header(""), ErrSecret},
		{"empty configured secret", "", header(""), ErrNoSecret},
		{"empty configured secret, any header", "", header("anything"), ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckSecret(tt.secret, tt.h); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("CheckSecret = %v, want %v", err, tt.want)
			}
		})
	}
}
