package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// poster sends POST requests over an HTTP/1.1 connection of its own, kept open from one
// request to the next: it writes each request's bytes itself and reads the answer with
// http.ReadResponse. On a machine the load generator shares with the server, every microsecond
// it spends is one the server does not get, and net/http's client hands each request between
// goroutines several times. One poster serves one request at a time.
type poster struct {
	addr, host string
	tls        *tls.Config // nil for http
	conn       net.Conn
	r          *bufio.Reader
	buf        []byte
}

func newPoster(base string) (*poster, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	p := &poster{addr: u.Host, host: u.Host}
	switch u.Scheme {
	case "http":
		if u.Port() == "" {
			p.addr = net.JoinHostPort(u.Hostname(), "80")
		}
	case "https":
		p.tls = &tls.Config{ServerName: u.Hostname()}
		if u.Port() == "" {
			p.addr = net.JoinHostPort(u.Hostname(), "443")
		}
	default:
		return nil, fmt.Errorf("%s: not an http or https URL", base)
	}
	return p, nil
}

// post sends body to path with the given headers (name, value, name, value...), and returns
// the answer's status and up to 4 KiB of its body. After a failure, or when the server closes
// the connection, the next request opens another.
func (p *poster) post(ctx context.Context, path, contentType string, headers []string, body []byte) (int, []byte, error) {
	if p.conn == nil {
		if err := p.dial(ctx); err != nil {
			return 0, nil, err
		}
	}
	b := append(p.buf[:0], "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, p.host...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, contentType...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	for i := 0; i+1 < len(headers); i += 2 {
		b = append(b, "\r\n"...)
		b = append(b, headers[i]...)
		b = append(b, ": "...)
		b = append(b, headers[i+1]...)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	p.buf = b
	status, answer, keep, err := p.exchange(b)
	if err != nil || !keep {
		p.close()
	}
	return status, answer, err
}

// exchange writes a request and reads its answer, and reports whether the connection may
// carry another.
func (p *poster) exchange(request []byte) (status int, answer []byte, keep bool, err error) {
	if _, err := p.conn.Write(request); err != nil {
		return 0, nil, false, err
	}
	res, err := http.ReadResponse(p.r, nil)
	if err != nil {
		return 0, nil, false, err
	}
	answer, err = io.ReadAll(io.LimitReader(res.Body, 4096))
	if closeErr := res.Body.Close(); err == nil { // Close reads the rest: the next answer starts after it
		err = closeErr
	}
	return res.StatusCode, answer, !res.Close, err
}

// dial opens the connection, which ends when ctx does at the latest.
func (p *poster) dial(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return err
	}
	if p.tls != nil {
		tc := tls.Client(conn, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	p.conn, p.r = conn, bufio.NewReader(conn)
	return nil
}

func (p *poster) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn, p.r = nil, nil
	}
}
