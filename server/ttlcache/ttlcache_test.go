package ttlcache

import (
	"testing"
	"time"
)

func TestCacheExpiresAndForgets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New[string](2 * time.Second)
	c.now = func() time.Time { return now }
	c.Put("k1", "v1", c.Generation())
	if v, ok := c.Get("k1"); !ok || v != "v1" {
		t.Fatalf("fresh value: got %q, %v", v, ok)
	}
	now = now.Add(2*time.Second + time.Nanosecond)
	if _, ok := c.Get("k1"); ok {
		t.Fatal("value cached past its TTL")
	}
	c.Put("k2", "v2", c.Generation())
	c.Forget("k2")
	if _, ok := c.Get("k2"); ok {
		t.Fatal("forgotten value still cached")
	}
	// A value read before a change is not cached after it.
	read := c.Generation()
	c.Forget("k4")
	c.Put("k4", "old", read)
	if _, ok := c.Get("k4"); ok {
		t.Fatal("a value read before its change was cached after it")
	}
	var none *Cache[string] // a nil cache caches nothing
	none.Put("k3", "v3", 0)
	none.Forget("k3")
	if _, ok := none.Get("k3"); ok {
		t.Fatal("nil cache returned a value")
	}
}
