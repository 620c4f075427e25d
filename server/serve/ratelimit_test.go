package serve_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/ratelimit"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/webhook"
)

// slowRefill refills so slowly that no token comes back during a test.
const slowRefill = 0.001

func TestAnAPIKeyOverItsRateIsRefusedWithARetryDelayAndOthersAreNot(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.RateLimits.Key = ratelimit.Rate{PerSecond: slowRefill, Burst: 5} })
	ctx := context.Background()
	noisy, quiet := h.key(batonv1.Role_ROLE_ADMIN, ""), h.key(batonv1.Role_ROLE_ADMIN, "")
	for i := range 5 {
		if _, err := noisy.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	_, err := noisy.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{})
	if code(err) != connect.CodeResourceExhausted {
		t.Fatalf("past the burst: %v, want RESOURCE_EXHAUSTED", err)
	}
	var ce *connect.Error
	errors.As(err, &ce)
	var retry *errdetails.RetryInfo
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if r, ok := v.(*errdetails.RetryInfo); ok {
				retry = r
			}
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 {
		t.Fatalf("no RetryInfo with a delay in %v", ce.Details())
	}
	if _, err := quiet.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}); err != nil {
		t.Fatalf("another key was refused for the noisy one: %v", err)
	}
}

// TestAStreamOverItsKeysRateIsRefused: opening a stream takes a token like any RPC, so a key
// cannot get round its limit by opening streams.
func TestAStreamOverItsKeysRateIsRefused(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.RateLimits.Key = ratelimit.Rate{PerSecond: slowRefill, Burst: 1} })
	// A refused stream ends at once; an accepted one would wait for events until this bound.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := h.key(batonv1.Role_ROLE_ADMIN, "")
	if _, err := c.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}); err != nil {
		t.Fatalf("the call within the burst: %v", err)
	}
	stream, err := c.Events.Subscribe(ctx, &batonv1.SubscribeRequest{})
	if err == nil {
		defer stream.Close()
		for stream.Receive() {
		}
		err = stream.Err()
	}
	if code(err) != connect.CodeResourceExhausted {
		t.Fatalf("a stream past the burst: %v, want RESOURCE_EXHAUSTED", err)
	}
}

func TestAChannelWebhookOverItsRateIsAnswered429AndStoresNothing(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.RateLimits.Webhook = ratelimit.Rate{PerSecond: slowRefill, Burst: 1} })
	noisy, noisySecret := h.genericChannel()
	quietSecret := webhook.NewSecret()
	quiet := need(h.admin.Channels.CreateChannel(context.Background(), &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "quiet", DisplayName: "Quiet",
		Credentials: &batonv1.ChannelCredentials{WebhookSecret: quietSecret},
	}))(t).GetChannel().GetId()
	if status, body := h.postGeneric(noisy, noisySecret, "evt-1", genericPayload); status != http.StatusOK {
		t.Fatalf("within the burst: %d %s", status, body)
	}
	before := h.messageCount(noisy)
	status, body := h.postGeneric(noisy, noisySecret, "evt-2", `{"messages": [
		{"id": "src-3", "contact": {"externalId": "cust-7"}, "content": {"text": {"text": "Over the limit"}}}]}`)
	if status != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d %s, want 429", status, body)
	}
	if after := h.messageCount(noisy); after != before {
		t.Fatalf("a refused webhook stored %d messages", after-before)
	}
	if status, body := h.postGeneric(quiet, quietSecret, "evt-1", genericPayload); status != http.StatusOK {
		t.Fatalf("another channel was refused for the noisy one: %d %s", status, body)
	}
}

func TestA429CarriesRetryAfterInWholeSeconds(t *testing.T) {
	h := start(t, func(c *serve.Config) { c.RateLimits.Webhook = ratelimit.Rate{PerSecond: 0.5, Burst: 1} })
	ch, secret := h.genericChannel()
	h.postGeneric(ch, secret, "evt-1", genericPayload)
	req, _ := http.NewRequest(http.MethodPost, h.url+"/webhooks/generic/"+ch, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 2 {
		t.Fatalf("status %d Retry-After %q, want 429 with 1 or 2 seconds", res.StatusCode, res.Header.Get("Retry-After"))
	}
}
