// Package ids makes resource ids: a readable prefix and a time-ordered random part, so ids
// sort roughly by creation and are unguessable.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns an id such as "conv_06bq3kq1y0m2jpz8e1c4w5fyr8": prefix, then 48 bits of
// milliseconds and 80 random bits in Crockford's base32.
func New(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	rand.Read(b[6:]) // never fails (crypto/rand panics on failure)
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('_')
	sb.WriteString(encoding.EncodeToString(b[:]))
	return sb.String()
}
