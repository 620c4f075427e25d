// Package retryafter reads the Retry-After header that webhook endpoints and channels' send
// APIs answer 429 and 503 with.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// Parse returns how long a Retry-After value, delta-seconds or an HTTP-date, asks to wait from
// now, at most domain.MaxRetryAfter. Anything unparsable or past is no wait.
func Parse(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Clamped before multiplying, so a huge value does not overflow.
		return time.Duration(min(max(secs, 0), int64(domain.MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), domain.MaxRetryAfter)
	}
	return 0
}
