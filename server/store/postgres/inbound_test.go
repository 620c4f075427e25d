package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// TestNewMessageClashFailsWrite checks the message LoadInbound found new, whose insert is
// deferred, still cannot be stored twice: when another contact's message takes its channel
// message id meanwhile, the Write fails with store.ErrDuplicate and stores none of its writes.
func TestNewMessageClashFailsWrite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	ch, convs := inboundFixtures(t, s, now)
	message := func(conv domain.Conversation, id string) domain.Message {
		return domain.Message{ID: id, ConversationID: conv.ID, ChannelID: ch.ID, Direction: domain.Inbound,
			ChannelMessageID: "dup", Status: domain.DeliveryDelivered, CreateTime: now}
	}

	err := s.Write(ctx, func(tx store.Tx) error {
		in, err := tx.LoadInbound(ctx, store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "dup", ContactExternalID: "b"})
		if err != nil || in.Message != nil {
			t.Fatalf("LoadInbound = %+v, %v; want no message", in.Message, err)
		}
		// Contact a's message takes the channel message id meanwhile.
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.CreateMessage(ctx, message(convs[0], "msg-a")) }); err != nil {
			t.Fatalf("CreateMessage of a: %v", err)
		}
		if err := tx.CreateMessage(ctx, message(convs[1], "msg-b")); err != nil {
			return err
		}
		conv := *in.Conversation
		conv.Epoch = 7
		return tx.UpdateConversation(ctx, conv)
	})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Write = %v, want store.ErrDuplicate", err)
	}
	err = s.Read(ctx, func(tx store.Tx) error {
		if _, err := tx.GetMessageByChannelMessageID(ctx, ch.ID, "dup"); err != nil {
			return err
		}
		conv, err := tx.GetConversation(ctx, convs[1].ID)
		if err == nil && conv.Epoch != 0 {
			t.Errorf("the failed Write updated the conversation: epoch %d", conv.Epoch)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// inboundFixtures stores a channel and two contacts, a and b, each with a conversation.
func inboundFixtures(t *testing.T, s store.Store, now time.Time) (domain.Channel, []domain.Conversation) {
	t.Helper()
	ctx := t.Context()
	ch := domain.Channel{ID: "ch", Kind: domain.ChannelGeneric, ExternalID: "x", Revision: 1}
	var convs []domain.Conversation
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateChannel(ctx, ch); err != nil {
			return err
		}
		for _, id := range []string{"a", "b"} {
			ct := domain.Contact{ID: "ct-" + id, ChannelID: ch.ID, ExternalID: id, CreateTime: now, UpdateTime: now, Revision: 1}
			conv := domain.Conversation{ID: "conv-" + id, ChannelID: ch.ID, ContactID: ct.ID, CreateTime: now, UpdateTime: now, Revision: 1}
			if err := tx.CreateContact(ctx, ct); err != nil {
				return err
			}
			if err := tx.CreateConversation(ctx, conv); err != nil {
				return err
			}
			convs = append(convs, conv)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	return ch, convs
}

// TestWebhookAfterLoadInbound checks the events of an ingest-like Write (LoadInbound first) get
// the deliveries of a webhook stored before, and of one the Write stores after LoadInbound.
func TestWebhookAfterLoadInbound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	ch, _ := inboundFixtures(t, s, now)
	for i, hookFirst := range []bool{false, true} {
		hook := domain.Webhook{ID: "hook-" + strconv.Itoa(i), URL: "https://example.com", State: domain.WebhookActive,
			CreateTime: now, UpdateTime: now, Revision: 1}
		ev := domain.Event{ID: "ev-" + strconv.Itoa(i), Type: domain.EventMessageReceived, ConversationID: "conv-b",
			ChannelID: ch.ID, Time: now}
		createHook := func(tx store.Tx) error { return tx.CreateWebhook(ctx, hook) }
		if hookFirst {
			if err := s.Write(ctx, createHook); err != nil {
				t.Fatalf("CreateWebhook: %v", err)
			}
		}
		err := s.Write(ctx, func(tx store.Tx) error {
			if _, err := tx.LoadInbound(ctx, store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "m", ContactExternalID: "b"}); err != nil {
				return err
			}
			if !hookFirst {
				if err := createHook(tx); err != nil {
					return err
				}
			}
			_, err := tx.AppendEvents(ctx, []domain.Event{ev})
			return err
		})
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		err = s.Read(ctx, func(tx store.Tx) error {
			_, err := tx.GetDelivery(ctx, domain.DeliveryID(hook.ID, ev.ID))
			return err
		})
		if err != nil {
			t.Errorf("delivery of the event to the webhook stored first %v: %v", hookFirst, err)
		}
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.DeleteWebhook(ctx, hook.ID) }); err != nil {
			t.Fatalf("DeleteWebhook: %v", err)
		}
	}
}

// TestLostDeferredWriteFailsCommit checks a Write cannot commit without a deferred write whose
// batch failed before it was sent, even when fn ignores that failure.
func TestLostDeferredWriteFailsCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	_, convs := inboundFixtures(t, s, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	err := s.Write(ctx, func(tx store.Tx) error {
		c, err := tx.GetConversation(ctx, convs[0].ID)
		if err != nil {
			return err
		}
		c.Tags = []string{"lost"}
		if err := tx.UpdateConversation(ctx, c); err != nil { // deferred
			return err
		}
		if _, err := tx.GetContact(canceled, c.ContactID); err == nil { // carries it, fails unsent
			t.Error("GetContact with a canceled context succeeded")
		}
		return nil
	})
	if err == nil {
		t.Error("the Write committed without its deferred update")
	}
	var got domain.Conversation
	if err := s.Read(ctx, func(tx store.Tx) error { var err error; got, err = tx.GetConversation(ctx, convs[0].ID); return err }); err != nil {
		t.Fatal(err)
	}
	if got.Revision != convs[0].Revision {
		t.Errorf("revision %d after the failed Write, want %d", got.Revision, convs[0].Revision)
	}
}
