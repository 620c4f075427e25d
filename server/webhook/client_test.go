package webhook

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// loopback lets tests reach their httptest servers through the SSRF guard.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// received is what an endpoint got.
type received struct {
	header http.Header
	body   []byte
}

// endpoint serves answer after recording each request it receives.
func endpoint(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("endpoint reading the body: %v", err)
		}
		got <- received{r.Header.Clone(), body}
		r.Body = io.NopCloser(bytes.NewReader(body)) // for the answer to read again
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func request(url string, secrets ...string) Request {
	if len(secrets) == 0 {
		secrets = []string{NewSecret()}
	}
	return Request{URL: url, ID: "ev_1.wh_1", Time: time.Now(), Body: []byte(`{"type":"x"}`), Secrets: secrets}
}

func TestSendSignsVerifiably(t *testing.T) {
	srv, got := endpoint(t, status(http.StatusNoContent))
	c := NewClient(Config{AllowNetworks: loopback})
	old, current := NewSecret(), NewSecret() // a rotation's overlap: both sign
	r := request(srv.URL, current, old)

	res := c.Send(t.Context(), r)
	if !res.OK() || res.StatusCode != http.StatusNoContent || res.Error != "" || res.Latency <= 0 {
		t.Fatalf("Send = %+v, want a measured 204", res)
	}
	rec := <-got
	for name, want := range map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "Baton-Webhooks/1",
		"webhook-id":        r.ID,
		"webhook-timestamp": strconv.FormatInt(r.Time.Unix(), 10),
	} {
		if v := rec.header.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if string(rec.body) != string(r.Body) {
		t.Errorf("body = %s, want %s", rec.body, r.Body)
	}
	for _, secret := range []string{current, old} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(rec.body, rec.header); err != nil {
			t.Errorf("one secret alone does not verify: %v", err)
		}
		changed := []byte(string(rec.body))
		changed[2] ^= 1
		if err := wh.Verify(changed, rec.header); err == nil {
			t.Error("a changed body verifies")
		}
	}
}

func TestSendRefusesMalformedSecret(t *testing.T) {
	srv, got := endpoint(t, status(http.StatusOK))
	res := NewClient(Config{AllowNetworks: loopback}).Send(t.Context(), request(srv.URL, "whsec_%%%"))
	if res.StatusCode != 0 || res.Error != "malformed signing secret" {
		t.Fatalf("Send = %+v, want a malformed secret error", res)
	}
	if len(got) != 0 {
		t.Fatal("the endpoint was reached")
	}
}

func TestSendGuardsAgainstSSRF(t *testing.T) {
	srv, got := endpoint(t, status(http.StatusOK))

	res := NewClient(Config{}).Send(t.Context(), request(srv.URL))
	if res.StatusCode != 0 || res.Error != "dial: address not allowed by the SSRF policy" || !res.NotAllowed {
		t.Fatalf("Send to loopback without allow-list = %+v, want an address not allowed", res)
	}
	if len(got) != 0 {
		t.Fatal("the loopback endpoint was reached")
	}
	if res := NewClient(Config{AllowNetworks: loopback}).Send(t.Context(), request(srv.URL)); !res.OK() {
		t.Fatalf("Send to allow-listed loopback = %+v, want 200", res)
	}
	// A name that resolves to loopback is checked after resolution.
	named := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if res := NewClient(Config{}).Send(t.Context(), request(named)); !res.NotAllowed || res.Error != "dial: address not allowed by the SSRF policy" {
		t.Fatalf("Send to localhost = %+v, want an address not allowed", res)
	}
}

func TestSendRefusesOtherSchemes(t *testing.T) {
	c := NewClient(Config{AllowNetworks: loopback})
	for _, url := range []string{"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1:70/"} {
		res := c.Send(t.Context(), request(url))
		if res.StatusCode != 0 || !strings.Contains(res.Error, "only http and https") {
			t.Errorf("Send(%s) = %+v, want a scheme refusal", url, res)
		}
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	srv, _ := endpoint(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})

	res := NewClient(Config{AllowNetworks: loopback}).Send(t.Context(), request(srv.URL))
	if res.StatusCode != http.StatusTemporaryRedirect || res.OK() || res.Error != "" {
		t.Fatalf("Send = %+v, want the 307 as the answer", res)
	}
	if hits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestSendTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv, _ := endpoint(t, func(http.ResponseWriter, *http.Request) { <-release })
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for the handler

	res := NewClient(Config{Timeout: 100 * time.Millisecond, AllowNetworks: loopback}).Send(t.Context(), request(srv.URL))
	if res.StatusCode != 0 || res.Error != "timed out after 100ms" {
		t.Fatalf("Send = %+v, want a timeout", res)
	}
}

func TestSendEndpointDropsConnection(t *testing.T) {
	srv, _ := endpoint(t, func(w http.ResponseWriter, _ *http.Request) {
		// The body was read, so closing sends a FIN rather than a reset.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	res := NewClient(Config{AllowNetworks: loopback}).Send(t.Context(), request(srv.URL))
	if res.StatusCode != 0 || res.Error != "the endpoint closed the connection without answering" {
		t.Fatalf("Send = %+v, want a dropped connection", res)
	}
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := NewClient(Config{AllowNetworks: loopback}).Send(t.Context(), request("http://"+addr+"/hook"))
	if res.StatusCode != 0 || res.Error != "dial: connection refused" {
		t.Fatalf("Send = %+v, want a refused connection", res)
	}
}

func TestSendReadsABoundedAnswer(t *testing.T) {
	srv, _ := endpoint(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	timeout := 5 * time.Second
	res := NewClient(Config{Timeout: timeout, AllowNetworks: loopback}).Send(t.Context(), request(srv.URL))
	if !res.OK() || res.Error != "" || res.Latency >= timeout {
		t.Fatalf("Send to an endless answer = %+v, want 200 without reading it all", res)
	}
}

func TestSendRetryAfter(t *testing.T) {
	date := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		code     int
		header   string
		min, max time.Duration
	}{
		{http.StatusTooManyRequests, "120", 120 * time.Second, 120 * time.Second},
		{http.StatusServiceUnavailable, date, time.Minute, 2 * time.Minute},
		{http.StatusInternalServerError, "120", 0, 0}, // honoured only on 429 and 503
	} {
		srv, _ := endpoint(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", tc.header)
			w.WriteHeader(tc.code)
		})
		res := NewClient(Config{AllowNetworks: loopback}).Send(t.Context(), request(srv.URL))
		if res.StatusCode != tc.code || res.RetryAfter < tc.min || res.RetryAfter > tc.max {
			t.Errorf("%d with Retry-After %q: Send = %+v, want RetryAfter in [%v, %v]", tc.code, tc.header, res, tc.min, tc.max)
		}
	}
}

func TestSendPropagatesTraceparent(t *testing.T) {
	srv, got := endpoint(t, status(http.StatusOK))
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(t.Context(), sc)
	if res := NewClient(Config{AllowNetworks: loopback}).Send(ctx, request(srv.URL)); !res.OK() {
		t.Fatalf("Send = %+v", res)
	}
	rec := <-got
	remote := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(rec.header)))
	if remote.TraceID() != sc.TraceID() || remote.SpanID() != sc.SpanID() || !remote.IsSampled() {
		t.Fatalf("traceparent %q carries %v, want %v", rec.header.Get("traceparent"), remote, sc)
	}
}
