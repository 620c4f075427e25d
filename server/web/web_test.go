package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/batonhq/baton/server/web"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	web.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// The default transport would ask for gzip and decode it silently: the tests look at what
	// the server sent.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestServesTheAppsWithTheirContentTypes(t *testing.T) {
	srv := server(t)
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/console/", "text/html; charset=utf-8", `<script src="console.js"`},
		{"/console/console.js", "text/javascript; charset=utf-8", ""},
		{"/console/console.css", "text/css; charset=utf-8", ""},
		{"/chat/", "text/html; charset=utf-8", `<script src="demo.js"`},
		{"/chat/widget.js", "text/javascript; charset=utf-8", "data-channel"},
	} {
		res := get(t, srv.URL+tc.path, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != tc.contentType {
			t.Errorf("GET %s: %d %q, want 200 %q", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.contentType)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache (stable names must revalidate)", tc.path, got)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", tc.path)
		}
		isHTML := strings.HasPrefix(tc.contentType, "text/html")
		if hasCSP := res.Header.Get("Content-Security-Policy") != ""; hasCSP != isHTML {
			t.Errorf("GET %s: CSP present %v, want %v", tc.path, hasCSP, isHTML)
		}
	}
}

func TestRevalidatesWithTheETag(t *testing.T) {
	srv := server(t)
	first := get(t, srv.URL+"/chat/widget.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := get(t, srv.URL+"/chat/widget.js", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with the current ETag: %d, want 304", again.StatusCode)
	}
	stale := get(t, srv.URL+"/chat/widget.js", map[string]string{"If-None-Match": `"stale"`})
	if stale.StatusCode != http.StatusOK {
		t.Errorf("revalidation with another ETag: %d, want 200", stale.StatusCode)
	}
}

func TestGzipsForClientsThatAcceptIt(t *testing.T) {
	srv := server(t)
	plain := get(t, srv.URL+"/console/console.js", nil)
	want, _ := io.ReadAll(plain.Body)
	res := get(t, srv.URL+"/console/console.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.9"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != string(want) || len(want) == 0 {
		t.Errorf("gzipped body decodes to %d bytes, want the %d plain ones", len(got), len(want))
	}
}

func TestRedirectsBareAppPathsAndRefusesUnknownFiles(t *testing.T) {
	srv := server(t)
	for path, want := range map[string]string{"/console": "/console/", "/chat": "/chat/"} {
		res := get(t, srv.URL+path, nil)
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 301 to %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	for _, path := range []string{"/console/nope.js", "/chat/dist/chat/widget.js", "/console/console.js/"} {
		if res := get(t, srv.URL+path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}
