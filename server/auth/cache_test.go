package auth

import (
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

func TestCacheExpiresAndForgets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCache(2 * time.Second)
	c.now = func() time.Time { return now }
	c.put(domain.APIKey{ID: "k1", Role: domain.PrincipalBot}, c.generation())
	if _, ok := c.get("k1"); !ok {
		t.Fatal("fresh key not cached")
	}
	now = now.Add(2*time.Second + time.Nanosecond)
	if _, ok := c.get("k1"); ok {
		t.Fatal("key cached past its TTL")
	}
	c.put(domain.APIKey{ID: "k2"}, c.generation())
	c.Forget("k2")
	if _, ok := c.get("k2"); ok {
		t.Fatal("forgotten key still cached")
	}
	// A key read before a revocation is not cached after it.
	read := c.generation()
	c.Forget("k4")
	c.put(domain.APIKey{ID: "k4"}, read)
	if _, ok := c.get("k4"); ok {
		t.Fatal("a key read before its revocation was cached after it")
	}
	var none *Cache // a nil cache caches nothing
	none.put(domain.APIKey{ID: "k3"}, 0)
	if _, ok := none.get("k3"); ok {
		t.Fatal("nil cache returned a key")
	}
}
