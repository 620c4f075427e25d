package serve_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/ratelimit"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/webhook"
)

// sink is a webhook endpoint that answers as fast as it can and counts event deliveries.
type sink struct {
	srv     *httptest.Server
	failing atomic.Bool
	count   atomic.Int64
	body    atomic.Pointer[[]byte] // the last event delivered
	target  atomic.Int64
	reached chan struct{}
	once    sync.Once
}

func newSink(b *testing.B) *sink {
	s := &sink{reached: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		json.Unmarshal(body, &msg)
		switch {
		case msg.Type == "webhook.verification":
			w.Write(msg.Data)
		case s.failing.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			s.body.Store(&body)
			if s.count.Add(1) == s.target.Load() {
				s.once.Do(func() { close(s.reached) })
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	b.Cleanup(s.srv.Close)
	return s
}

// BenchmarkWebhookDelivery measures how fast a backlog of deliveries drains to a loopback sink
// through the whole path (claim, render, sign, POST, record), and the ceiling of the same run:
// the bare client POSTing the same number of signed requests to the same sink, as concurrently.
func BenchmarkWebhookDelivery(b *testing.B) {
	h := start(b, loopback, unlimited)
	ctx := context.Background()
	ch := h.world(0).channel.GetId()
	s := newSink(b)
	hook, secret := h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{
		Url:     s.srv.URL,
		Filters: &batonv1.WebhookFilters{EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}},
	})
	// Fail five deliveries so the webhook turns inactive, then pile up the backlog behind it.
	s.failing.Store(true)
	ingestMany(b, h, ch, "warmup", 5)
	waitFor(b, "the webhook to turn inactive", func() bool {
		w := need(h.admin.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: hook.GetId()}))(b).GetWebhook()
		return w.GetState() == batonv1.WebhookState_WEBHOOK_STATE_INACTIVE
	})
	ingestMany(b, h, ch, "m", b.N)
	total := b.N + 5
	s.target.Store(int64(total))
	s.failing.Store(false)

	b.ResetTimer()
	began := time.Now()
	need(h.admin.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: hook.GetId()}))(b)
	select {
	case <-s.reached:
	case <-time.After(5 * time.Minute):
		b.Fatalf("delivered %d of %d", s.count.Load(), total)
	}
	rate := float64(total) / time.Since(began).Seconds()
	b.StopTimer()

	ceiling := bareDeliveries(b, s, secret, total)
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(ceiling, "ceiling/s")
	b.ReportMetric(rate/ceiling, "x-ceiling")
}

// bareDeliveries POSTs n signed deliveries to the sink with 32 senders, as the dispatcher
// does by default, and returns the rate. Each carries the body of an event Baton delivered, so
// that both pay the same for it on the wire and in the sink.
func bareDeliveries(b *testing.B, s *sink, secret string, n int) float64 {
	c := webhook.NewClient(webhook.Config{AllowNetworks: loopbackNetworks})
	body := *s.body.Load()
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range 32 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				res := c.Send(context.Background(), webhook.Request{
					URL: s.srv.URL, ID: "bare_" + strconv.FormatInt(i, 10), Time: time.Now(), Body: body, Secrets: []string{secret},
				})
				if !res.OK() {
					b.Errorf("bare send: %+v", res)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(began).Seconds()
}

// unlimited lifts the API keys' rate limit, which a benchmark's backlog would exceed.
func unlimited(c *serve.Config) { c.RateLimits.Key = ratelimit.Rate{PerSecond: -1} }

// ingestMany ingests n messages over up to 1000 customers, 16 at a time.
func ingestMany(b *testing.B, h *harness, channelID, prefix string, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				_, err := h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
					ChannelId:        channelID,
					Contact:          &batonv1.ContactProfile{ExternalId: prefix + "-c" + strconv.FormatInt(i%1000, 10)},
					ChannelMessageId: prefix + strconv.FormatInt(i, 10),
					Content:          text_("hello"),
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// waitFor polls cond, failing when a generous bound passes: what Baton records trails what an
// endpoint saw by a moment, and the test has no other signal for it.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
