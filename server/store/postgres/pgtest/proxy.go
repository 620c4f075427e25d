package pgtest

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Proxy is a TCP proxy on loopback in front of the test database that a test can cut off, as
// a database stopped or restarted would be: Cut breaks every connection through it and refuses
// new ones (connection refused) until Restore.
type Proxy struct {
	// URL is the database's URL through the proxy.
	URL string

	t                 testing.TB
	addr              string // the proxy's loopback address, kept across a Cut
	network, upstream string // where the database listens

	mu    sync.Mutex
	ln    net.Listener        // nil while cut
	conns map[net.Conn]func() // open client connections, each with what breaks it
}

// NewProxy starts a Proxy in front of the database at dbURL (a URL or a key=value string), and
// stops it when the test ends.
func NewProxy(t testing.TB, dbURL string) *Proxy {
	t.Helper()
	network, upstream := Upstream(t, dbURL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{
		URL: Through(t, dbURL, ln.Addr().(*net.TCPAddr)), t: t, addr: ln.Addr().String(),
		network: network, upstream: upstream, conns: map[net.Conn]func(){},
	}
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// Cut closes the listener and every connection through the proxy.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, cut := range p.conns {
		cut()
	}
	clear(p.conns)
}

// Restore listens again on the proxy's address: new connections reach the database.
func (p *Proxy) Restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(client)
		}
	}()
}

// relay copies bytes both ways between a client and a connection of its own to the database.
func (p *Proxy) relay(client net.Conn) {
	server, err := net.Dial(p.network, p.upstream)
	if err != nil {
		client.Close()
		return
	}
	cut := func() { client.Close(); server.Close() }
	p.mu.Lock()
	if p.ln == nil { // cut while dialing
		p.mu.Unlock()
		cut()
		return
	}
	p.conns[client] = cut
	p.mu.Unlock()
	go func() { _, _ = io.Copy(server, client); cut() }()
	_, _ = io.Copy(client, server)
	cut()
	p.mu.Lock()
	delete(p.conns, client)
	p.mu.Unlock()
}

// Upstream returns the network and address the database at dbURL listens on: a TCP address, or
// a Unix socket when the URL names a socket directory.
func Upstream(t testing.TB, dbURL string) (network, address string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(int(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		return "unix", filepath.Join(cfg.Host, ".s.PGSQL."+port)
	}
	return "tcp", net.JoinHostPort(cfg.Host, port)
}

// Through returns dbURL with the proxy at addr as its server, without TLS (a proxy may read the
// server's messages).
func Through(t testing.TB, dbURL string, addr *net.TCPAddr) string {
	t.Helper()
	if !strings.Contains(dbURL, "://") {
		return dbURL + " host=127.0.0.1 port=" + strconv.Itoa(addr.Port) + " sslmode=disable"
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr.String()
	q := u.Query()
	q.Set("sslmode", "disable")
	q.Del("host") // a socket directory given as a parameter
	u.RawQuery = q.Encode()
	return u.String()
}
