package main

import (
	"testing"

	"github.com/batonhq/baton/server/ratelimit"
)

// TestRateFlags: --key-rate and --webhook-rate set a bucket of that rate with a burst of two
// seconds' worth; 0 turns the limit off.
func TestRateFlags(t *testing.T) {
	for _, c := range []struct {
		perSecond float64
		want      ratelimit.Rate
	}{
		{250, ratelimit.Rate{PerSecond: 250, Burst: 500}},
		{0.2, ratelimit.Rate{PerSecond: 0.2, Burst: 1}},
		{0, ratelimit.Rate{PerSecond: -1}},
	} {
		if got := rate(c.perSecond); got != c.want {
			t.Errorf("rate(%v) = %+v, want %+v", c.perSecond, got, c.want)
		}
	}
	if ratelimit.New(rate(0)) != nil {
		t.Error("a rate of 0 still limits")
	}
	if err := serveOnce(t, "--key-rate", "fast"); err == nil {
		t.Error("--key-rate fast was accepted")
	}
}
