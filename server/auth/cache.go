package auth

import (
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ttlcache"
)

// Cache remembers recently checked keys for a short time. The presented secret is still
// hashed and compared on every call; only the stored hash and principal are reused. Forget
// drops a key at once (a revocation on this server); other servers sharing the database drop
// it within the TTL.
type Cache = ttlcache.Cache[domain.APIKey]

// NewCache returns a cache keeping keys for ttl.
func NewCache(ttl time.Duration) *Cache { return ttlcache.New[domain.APIKey](ttl) }
