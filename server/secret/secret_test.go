package secret_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/secret"
)

func mustKey(t *testing.T) *secret.Key {
	t.Helper()
	k, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := mustKey(t)
	ring := secret.NewKeyring(k)
	plain := []byte("EAAB-page-token")
	sealed := ring.Seal(plain, []byte("channels/c1"))
	if bytes.Contains(sealed, plain) {
		t.Fatal("the sealed value contains the plaintext")
	}
	if len(sealed) != len(plain)+secret.Overhead {
		t.Errorf("sealed %d bytes into %d, want %d", len(plain), len(sealed), len(plain)+secret.Overhead)
	}
	if id, err := secret.KeyID(sealed); err != nil || id != k.ID() {
		t.Errorf("KeyID = %q, %v; want %q", id, err, k.ID())
	}
	got, err := ring.Open(sealed, []byte("channels/c1"))
	if err != nil || string(got) != string(plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if again := ring.Seal(plain, []byte("channels/c1")); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
}

func TestOpenRefusesTampering(t *testing.T) {
	ring := secret.NewKeyring(mustKey(t))
	sealed := ring.Seal([]byte("whsec_abc"), []byte("webhooks/w1"))
	for i := range sealed {
		if i >= 1 && i < 9 {
			continue // the key id: an altered one names a key the ring lacks (below)
		}
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := ring.Open(bad, []byte("webhooks/w1")); !errors.Is(err, secret.ErrMalformed) {
			t.Fatalf("byte %d altered: Open = %v, want ErrMalformed", i, err)
		}
	}
	bad := bytes.Clone(sealed)
	bad[3] ^= 0x01
	if _, err := ring.Open(bad, []byte("webhooks/w1")); !errors.Is(err, secret.ErrWrongKey) {
		t.Errorf("key id altered: Open = %v, want ErrWrongKey", err)
	}
	if _, err := ring.Open(sealed, []byte("webhooks/w2")); !errors.Is(err, secret.ErrMalformed) {
		t.Errorf("moved to another row: Open = %v, want ErrMalformed", err)
	}
	if _, err := ring.Open(sealed[:len(sealed)-1], []byte("webhooks/w1")); !errors.Is(err, secret.ErrMalformed) {
		t.Errorf("truncated: Open = %v, want ErrMalformed", err)
	}
	for _, short := range [][]byte{nil, {1}, sealed[:secret.Overhead-1]} {
		if _, err := ring.Open(short, nil); err == nil {
			t.Errorf("Open(%x) succeeded", short)
		}
	}
}

func TestOpenRefusesWrongKey(t *testing.T) {
	sealed := secret.NewKeyring(mustKey(t)).Seal([]byte("token"), nil)
	other := mustKey(t)
	_, err := secret.NewKeyring(other).Open(sealed, nil)
	if !errors.Is(err, secret.ErrWrongKey) {
		t.Fatalf("Open with another key = %v, want ErrWrongKey", err)
	}
	id, _ := secret.KeyID(sealed)
	if !strings.Contains(err.Error(), id) {
		t.Errorf("error %q does not name the key id %s", err, id)
	}
}

// TestRotation: a keyring whose primary is new still opens what the old key sealed, and seals
// under the new one.
func TestRotation(t *testing.T) {
	old, fresh := mustKey(t), mustKey(t)
	sealedOld := secret.NewKeyring(old).Seal([]byte("v"), []byte("ad"))
	ring := secret.NewKeyring(fresh, old)
	if got, err := ring.Open(sealedOld, []byte("ad")); err != nil || string(got) != "v" {
		t.Fatalf("Open of the old key's value = %q, %v", got, err)
	}
	resealed := ring.Seal([]byte("v"), []byte("ad"))
	if id, _ := secret.KeyID(resealed); id != fresh.ID() {
		t.Errorf("sealed under %s, want the primary %s", id, fresh.ID())
	}
	if _, err := secret.NewKeyring(old).Open(resealed, []byte("ad")); !errors.Is(err, secret.ErrWrongKey) {
		t.Errorf("the old key opened the new key's value: %v", err)
	}
}

func TestParseKeyring(t *testing.T) {
	a, b := secret.NewKey(), secret.NewKey()
	ka, _ := secret.ParseKey(a)
	kb, _ := secret.ParseKey(b)
	for _, text := range []string{a + "\n" + b + "\n", "# keys\n" + a + "\n\n" + b, a + "," + b} {
		r, err := secret.ParseKeyring(text)
		if err != nil {
			t.Fatalf("ParseKeyring(%q): %v", text, err)
		}
		if ids := r.IDs(); len(ids) != 2 || ids[0] != ka.ID() || ids[1] != kb.ID() {
			t.Errorf("ParseKeyring(%q) ids = %v", text, ids)
		}
	}
	for _, bad := range []string{"", "# none\n", "not base64!", "c2hvcnQ=", a + ",nope"} {
		if _, err := secret.ParseKeyring(bad); err == nil {
			t.Errorf("ParseKeyring(%q) succeeded", bad)
		}
	}
	if ka.ID() == kb.ID() {
		t.Error("two keys have one id")
	}
}
