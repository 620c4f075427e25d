// Package ttlcache remembers rows read from the database for a short time, so that a busy caller
// costs one read per TTL instead of one per request. Other servers sharing the database see a
// change within the TTL; the server that made it calls Forget and sees it at once.
package ttlcache

import (
	"sync"
	"time"
)

// maxEntries bounds a cache; past it, it starts over.
const maxEntries = 10_000

// Cache maps ids to values for TTL. A nil *Cache caches nothing.
type Cache[V any] struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry[V]
	// forgets counts Forget calls: a value read before a Forget is not cached after it, so a
	// change racing with a read cannot put the old value back.
	forgets uint64
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// New returns a cache keeping values for ttl.
func New[V any](ttl time.Duration) *Cache[V] {
	return &Cache[V]{ttl: ttl, now: time.Now, entries: map[string]entry[V]{}}
}

// Get returns the value cached for id, if it has not expired.
func (c *Cache[V]) Get(id string) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || c.now().After(e.expires) {
		return zero, false
	}
	return e.value, true
}

// Generation is to be taken before reading a value from the database, and given to Put.
func (c *Cache[V]) Generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.forgets
}

// Put caches v for id, unless something was forgotten since generation was taken: it may have
// been id, and v then stale.
func (c *Cache[V]) Put(id string, v V, generation uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.forgets {
		return
	}
	if len(c.entries) >= maxEntries {
		clear(c.entries)
	}
	c.entries[id] = entry[V]{value: v, expires: c.now().Add(c.ttl)}
}

// Forget drops id, for example when it changed or was deleted.
func (c *Cache[V]) Forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, id)
	c.forgets++
	c.mu.Unlock()
}
