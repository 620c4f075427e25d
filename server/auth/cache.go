package auth

import (
	"sync"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// Cache remembers recently checked keys for a short time, so a busy caller costs one database
// read every TTL instead of one per call. The presented secret is still hashed and compared
// on every call; only the stored hash and principal are reused. Forget drops a key at once
// (a revocation on this server); other servers sharing the database drop it within TTL.
type Cache struct {
	TTL time.Duration
	now func() time.Time

	mu   sync.Mutex
	keys map[string]cachedKey
	// forgets counts Forget calls: a key read before a Forget is not cached after it, so a
	// revocation racing with a check cannot put the revoked key back.
	forgets uint64
}

type cachedKey struct {
	key     domain.APIKey
	expires time.Time
}

// maxCachedKeys bounds the cache; past it, it starts over.
const maxCachedKeys = 10_000

// NewCache returns a cache keeping keys for ttl.
func NewCache(ttl time.Duration) *Cache {
	return &Cache{TTL: ttl, now: time.Now, keys: map[string]cachedKey{}}
}

func (c *Cache) get(id string) (domain.APIKey, bool) {
	if c == nil {
		return domain.APIKey{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[id]
	if !ok || c.now().After(k.expires) {
		return domain.APIKey{}, false
	}
	return k.key, true
}

// generation is to be taken before reading a key, and given back to put.
func (c *Cache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.forgets
}

func (c *Cache) put(k domain.APIKey, generation uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.forgets {
		return // a key was forgotten since this one was read: it may be this one
	}
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	c.keys[k.ID] = cachedKey{key: k, expires: c.now().Add(c.TTL)}
}

// Forget drops a key, for example when it is revoked.
func (c *Cache) Forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.keys, id)
	c.forgets++
	c.mu.Unlock()
}
