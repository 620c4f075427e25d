// Package secret seals small secrets (channel credentials, webhook signing secrets) with
// AES-256-GCM, so that a copy of the database alone does not reveal them.
//
// A sealed value is an envelope: a version byte, the id of the key that sealed it, a random
// nonce, then the ciphertext and its tag. The version and key id are authenticated with the
// caller's associated data (the row the value belongs to), so a value moved to another row, or
// a header altered, does not open. A Keyring holds the key that seals and older keys that only
// open, which is what lets a rotation re-seal values one key at a time.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key in bytes.
const KeySize = 32

const (
	version   = 1
	idSize    = 8
	nonceSize = 12
	header    = 1 + idSize
	// Overhead is how many bytes sealing adds to a value.
	Overhead = header + nonceSize + 16
)

// ErrWrongKey says a value was sealed under a key the keyring does not hold.
var ErrWrongKey = errors.New("secret: sealed under a key not given")

// ErrMalformed says a value is not an envelope, or did not open: it was altered, sealed for
// other associated data, or under a different key with the same id.
var ErrMalformed = errors.New("secret: sealed value is malformed or was altered")

// Key is one AES-256-GCM key.
type Key struct {
	id   string // hex of the first idSize bytes of a hash of the key
	aead cipher.AEAD
}

// NewKey returns a new random key as text, as ParseKey reads it.
func NewKey() string {
	raw := make([]byte, KeySize)
	rand.Read(raw) // never fails (crypto/rand)
	return base64.StdEncoding.EncodeToString(raw)
}

// ParseKey reads a key written in base64 (standard or URL alphabet, padded or not).
func ParseKey(text string) (*Key, error) {
	text = strings.TrimSpace(text)
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(text); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("secret: a key is 32 bytes in base64; this is not base64")
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("secret: a key is 32 bytes in base64; this is %d bytes", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("baton secret key id\x00"), raw...))
	return &Key{id: hex.EncodeToString(sum[:idSize]), aead: aead}, nil
}

// ID names the key without revealing it: what envelopes and messages carry.
func (k *Key) ID() string { return k.id }

// Keyring is the key that seals and the older keys that still open.
type Keyring struct {
	keys []*Key // keys[0] seals
}

// NewKeyring returns a keyring that seals with primary and opens with it and previous.
func NewKeyring(primary *Key, previous ...*Key) *Keyring {
	return &Keyring{keys: append([]*Key{primary}, previous...)}
}

// ParseKeyring reads keys separated by newlines or commas, the sealing key first. Blank lines
// and lines starting with # are skipped.
func ParseKeyring(text string) (*Keyring, error) {
	var keys []*Key
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", len(keys)+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("secret: no key given")
	}
	return &Keyring{keys: keys}, nil
}

// Primary is the key that seals.
func (r *Keyring) Primary() *Key { return r.keys[0] }

// IDs lists the ids of the keys, the sealing key first.
func (r *Keyring) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

func (r *Keyring) key(id string) *Key {
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Seal seals plaintext with the primary key, bound to ad (associated data: what the value
// belongs to, which Open must be given again).
func (r *Keyring) Seal(plaintext, ad []byte) []byte {
	k := r.Primary()
	out := make([]byte, header+nonceSize, Overhead+len(plaintext))
	out[0] = version
	id, _ := hex.DecodeString(k.id)
	copy(out[1:header], id)
	rand.Read(out[header : header+nonceSize]) // never fails (crypto/rand)
	return k.aead.Seal(out, out[header:header+nonceSize], plaintext, associated(out[:header], ad))
}

// Open opens what Seal sealed for ad, with whichever key of the keyring sealed it.
func (r *Keyring) Open(sealed, ad []byte) ([]byte, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, err
	}
	k := r.key(id)
	if k == nil {
		return nil, fmt.Errorf("%w: sealed under key %s", ErrWrongKey, id)
	}
	if len(sealed) < Overhead {
		return nil, ErrMalformed
	}
	plain, err := k.aead.Open(nil, sealed[header:header+nonceSize], sealed[header+nonceSize:], associated(sealed[:header], ad))
	if err != nil {
		return nil, ErrMalformed
	}
	return plain, nil
}

// KeyID returns the id of the key a value was sealed under.
func KeyID(sealed []byte) (string, error) {
	if len(sealed) < header || sealed[0] != version {
		return "", ErrMalformed
	}
	return hex.EncodeToString(sealed[1:header]), nil
}

// associated authenticates the envelope's header with the caller's associated data.
func associated(head, ad []byte) []byte {
	return append(append(make([]byte, 0, len(head)+len(ad)), head...), ad...)
}
