package secret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadKeyFile reads a keyring from a file of keys, one a line, the sealing key first.
func ReadKeyFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseKeyring(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return r, nil
}

// CreateKeyFile writes keys (as NewKey makes them, the sealing key first) to a new file readable
// by its owner only, and fails with fs.ErrExist when the file exists: the file appears whole or
// not at all.
func CreateKeyFile(path string, keys ...string) error {
	tmp, err := writeTemp(path, keys)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Link(tmp, path) // fails when path exists
}

// ReplaceKeyFile replaces the file at path with one holding keys, atomically.
func ReplaceKeyFile(path string, keys ...string) error {
	tmp, err := writeTemp(path, keys)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ReadKeyTexts returns the keys of a key file as written, for a rotation to keep them.
func ReadKeyTexts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	return keys, nil
}

func writeTemp(path string, keys []string) (string, error) {
	if len(keys) == 0 {
		return "", errors.New("secret: no key to write")
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*") // mode 0600
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(strings.Join(keys, "\n") + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
