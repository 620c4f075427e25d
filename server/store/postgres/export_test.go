package postgres

// What the external tests need to see of a Store's internals.

// PublishLock returns the key of the advisory lock Publish takes.
func PublishLock(s *Store) int64 { return s.publishLock }

// ListenChannel returns the channel Publish notifies.
func ListenChannel(s *Store) string { return s.channel }
