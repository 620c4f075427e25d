package postgres_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// commitCutter is a proxy on loopback in front of the test database that can break a
// connection at the worst moment for a client: after the server has carried out a COMMIT, and
// before the client hears of it. The commit's outcome is then unknown to the client.
type commitCutter struct {
	url string // the database's URL, through the proxy

	mu  sync.Mutex
	cut int // cut at the cut-th COMMIT from now; 0 lets every one through
}

// cutCommits starts a commitCutter in front of the database at dbURL (a URL or a key=value
// string, as BATON_TEST_DATABASE_URL may be), letting every COMMIT through until told otherwise.
func cutCommits(t *testing.T, dbURL string) *commitCutter {
	t.Helper()
	network, target := pgtest.Upstream(t, dbURL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c := &commitCutter{url: pgtest.Through(t, dbURL, ln.Addr().(*net.TCPAddr))}
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial(network, target)
			if err != nil {
				client.Close()
				continue
			}
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			go func() { c.relay(client, server); client.Close(); server.Close() }()
		}
	}()
	return c
}

// cutAt makes the nth COMMIT from now (n ≥ 1) the one whose answer is lost.
func (c *commitCutter) cutAt(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = n
}

// relay passes the server's messages on to the client, one at a time, until it is to cut: a
// message is a type byte and a length (of itself and the body), then the body.
func (c *commitCutter) relay(client, server net.Conn) {
	r := bufio.NewReader(server)
	header := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, header); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(header[1:])-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if header[0] == 'C' && string(body) == "COMMIT\x00" && c.cutNow() {
			return
		}
		if _, err := client.Write(append(header, body...)); err != nil {
			return
		}
	}
}

// cutNow counts a COMMIT carried out and reports whether its answer is the one to lose.
func (c *commitCutter) cutNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut == 0 {
		return false
	}
	c.cut--
	return c.cut == 0
}
