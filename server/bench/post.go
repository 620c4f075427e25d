package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// poster sends POST requests over an HTTP/1.1 connection of its own, kept open from one
// request to the next: it writes each request's bytes itself and reads the answer with
// http.ReadResponse. On a machine the load generator shares with the server, every microsecond
// it spends is one the server does not get, and net/http's client hands each request between
// goroutines several times. One poster serves one request at a time.
type poster struct {
	addr, host string
	prefix     string      // the base URL's path, before each request's
	tls        *tls.Config // nil for http
	conn       net.Conn
	r          *bufio.Reader
	stop       func() bool // stops the conn's deadline being set when ctx is canceled
	buf        []byte
}

func newPoster(base string) (*poster, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	p := &poster{addr: u.Host, host: u.Host, prefix: strings.TrimSuffix(u.Path, "/")}
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

// post sends body to path (below the base URL's) with the given headers (name, value, name,
// value...), and returns the answer's status and up to 4 KiB of its body. After a failure, or
// when the server closes the connection, the next request opens another. A kept connection
// that ends before the answer (the server closed it while it was idle) is opened again and the
// request sent once more, so that its end is not taken for the request's failure. (Sending a
// channel's webhook twice is harmless: Baton stores its message once.)
func (p *poster) post(ctx context.Context, path, contentType string, headers []string, body []byte) (int, []byte, error) {
	request := p.request(path, contentType, headers, body)
	for attempt := 0; ; attempt++ {
		reused := p.conn != nil
		if !reused {
			if err := p.dial(ctx); err != nil {
				return 0, nil, err
			}
		}
		status, answer, keep, err := p.exchange(request)
		if err != nil || !keep {
			p.close()
		}
		if err != nil && reused && attempt == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
			continue
		}
		return status, answer, err
	}
}

// request writes a request's bytes into p's buffer and returns them.
func (p *poster) request(path, contentType string, headers []string, body []byte) []byte {
	b := append(p.buf[:0], "POST "...)
	b = append(b, p.prefix...)
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
	return b
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

// dial opens the connection, which ends when ctx does at the latest: at its deadline, or as
// soon as it is canceled.
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
	p.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	p.conn, p.r = conn, bufio.NewReader(conn)
	return nil
}

func (p *poster) close() {
	if p.conn != nil {
		p.stop()
		p.conn.Close()
		p.conn, p.r, p.stop = nil, nil, nil
	}
}
