//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes the data directory's lock file, so that a second server on the same
// SQLite database refuses to start instead of sharing it. The lock ends with the process,
// however it ends.
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, "baton.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another Baton server uses the data directory %s (it holds %s); "+
				"replicas need PostgreSQL (--database-url)", dir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
