// Package bench measures Baton from the outside: it offers inbound messages to a running
// server over HTTP, and runs the bare database transaction the server's ingest is compared
// with. Every loop is bounded in count and time.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/webhook"
)

// IngestConfig describes one ingest load.
type IngestConfig struct {
	URL       string // the server's base URL
	APIKey    string // a key allowed to ingest on the channel
	ChannelID string
	// Rate is the offered load in messages per second; 0 sends as fast as Concurrency allows.
	Rate        int
	Concurrency int
	Duration    time.Duration
	MaxMessages int // stop after this many, whatever the duration
	Contacts    int // distinct customers the messages come from
	RunID       string
	// WebhookSecret, when set, sends each message as a channel would: to the generic channel
	// webhook (/webhooks/generic/<channel>), signed with this secret, instead of IngestMessage.
	WebhookSecret string
}

// Result summarises a load.
type Result struct {
	Sent, Failed int
	Elapsed      time.Duration
	Latencies    []time.Duration // of successful requests, sorted
	FirstError   error
}

// Throughput is successful messages per second.
func (r Result) Throughput() float64 { return float64(r.Sent) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(r.Latencies)))) - 1
	return r.Latencies[max(i, 0)]
}

func (r Result) String() string {
	s := fmt.Sprintf("%d ok, %d failed in %.1fs: %.0f msg/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
		r.Sent, r.Failed, r.Elapsed.Seconds(), r.Throughput(),
		ms(r.Percentile(50)), ms(r.Percentile(99)), ms(r.Percentile(100)))
	if r.FirstError != nil {
		s += fmt.Sprintf(" (first error: %v)", r.FirstError)
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Ingest offers messages over HTTP/1.1, one per request, from Concurrency workers: signed JSON
// to the generic channel webhook when cfg.WebhookSecret is set, each worker on a connection of
// its own, otherwise to IngestMessage through Connect's JSON protocol. With a Rate, requests
// start on a fixed schedule whatever the latency (open loop), so queueing shows up in the
// latencies.
func Ingest(ctx context.Context, cfg IngestConfig) (Result, error) {
	if cfg.Concurrency <= 0 || cfg.Duration <= 0 || cfg.MaxMessages <= 0 || cfg.Contacts <= 0 {
		return Result{}, fmt.Errorf("concurrency, duration, max messages and contacts must be positive")
	}
	newSender := rpcSender(cfg)
	if cfg.WebhookSecret != "" {
		newSender = webhookSender(cfg)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	tickets := schedule(ctx, cfg)
	var (
		mu        sync.Mutex
		res       Result
		sequence  atomic.Int64
		wg        sync.WaitGroup
		startTime = time.Now()
	)
	for range cfg.Concurrency {
		ingestOne, done, err := newSender()
		if err != nil {
			cancel()
			wg.Wait()
			return Result{}, err
		}
		defer done()
		wg.Go(func() {
			for due := range tickets {
				if cfg.Rate == 0 {
					due = time.Now() // closed loop: no schedule to fall behind
				}
				n := sequence.Add(1)
				err := ingestOne(ctx, n)
				latency := time.Since(due)
				if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
					return // cut off by the end of the run (its connection's deadline), not failed
				}
				mu.Lock()
				if err != nil {
					res.Failed++
					if res.FirstError == nil && ctx.Err() == nil {
						res.FirstError = err
					}
				} else {
					res.Sent++
					res.Latencies = append(res.Latencies, latency)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(startTime)
	slices.Sort(res.Latencies)
	return res, nil
}

// schedule hands out the start time of each request: on a fixed schedule at Rate, or as
// soon as a worker is free without one. It stops at MaxMessages or when ctx ends.
func schedule(ctx context.Context, cfg IngestConfig) <-chan time.Time {
	tickets := make(chan time.Time)
	go func() {
		defer close(tickets)
		start := time.Now()
		for i := range cfg.MaxMessages {
			due := time.Now()
			if cfg.Rate > 0 {
				due = start.Add(time.Duration(i) * time.Second / time.Duration(cfg.Rate))
				if wait := time.Until(due); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case tickets <- due:
			}
		}
	}()
	return tickets
}

// loadMessage is the n-th message of a load: from one of cfg.Contacts customers.
func loadMessage(cfg IngestConfig, n int64) *batonv1.GenericInboundMessage {
	contact := "bench-" + strconv.FormatInt(n%int64(cfg.Contacts), 10)
	return &batonv1.GenericInboundMessage{
		Id:      cfg.RunID + "-" + strconv.FormatInt(n, 10),
		Contact: &batonv1.ContactProfile{ExternalId: contact, DisplayName: "Load " + contact},
		Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{
			Text: &batonv1.TextContent{Text: "message " + strconv.FormatInt(n, 10) + " of a load test"},
		}},
	}
}

// A sender sends messages for one worker, one at a time.
type sender = func(ctx context.Context, n int64) error

// rpcSender makes senders calling IngestMessage through the generated client, over one
// net/http client they share. Each sender comes with done, which closes what it opened.
func rpcSender(cfg IngestConfig) func() (s sender, done func(), err error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency}}
	c := client.New(cfg.URL, cfg.APIKey, client.WithHTTPClient(hc), client.WithClientOptions(connect.WithProtoJSON()))
	send := func(ctx context.Context, n int64) error {
		m := loadMessage(cfg, n)
		_, err := c.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
			ChannelId: cfg.ChannelID, Contact: m.GetContact(), ChannelMessageId: m.GetId(), Content: m.GetContent(),
		})
		return err
	}
	return func() (sender, func(), error) { return send, hc.CloseIdleConnections, nil }
}

// webhookSender makes senders posting each message to the generic channel webhook as a
// channel does, signed, each over a connection of its own (poster).
func webhookSender(cfg IngestConfig) func() (s sender, done func(), err error) {
	path := "/webhooks/generic/" + cfg.ChannelID
	return func() (sender, func(), error) {
		p, err := newPoster(cfg.URL)
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, n int64) error {
			body, err := protojson.Marshal(&batonv1.GenericWebhookPayload{Messages: []*batonv1.GenericInboundMessage{loadMessage(cfg, n)}})
			if err != nil {
				return err
			}
			id, now := cfg.RunID+"-"+strconv.FormatInt(n, 10), time.Now()
			sig, err := webhook.Sign([]string{cfg.WebhookSecret}, id, now, body)
			if err != nil {
				return err
			}
			status, answer, err := p.post(ctx, path, "application/json", []string{
				"webhook-id", id, "webhook-timestamp", strconv.FormatInt(now.Unix(), 10), "webhook-signature", sig,
			}, body)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("webhook answered %d: %s", status, answer)
			}
			return err
		}, p.close, nil
	}
}
