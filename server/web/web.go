// Package web serves the agent console (/console/) and the web-chat widget with its demo page
// (/chat/) from bundles embedded in the binary, so `baton serve` needs no Node at run time.
// The bundles are built from web/ by scripts/web and committed; CI fails when they are stale.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// asset is one embedded file, ready to serve: its bytes, gzipped when that saves space, and a
// strong ETag from its content.
type asset struct {
	body, gzipped []byte
	contentType   string
	etag          string
}

// csp keeps the pages to their own scripts, styles and API (Connect-web calls go to the same
// origin); images may come from anywhere over HTTPS, as bots send them by URL.
const csp = "default-src 'self'; img-src 'self' data: https:; media-src 'self' https:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

// Register serves the embedded assets under /console/ and /chat/ on mux. Every response is
// revalidated (Cache-Control: no-cache with an ETag): the file names are stable, since a site's
// one tag names /chat/widget.js, and a new binary must take effect at once.
func Register(mux *http.ServeMux) {
	assets, err := load()
	if err != nil {
		panic(err) // the embedded tree is part of the binary: it cannot fail to read
	}
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	mux.Handle("GET /chat", http.RedirectHandler("/chat/", http.StatusMovedPermanently))
	serve := func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	}
	mux.HandleFunc("GET /console/", serve)
	mux.HandleFunc("GET /chat/", serve)
}

func load() (map[string]*asset, error) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	assets := map[string]*asset{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a := &asset{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
		a.contentType = mime.TypeByExtension(path.Ext(name))
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if gz.Len() < len(body) {
			a.gzipped = gz.Bytes()
		}
		assets[name] = a
		return nil
	})
	return assets, err
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gzipped != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if coding == "gzip" {
			return true
		}
	}
	return false
}
