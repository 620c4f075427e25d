package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
	"github.com/batonhq/baton/server/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
