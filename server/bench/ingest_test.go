package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/webhook"
)

// TestIngestSignsWebhooks runs a webhook load against a server that checks every request as
// the generic channel webhook would see it: path, content type, a payload that parses, a valid
// signature, and a message id not seen before.
func TestIngestSignsWebhooks(t *testing.T) {
	secret := webhook.NewSecret()
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var payload batonv1.GenericWebhookPayload
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/webhooks/generic/ch-1" || r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "wrong request line or content type", http.StatusBadRequest)
		case protojson.Unmarshal(body, &payload) != nil || len(payload.GetMessages()) != 1:
			http.Error(w, "not a generic payload of one message", http.StatusBadRequest)
		case webhook.CheckSignature(secret, r.Header, body, time.Now()) != nil:
			http.Error(w, "bad signature", http.StatusUnauthorized)
		default:
			mu.Lock()
			defer mu.Unlock()
			if m := payload.GetMessages()[0].GetId(); seen[m] {
				http.Error(w, "message "+m+" sent twice", http.StatusConflict)
			} else {
				seen[m] = true
			}
		}
	}))
	defer srv.Close()

	const n = 200
	res, err := Ingest(t.Context(), IngestConfig{URL: srv.URL, ChannelID: "ch-1", WebhookSecret: secret, Concurrency: 4,
		Duration: time.Minute, MaxMessages: n, Contacts: 10, RunID: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.Failed != 0 || len(seen) != n {
		t.Fatalf("sent %d, failed %d (first error %v), server accepted %d; want %d sent and accepted", res.Sent, res.Failed, res.FirstError, len(seen), n)
	}
}

// TestPosterReusesItsConnection checks a poster sends requests one after another on one
// connection, below the base URL's path, reads answers larger than it keeps, and opens another
// connection only when the server closes its own: after answering, or while it was idle.
func TestPosterReusesItsConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("close") != "" {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, r.URL.Path+" "+r.Header.Get("x-test")+":"+string(body)+strings.Repeat(".", 8192))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	p, err := newPoster(srv.URL + "/base/")
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for i, c := range []struct {
		path      string
		idleClose bool // the server closes the connection before the request
		conns     int32
	}{{"/a", false, 1}, {"/b?close=1", false, 1}, {"/c", false, 2}, {"/d", false, 2}, {"/e", true, 3}} {
		if c.idleClose {
			srv.CloseClientConnections()
		}
		status, answer, err := p.post(t.Context(), c.path, "text/plain", []string{"x-test", strconv.Itoa(i)}, []byte("body"))
		path, _, _ := strings.Cut(c.path, "?")
		if want := "/base" + path + " " + strconv.Itoa(i) + ":body"; err != nil || status != http.StatusAccepted ||
			!strings.HasPrefix(string(answer), want) || len(answer) != 4096 {
			t.Fatalf("post %s: %d %.30q… (%d bytes), %v; want %d %q… (4096 bytes)", c.path, status, answer, len(answer), err, http.StatusAccepted, want)
		}
		if got := conns.Load(); got != c.conns {
			t.Errorf("after post %s: %d connections, want %d", c.path, got, c.conns)
		}
	}
}

// TestIngestRequestsCutOffAreNotFailures runs a load against a server that never answers: the
// requests in flight when the run ends are cut off, not failed.
func TestIngestRequestsCutOffAreNotFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then the server notices the client hang up, which ends the context
		<-r.Context().Done()
	}))
	defer srv.Close()
	res, err := Ingest(t.Context(), IngestConfig{URL: srv.URL, ChannelID: "ch-1", WebhookSecret: webhook.NewSecret(), Concurrency: 4,
		Duration: 200 * time.Millisecond, MaxMessages: 1000, Contacts: 10, RunID: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || res.Failed != 0 {
		t.Fatalf("sent %d, failed %d (first error %v); want neither", res.Sent, res.Failed, res.FirstError)
	}
}

// TestPosterStopsWhenCanceled checks a request waiting for its answer ends when its context is
// canceled, though the context has no deadline.
func TestPosterStopsWhenCanceled(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	p, err := newPoster(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := p.post(ctx, "/", "text/plain", nil, []byte("body"))
		done <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("post succeeded after its context was canceled")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("post still waiting 10s after its context was canceled")
	}
}
