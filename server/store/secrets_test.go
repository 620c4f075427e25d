package store_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
)

// BenchmarkOpenCredentials measures what sealing adds to every read of a channel (LoadInbound
// reads one per inbound message).
func BenchmarkOpenCredentials(b *testing.B) {
	k, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	keys := secret.NewKeyring(k)
	c := domain.Credentials{AppSecret: "0123456789abcdef0123456789abcdef", VerifyToken: "verify-token-123",
		AccessToken: "EAAG" + strings.Repeat("x", 200), SendURL: "https://send.example.com"}
	clear, sealed, err := store.SealCredentials(keys, "ch_0123456789", c)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got := clear
		if err := store.OpenCredentials(keys, "ch_0123456789", &got, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
