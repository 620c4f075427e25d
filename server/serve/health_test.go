package serve_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/server/store"
)

// readiness is a store whose readiness the test sets.
type readiness struct {
	store.Store
	err error
}

func (r *readiness) Ready(context.Context) error { return r.err }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// TestLivenessAndReadiness: /livez answers while the server serves; /readyz and gRPC health
// follow the store's readiness, with a reason that never carries the database's own words.
func TestLivenessAndReadiness(t *testing.T) {
	st := &readiness{Store: openSQLite(t, filepath.Join(t.TempDir(), "baton.db"))}
	h := startOn(t, st, &clock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)})
	health := func() string {
		return post(t, h.url+"/grpc.health.v1.Health/Check", "", `{"service":"baton.v1.HandoverService"}`)
	}
	cases := []struct {
		name      string
		err       error
		code      int
		body, rpc string
	}{
		{"ready", nil, http.StatusOK, "ok", `"SERVING_STATUS_SERVING"`},
		{"migrations pending", store.ErrMigrationsPending, http.StatusServiceUnavailable, store.ErrMigrationsPending.Error(), "SERVING_STATUS_NOT_SERVING"},
		{"database unreachable", errors.Join(store.ErrUnavailable, errors.New("dial tcp 10.0.0.9:5432: secret-host")), http.StatusServiceUnavailable, "database unavailable", "SERVING_STATUS_NOT_SERVING"},
	}
	for _, c := range cases {
		st.err = c.err
		if code, body := get(t, h.url+"/livez"); code != http.StatusOK || body != "ok" {
			t.Errorf("%s: /livez = %d %q", c.name, code, body)
		}
		for _, path := range []string{"/readyz", "/healthz"} {
			if code, body := get(t, h.url+path); code != c.code || body != c.body {
				t.Errorf("%s: %s = %d %q, want %d %q", c.name, path, code, body, c.code, c.body)
			}
		}
		if got := health(); !strings.Contains(got, c.rpc) {
			t.Errorf("%s: grpc health = %s, want %s", c.name, got, c.rpc)
		}
	}
	if got := post(t, h.url+"/grpc.health.v1.Health/Check", "", `{"service":"no.such.Service"}`); !strings.Contains(got, "404") {
		t.Errorf("health of an unknown service = %s", got)
	}
}
