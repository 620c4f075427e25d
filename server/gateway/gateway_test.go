package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFailLogsHangUpsAsWarnings checks a webhook the server could not store is answered 503 and
// logged as an error, except when the channel had hung up first, which is only a warning.
func TestFailLogsHangUpsAsWarnings(t *testing.T) {
	for _, hungUp := range []bool{false, true} {
		var log bytes.Buffer
		h := Handler{Logger: slog.New(slog.NewTextHandler(&log, nil))}
		ctx, cancel := context.WithCancel(t.Context())
		if hungUp {
			cancel()
		}
		w := httptest.NewRecorder()
		h.fail(w, httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhooks/generic/ch", nil), errors.New("boom"))
		cancel()
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("hung up %v: status %d, want 503", hungUp, w.Code)
		}
		want := "level=ERROR"
		if hungUp {
			want = "level=WARN"
		}
		if !strings.Contains(log.String(), want) || !strings.Contains(log.String(), "boom") {
			t.Errorf("hung up %v: logged %q, want %s with the error", hungUp, log.String(), want)
		}
	}
}
