package bot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// CursorStore keeps the sequence of the last event a stream-mode bot handled, so that a bot
// started again resumes after it. Events after it are handled again after a crash (at least
// once); the request ids the Conversation handle sends make a handler's repeated replies and
// handoffs return what the first run stored instead of acting twice.
type CursorStore interface {
	// Load returns the saved sequence, and false when none was saved yet.
	Load(ctx context.Context) (seq uint64, ok bool, err error)
	// Save records that every event up to seq was handled.
	Save(ctx context.Context, seq uint64) error
}

// MemoryCursor keeps the cursor for the life of the process: a restarted bot starts from the
// events stored after it connects. The zero value is ready to use.
type MemoryCursor struct {
	mu  sync.Mutex
	seq uint64
	ok  bool
}

// Load implements CursorStore.
func (m *MemoryCursor) Load(context.Context) (uint64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seq, m.ok, nil
}

// Save implements CursorStore.
func (m *MemoryCursor) Save(_ context.Context, seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq, m.ok = seq, true
	return nil
}

// FileCursor keeps the cursor in a file, as decimal text. A save writes a new file and renames
// it over the old one, so a crash leaves either cursor, never half of one.
type FileCursor string

// Load implements CursorStore.
func (f FileCursor) Load(context.Context) (uint64, bool, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("cursor file %s: %w", f, err)
	}
	return seq, true, nil
}

// Save implements CursorStore.
func (f FileCursor) Save(_ context.Context, seq uint64) error {
	tmp, err := os.CreateTemp(filepath.Dir(string(f)), filepath.Base(string(f))+".*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(strconv.FormatUint(seq, 10) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), string(f))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
