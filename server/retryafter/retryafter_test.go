package retryafter

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"7":                             7 * time.Second,
		" 7 ":                           7 * time.Second,
		"soon":                          0,
		"99999999999999999999":          0, // not an int64
		"9999999999999":                 6 * time.Hour,
		"Fri, 02 Jan 2026 03:05:05 GMT": time.Minute,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
		"Sat, 03 Jan 2026 03:04:05 GMT": 6 * time.Hour,
	} {
		if got := Parse(v, now); got != want {
			t.Errorf("Parse(%q) = %v, want %v", v, got, want)
		}
	}
}
