package postgres_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// The lock order (lock.go) is checked as pgtest.HoldRow says.

// named opens a store on url whose connections carry the given application name.
func named(t *testing.T, url, name string) *postgres.Store {
	t.Helper()
	return open(t, pgtest.WithParam(t, url, "application_name", name))
}

// waitBlocked returns once a connection of the named store waits for a lock.
func waitBlocked(t *testing.T, conn *pgx.Conn, name string) {
	t.Helper()
	if err := pgtest.WaitBlocked(t.Context(), conn, name); err != nil {
		t.Fatal(err)
	}
}

// TestGroupLocksConversationsInIDOrder has a group of inbound writes lock two conversations
// whose contacts' keys sort the other way round from their ids: it takes them in id order.
func TestGroupLocksConversationsInIDOrder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s := named(t, url, "group-order")
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	// conv-1 is contact z's, conv-2 contact a's: the group writes a's first.
	ch := domain.Channel{ID: "ch", Kind: domain.ChannelGeneric, ExternalID: "x", Revision: 1}
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateChannel(ctx, ch); err != nil {
			return err
		}
		for id, external := range map[string]string{"1": "z", "2": "a"} {
			ct := domain.Contact{ID: "ct-" + id, ChannelID: ch.ID, ExternalID: external, CreateTime: now, UpdateTime: now, Revision: 1}
			conv := domain.Conversation{ID: "conv-" + id, ChannelID: ch.ID, ContactID: ct.ID, CreateTime: now, UpdateTime: now, Revision: 1}
			if err := tx.CreateContact(ctx, ct); err != nil {
				return err
			}
			if err := tx.CreateConversation(ctx, conv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	conn, tx := pgtest.HoldRow(t, url, "conversations", "conv-1")
	// A first write holds the group's turn while the two queue, so that they run as a group.
	release, first := make(chan struct{}), make(chan struct{})
	results := make(chan error, 3)
	inbound := func(external string, fn func(store.Tx) error) {
		go func() {
			results <- s.WriteInbound(ctx, store.InboundQuery{ChannelID: ch.ID, ContactExternalID: external, ChannelMessageID: "m-" + external}, fn)
		}()
	}
	load := func(tx store.Tx, external string) error {
		_, err := tx.LoadInbound(ctx, store.InboundQuery{ChannelID: ch.ID, ContactExternalID: external, ChannelMessageID: "m-" + external})
		return err
	}
	inbound("first", func(tx store.Tx) error { close(first); <-release; return load(tx, "first") })
	<-first
	inbound("a", func(tx store.Tx) error { return load(tx, "a") })
	inbound("z", func(tx store.Tx) error { return load(tx, "z") })
	for postgres.Queued(s) < 2 { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	close(release)
	waitBlocked(t, conn, "group-order")
	pgtest.MustNotHold(t, tx, "conversations", "conv-2", "a group locks conversations in id order")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-results; err != nil {
			t.Errorf("WriteInbound: %v", err)
		}
	}
}

// TestDeleteWebhookLocksDeliveriesFirst deletes a webhook one of whose deliveries is locked (a
// sender recording an attempt, which goes on to update the webhook): the deletion waits for the
// delivery without holding the webhook.
func TestDeleteWebhookLocksDeliveriesFirst(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s := named(t, url, "delete-webhook")
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateWebhook(ctx, domain.Webhook{ID: "wh", URL: "https://example.test/hook", State: domain.WebhookActive,
			CreateTime: now, UpdateTime: now, Revision: 1}); err != nil {
			return err
		}
		_, err := tx.AppendEvents(ctx, []domain.Event{{ID: "ev", Type: domain.EventConversationUpdated, Time: now, ConversationID: "conv"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var deliveries []domain.Delivery
	err = s.Read(ctx, func(tx store.Tx) error {
		var err error
		deliveries, _, err = tx.ListDeliveries(ctx, store.DeliveryQuery{WebhookID: "wh"}, store.Page{})
		return err
	})
	if err != nil || len(deliveries) != 1 {
		t.Fatalf("the webhook's deliveries: %v, %v", deliveries, err)
	}

	conn, tx := pgtest.HoldRow(t, url, "deliveries", deliveries[0].ID)
	deleted := make(chan error, 1)
	go func() { deleted <- s.Write(ctx, func(tx store.Tx) error { return tx.DeleteWebhook(ctx, "wh") }) }()
	waitBlocked(t, conn, "delete-webhook")
	pgtest.MustNotHold(t, tx, "webhooks", "wh", "deliveries come before their webhook")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Errorf("DeleteWebhook: %v", err)
	}
}
