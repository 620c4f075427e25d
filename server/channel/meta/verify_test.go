package meta

import (
	"bufio"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// signedFixture is a fixture with the X-Hub-Signature-256 an independent implementation
// (openssl dgst -sha256 -hmac) computed for it.
type signedFixture struct {
	file, secret, header string
	body                 []byte
}

// signedFixtures reads testdata/signatures.tsv.
func signedFixtures(t testing.TB) []signedFixture {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "signatures.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []signedFixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("signatures.tsv: %q is not file, secret and header", line)
		}
		out = append(out, signedFixture{file: fields[0], secret: fields[1], header: fields[2], body: readFixture(t, fields[0])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("signatures.tsv has no signatures")
	}
	return out
}

func signed(header string) http.Header {
	h := http.Header{}
	h.Set("X-Hub-Signature-256", header)
	return h
}

func TestCheckSignatureAcceptsIndependentSignatures(t *testing.T) {
	for _, f := range signedFixtures(t) {
		if err := CheckSignature(f.secret, signed(f.header), f.body); err != nil {
			t.Errorf("%s with secret %q: %v", f.file, f.secret, err)
		}
	}
}

func TestCheckSignatureRejectsAnyChangedByte(t *testing.T) {
	for _, f := range signedFixtures(t) {
		h := signed(f.header)
		body := append([]byte(nil), f.body...)
		for i := range body {
			body[i] ^= 0x01
			if err := CheckSignature(f.secret, h, body); !errors.Is(err, ErrSignature) {
				t.Fatalf("%s with byte %d changed: got %v, want ErrSignature", f.file, i, err)
			}
			body[i] ^= 0x01
		}
		if err := CheckSignature(f.secret, h, append(body, '\n')); !errors.Is(err, ErrSignature) {
			t.Errorf("%s with a byte added: got %v, want ErrSignature", f.file, err)
		}
		if err := CheckSignature(f.secret, h, body[:len(body)-1]); !errors.Is(err, ErrSignature) {
			t.Errorf("%s with a byte cut: got %v, want ErrSignature", f.file, err)
		}
	}
}

func TestCheckSignatureRejects(t *testing.T) {
	f := signedFixtures(t)[0]
	sig := strings.TrimPrefix(f.header, "sha256=")
	for _, tc := range []struct {
		name   string
		secret string
		h      http.Header
	}{
		{"wrong secret", f.secret + "x", signed(f.header)},
		{"no app secret", "", signed(f.header)},
		{"no header", f.secret, http.Header{}},
		{"no sha256= prefix", f.secret, signed(sig)},
		{"sha1 scheme", f.secret, signed("sha1=" + sig)},
		{"not hex", f.secret, signed("sha256=" + strings.Repeat("zz", 32))},
		{"truncated", f.secret, signed(f.header[:len(f.header)-2])},
		{"one hex digit changed", f.secret, signed(f.header[:len(f.header)-1] + flipHex(f.header[len(f.header)-1]))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckSignature(tc.secret, tc.h, f.body); !errors.Is(err, ErrSignature) {
				t.Errorf("got %v, want ErrSignature", err)
			}
		})
	}
}

func flipHex(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func TestVerifySubscription(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{}
		if mode != "" {
			v.Set("hub.mode", mode)
		}
		if token != "" {
			v.Set("hub.verify_token", token)
		}
		if challenge != "" {
			v.Set("hub.challenge", challenge)
		}
		return v
	}
	for _, tc := range []struct {
		name          string
		query         url.Values
		verifyToken   string
		wantChallenge string
		wantOK        bool
	}{
		{"the channel's token", q("subscribe", "meatyhamhock", "1158201444"), "meatyhamhock", "1158201444", true},
		{"a wrong token", q("subscribe", "meatyhamhoc", "1158201444"), "meatyhamhock", "", false},
		{"no token", q("subscribe", "", "1158201444"), "meatyhamhock", "", false},
		{"another mode", q("unsubscribe", "meatyhamhock", "1158201444"), "meatyhamhock", "", false},
		{"no mode", q("", "meatyhamhock", "1158201444"), "meatyhamhock", "", false},
		{"a channel without a verify token", q("subscribe", "", "1158201444"), "", "", false},
		{"parsed from Meta's request", mustQuery(t, "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"), "meatyhamhock", "1158201444", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			challenge, ok := VerifySubscription(tc.query, tc.verifyToken)
			if challenge != tc.wantChallenge || ok != tc.wantOK {
				t.Errorf("VerifySubscription = %q, %v; want %q, %v", challenge, ok, tc.wantChallenge, tc.wantOK)
			}
		})
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
