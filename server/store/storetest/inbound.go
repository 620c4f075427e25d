package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// LoadInbound: everything storing an inbound customer message needs, read at once.

// loadInbound runs LoadInbound in a transaction run begins (h.s.Read or h.s.Write).
func loadInbound(h *harness, run func(context.Context, func(store.Tx) error) error, channelID, channelMessageID, externalID string) (store.Inbound, error) {
	var in store.Inbound
	err := run(h.ctx, func(tx store.Tx) error {
		var err error
		in, err = tx.LoadInbound(h.ctx, store.InboundQuery{ChannelID: channelID, ChannelMessageID: channelMessageID, ContactExternalID: externalID})
		return err
	})
	return in, err
}

// inbound runs LoadInbound in a Read and in a Write, checks both read the same, and returns it.
func (h *harness) inbound(channelID, channelMessageID, externalID string) store.Inbound {
	h.t.Helper()
	read, rerr := loadInbound(h, h.s.Read, channelID, channelMessageID, externalID)
	written, werr := loadInbound(h, h.s.Write, channelID, channelMessageID, externalID)
	if err := errors.Join(rerr, werr); err != nil {
		h.t.Fatalf("LoadInbound: %v", err)
	}
	diffInbound(h.t, "LoadInbound in a Write (-) and in a Read (+)", written, read)
	return read
}

// diffInbound compares what LoadInbound read, but for Bot.ChannelIDs, which it need not fill.
func diffInbound(t *testing.T, what string, want, got store.Inbound) {
	t.Helper()
	opts := append(slices.Clip(cmpOptions), cmpopts.IgnoreFields(domain.Bot{}, "ChannelIDs"))
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// activeConversation stores a conversation of a new contact on ch, and a handover that is the
// conversation's active one.
func (h *harness) activeConversation(ch domain.Channel, mods ...func(*domain.Conversation)) (domain.Conversation, domain.Handover) {
	h.t.Helper()
	conv := h.conversationValue(ch, mods...)
	ho := h.handoverValue(conv)
	conv.ActiveHandoverID = ho.ID
	h.write(func(tx store.Tx) error {
		if err := tx.CreateConversation(h.ctx, conv); err != nil {
			return err
		}
		return tx.CreateHandover(h.ctx, ho)
	})
	return conv, ho
}

// externalID returns the external id of a conversation's contact.
func (h *harness) externalID(conv domain.Conversation) string {
	h.t.Helper()
	return contactResource.mustFetch(h, conv.ContactID).ExternalID
}

func testInboundUnknownChannel(h *harness) {
	conv := h.conversation(h.channel()) // rows that must not be found instead
	msg := h.message(conv)
	ext := h.externalID(conv)
	_, err := loadInbound(h, h.s.Read, "missing", msg.ChannelMessageID, ext)
	wantNotFound(h.t, "LoadInbound in a Read", err, "missing")
	_, err = loadInbound(h, h.s.Write, "missing", msg.ChannelMessageID, ext)
	wantNotFound(h.t, "LoadInbound in a Write", err, "missing")
}

// testInboundAbsent checks that only the channel is read when nothing else matches.
func testInboundAbsent(h *harness) {
	bare := h.channel()
	diffInbound(h.t, "channel without bot", store.Inbound{Channel: bare}, h.inbound(bare.ID, "mid.missing", "user-missing"))

	ch := h.channel(withBot("missing"))
	conv := h.conversation(ch)
	h.message(conv, func(m *domain.Message) { m.ChannelMessageID = "" }) // the empty id is not a key
	diffInbound(h.t, "no such bot, message or contact", store.Inbound{Channel: ch}, h.inbound(ch.ID, "", "user-missing"))
}

// testInboundFull checks every row is read, as the getters read it.
func testInboundFull(h *harness) {
	bot := h.bot()
	ch := h.channel(withBot(bot.ID))
	conv, ho := h.activeConversation(ch)
	msg := h.message(conv)
	h.message(conv)
	h.activeConversation(ch) // another contact's
	ext := h.externalID(conv)

	want := store.Inbound{
		Channel: channelResource.mustFetch(h, ch.ID),
		Bot:     new(botResource.mustFetch(h, bot.ID)),
		Message: new(mustRead(h, func(tx store.Tx) (domain.Message, error) {
			return tx.GetMessageByChannelMessageID(h.ctx, ch.ID, msg.ChannelMessageID)
		})),
		Contact: new(mustRead(h, func(tx store.Tx) (domain.Contact, error) {
			return tx.GetContactByExternalID(h.ctx, ch.ID, ext)
		})),
		Conversation: new(mustRead(h, func(tx store.Tx) (domain.Conversation, error) {
			return tx.GetConversationByContact(h.ctx, conv.ContactID)
		})),
		Active: new(handoverResource.mustFetch(h, ho.ID)),
	}
	diffInbound(h.t, "LoadInbound", want, h.inbound(ch.ID, msg.ChannelMessageID, ext))
}

// testInboundOtherChannel checks a message and a contact are looked up on the given channel only.
func testInboundOtherChannel(h *harness) {
	ch, other := h.channel(), h.channel()
	theirs, _ := h.activeConversation(other)
	theirMsg := h.message(theirs)
	ext := h.externalID(theirs)
	diffInbound(h.t, "another channel's message and contact", store.Inbound{Channel: ch},
		h.inbound(ch.ID, theirMsg.ChannelMessageID, ext))

	// The channel's own, under the same ids.
	contact := h.contact(ch, func(c *domain.Contact) { c.ExternalID = ext })
	mine := h.conversationValue(ch, func(c *domain.Conversation) { c.ContactID = contact.ID })
	h.write(func(tx store.Tx) error { return tx.CreateConversation(h.ctx, mine) })
	myMsg := h.message(mine, func(m *domain.Message) { m.ChannelMessageID = theirMsg.ChannelMessageID })
	want := store.Inbound{Channel: ch, Message: &myMsg, Contact: &contact, Conversation: &mine}
	diffInbound(h.t, "the channel's own message and contact", want, h.inbound(ch.ID, theirMsg.ChannelMessageID, ext))
}

// testInboundActiveHandover checks the handover read is the one ActiveHandoverID names, if any.
func testInboundActiveHandover(h *harness) {
	ch := h.channel()
	conv := h.conversation(ch, func(c *domain.Conversation) { c.ActiveHandoverID = "" })
	ext := h.externalID(conv)
	older, newer := h.handover(conv), h.handover(conv)
	h.activeConversation(ch) // another conversation's

	for _, c := range []struct {
		active string
		want   *domain.Handover
	}{{"", nil}, {older.ID, &older}, {"missing", nil}, {newer.ID, &newer}} {
		conv.ActiveHandoverID = c.active
		h.write(func(tx store.Tx) error { return tx.UpdateConversation(h.ctx, conv) })
		conv.Revision++
		diff(h.t, fmt.Sprintf("active handover when ActiveHandoverID is %q", c.active), c.want, h.inbound(ch.ID, "", ext).Active)
	}
}

// testInboundLock runs ingest-like Writes on one contact from many goroutines. Each reads with
// LoadInbound, makes a new handover active and updates the conversation at the revision it
// read. The lock LoadInbound takes in a Write serialises them, so none conflicts, and each
// reads the handover the one before made active.
func testInboundLock(h *harness) {
	const workers, rounds = 8, 25
	ch := h.channel()
	conv, _ := h.activeConversation(ch, func(c *domain.Conversation) { c.Epoch = 0 })
	ext := h.externalID(conv)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := fmt.Sprintf("handover-w%d-r%d", w, r)
				err := h.s.Write(h.ctx, func(tx store.Tx) error { return takeOver(h, tx, ch.ID, ext, id) })
				if err != nil {
					h.t.Errorf("write %s: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := conversationResource.mustFetch(h, conv.ID)
	const total = workers * rounds
	if got.Epoch != total || got.Revision != conv.Revision+total {
		h.t.Errorf("after %d writes: epoch %d, revision %d; want %d, %d", total, got.Epoch, got.Revision, total, conv.Revision+total)
	}
}

// takeOver reads the contact's conversation with LoadInbound, checks its active handover was
// read, and replaces it with a new one, handoverID.
func takeOver(h *harness, tx store.Tx, channelID, externalID, handoverID string) error {
	in, err := tx.LoadInbound(h.ctx, store.InboundQuery{ChannelID: channelID, ContactExternalID: externalID})
	if err != nil {
		return err
	}
	conv := in.Conversation
	if conv == nil {
		return errors.New("LoadInbound read no conversation")
	}
	if in.Active == nil || in.Active.ID != conv.ActiveHandoverID {
		return fmt.Errorf("LoadInbound read active handover %+v, want %q", in.Active, conv.ActiveHandoverID)
	}
	if err := tx.CreateHandover(h.ctx, domain.Handover{ID: handoverID, ConversationID: conv.ID, State: domain.HandoverRequested}); err != nil {
		return err
	}
	conv.ActiveHandoverID = handoverID
	conv.Epoch++
	return tx.UpdateConversation(h.ctx, *conv)
}
