package app

import (
	"context"
	"testing"
	"time"
)

// TestNoWebhooksIsRememberedUntilOneIsCreated checks the dispatcher's claim trusts, for
// NoWebhooksTTL, that it found no webhook, and that a webhook created through the same App
// ends that at once, one created through another (a replica) only when the TTL runs out.
func TestNoWebhooksIsRememberedUntilOneIsCreated(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	a, replica := New(Config{Store: st, NoWebhooksTTL: time.Hour}), New(Config{Store: st})
	remembered := func() bool { _, none := a.noWebhooks.Get(""); return none }
	create := func(app *App) {
		t.Helper()
		if _, _, err := app.CreateWebhook(ctx, chatAdmin, WebhookSpec{URL: "https://hooks.example.com/baton"}); err != nil {
			t.Fatal(err)
		}
	}

	if jobs, err := a.ClaimDeliveries(ctx, 10); err != nil || len(jobs) != 0 || !remembered() {
		t.Fatalf("claim without webhooks: %d jobs, %v; remembered %v, want none remembered", len(jobs), err, remembered())
	}
	create(replica)
	if jobs, err := a.ClaimDeliveries(ctx, 10); err != nil || len(jobs) != 0 || !remembered() {
		t.Fatalf("claim after another App created a webhook: %d jobs, %v; remembered %v, want still none remembered", len(jobs), err, remembered())
	}
	create(a)
	if remembered() {
		t.Fatal("no webhook still remembered after this App created one")
	}
	if _, err := a.ClaimDeliveries(ctx, 10); err != nil || remembered() {
		t.Fatalf("claim with webhooks: %v; remembered %v, want nothing remembered", err, remembered())
	}
}
