package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
	"go.opentelemetry.io/otel/propagation"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/retryafter"
)

// Config tunes a Client.
type Config struct {
	// Timeout bounds one request, from dialling to reading the answer. Default 5s.
	Timeout time.Duration
	// AllowNetworks are reachable although the SSRF guard denies them (127.0.0.0/8 in
	// tests, a private network the operator trusts).
	AllowNetworks []netip.Prefix
	// UserAgent is sent with every request. Default "Baton-Webhooks/1".
	UserAgent string
}

// Client posts signed messages to webhook endpoints. Endpoints are URLs strangers chose, so it
// dials only public addresses, checked after DNS resolution, and never follows redirects.
// It is safe for concurrent use.
type Client struct {
	http      *http.Client
	timeout   time.Duration
	userAgent string
}

// discardLimit is how much of a delivery's answer is read: enough to reuse the connection
// after a typical acknowledgement, without reading whatever an endpoint streams.
const discardLimit = 4 << 10

// NewClient returns a Client with its own transport.
func NewClient(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Baton-Webhooks/1"
	}
	var v4, v6 []netip.Prefix
	for _, p := range cfg.AllowNetworks {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	guard := ssrf.New(ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...))
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: guard.Safe}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would be dialled instead of the endpoint, escaping the guard
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    cfg.Timeout,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    32, // many deliveries go to one bot's endpoint
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Client{
		http: &http.Client{
			Transport: transport,
			// A redirect is the endpoint's answer: the registered URL is the only address the
			// webhook's owner chose to receive events.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:   cfg.Timeout,
		userAgent: cfg.UserAgent,
	}
}

// Request is one signed message to an endpoint.
type Request struct {
	URL string
	// ID is the webhook-id endpoints deduplicate with: stable across attempts.
	ID string
	// Time is the webhook-timestamp; zero means now.
	Time    time.Time
	Body    []byte
	Secrets []string
}

// Send posts r once and reports what the endpoint did.
func (c *Client) Send(ctx context.Context, r Request) domain.AttemptResult {
	res, _, _ := c.post(ctx, r, discardLimit)
	return res
}

// Call is Send that also returns the start of the answer's body, for endpoints whose answer
// says something (at most 4 KiB of it).
func (c *Client) Call(ctx context.Context, r Request) (domain.AttemptResult, []byte) {
	res, body, _ := c.post(ctx, r, discardLimit)
	return res, body
}

// post sends r and returns the result and up to limit bytes of the answer's body, with the
// error that cut reading it short, if any.
func (c *Client) post(ctx context.Context, r Request, limit int64) (domain.AttemptResult, []byte, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return domain.AttemptResult{Error: err.Error()}, nil, nil
	}
	ctx, cancel := context.WithTimeout(req.Context(), c.timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return domain.AttemptResult{Error: c.describe(ctx, err), NotAllowed: notAllowed(err), Latency: time.Since(start)}, nil, nil
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body.Close()
	res := domain.AttemptResult{StatusCode: resp.StatusCode, Latency: time.Since(start)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryafter.Parse(resp.Header.Get("Retry-After"), time.Now())
	}
	if readErr != nil {
		readErr = errors.New(c.describe(ctx, readErr))
	}
	return res, body, readErr
}

// newRequest builds the signed POST of r, refusing URLs that are not http or https.
func (c *Client) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	u, err := url.Parse(r.URL)
	switch {
	case err != nil:
		return nil, errors.New("invalid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("URL scheme %q not allowed: only http and https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("the URL has no host")
	}
	ts := r.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	sig, err := Sign(r.Secrets, r.ID, ts, r.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, errors.New("invalid URL")
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", c.userAgent)
	h.Set("webhook-id", r.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	// Always W3C trace context, whatever the process's propagator: deliveries promise it.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
	return req, nil
}

// describe says briefly why a request got no answer; ctx is the request's own context.
func (c *Client) describe(ctx context.Context, err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case notAllowed(err):
		return "dial: address not allowed by the SSRF policy"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timed out after %v", c.timeout)
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "dns: no such host " + dnsErr.Name
		}
		return "dns: lookup of " + dnsErr.Name + " failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "dial: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the endpoint"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the endpoint closed the connection without answering"
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error() // without the method and URL, which the caller knows
	}
	return err.Error()
}

// notAllowed reports whether the SSRF guard refused to dial the endpoint's address.
func notAllowed(err error) bool {
	return errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedNetwork) ||
		errors.Is(err, ssrf.ErrProhibitedPort)
}
