package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Transactions: rollback, read-only snapshots, and serialised writers.

// testRollback checks a Write whose fn fails leaves nothing behind: no row, no event, no change.
func testRollback(h *harness) {
	kept := h.channel()
	ch := h.channelValue()
	ct := h.contactValue(ch)
	conv := h.conversationValue(kept) // its contact is stored, outside the failing Write
	conv.ChannelID, conv.ContactID = ch.ID, ct.ID
	msg := h.messageValue(conv)
	ho := h.handoverValue(conv)
	bot, agent, queue, key := h.botValue(), h.agentValue(), h.queueValue(), h.apiKeyValue()
	renamed := channelResource.change(h, kept) // stores parents: not inside the Write below
	fire := h.webhook(firehose)
	hook := h.webhookValue()

	boom := errors.New("boom")
	err := h.tryWrite(func(tx store.Tx) error {
		steps := []error{
			tx.CreateChannel(h.ctx, ch),
			tx.CreateContact(h.ctx, ct),
			tx.CreateConversation(h.ctx, conv),
			tx.CreateMessage(h.ctx, msg),
			tx.CreateHandover(h.ctx, ho),
			tx.CreateBot(h.ctx, bot),
			tx.CreateAgent(h.ctx, agent),
			tx.CreateQueue(h.ctx, queue),
			tx.CreateAPIKey(h.ctx, key),
			tx.CreateWebhook(h.ctx, hook),
			tx.RememberRequest(h.ctx, "scope", "key", "id", t0),
			tx.UpdateChannel(h.ctx, renamed),
		}
		if _, err := tx.AppendEvents(h.ctx, []domain.Event{eventValue(domain.EventConversationCreated)}); err != nil {
			steps = append(steps, err)
		}
		if err := errors.Join(steps...); err != nil {
			h.t.Errorf("writes before the failure: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		h.t.Fatalf("Write returned %v, want fn's error", err)
	}

	gone := map[string]func(tx store.Tx) error{
		"channel":      func(tx store.Tx) error { _, err := tx.GetChannel(h.ctx, ch.ID); return err },
		"contact":      func(tx store.Tx) error { _, err := tx.GetContact(h.ctx, ct.ID); return err },
		"conversation": func(tx store.Tx) error { _, err := tx.GetConversation(h.ctx, conv.ID); return err },
		"handover":     func(tx store.Tx) error { _, err := tx.GetHandover(h.ctx, ho.ID); return err },
		"bot":          func(tx store.Tx) error { _, err := tx.GetBot(h.ctx, bot.ID); return err },
		"agent":        func(tx store.Tx) error { _, err := tx.GetAgent(h.ctx, agent.ID); return err },
		"queue":        func(tx store.Tx) error { _, err := tx.GetQueue(h.ctx, queue.ID); return err },
		"api key":      func(tx store.Tx) error { _, err := tx.GetAPIKey(h.ctx, key.ID); return err },
		"webhook":      func(tx store.Tx) error { _, err := tx.GetWebhook(h.ctx, hook.ID); return err },
		"message": func(tx store.Tx) error {
			_, err := tx.GetMessageByChannelMessageID(h.ctx, msg.ChannelID, msg.ChannelMessageID)
			return err
		},
	}
	for what, get := range gone {
		var nf *domain.NotFoundError
		if err := h.s.Read(h.ctx, get); !errors.As(err, &nf) {
			h.t.Errorf("%s after rollback: got %v, want not found", what, err)
		}
	}
	diff(h.t, "channel updated then rolled back", kept, channelResource.mustFetch(h, kept.ID))
	if id := mustRead(h, func(tx store.Tx) (string, error) { return tx.LookupRequest(h.ctx, "scope", "key") }); id != "" {
		h.t.Errorf("request remembered in a rolled back Write: %q", id)
	}
	if seq := h.head(); seq != 0 {
		h.t.Errorf("Store.LastSequence after rollback = %d, want 0", seq)
	}
	if seq := lastSequence(h); seq != 0 {
		h.t.Errorf("LastSequence after rollback = %d, want 0", seq)
	}
	diff(h.t, "events after rollback", []domain.Event(nil), listEvents(h, 0, store.EventFilter{}, 10))
	diff(h.t, "deliveries after rollback", []domain.Delivery(nil), walk(h, 0, listDeliveries(h, store.DeliveryQuery{WebhookID: fire.ID})))
}

// testDuplicateKeepsTx checks that after ErrDuplicate the transaction goes on: the caller
// reads the existing row and commits its other writes.
func testDuplicateKeepsTx(h *harness) {
	ch := h.channel()
	conv := h.conversation(ch)
	msg := h.message(conv)
	h.write(func(tx store.Tx) error { return tx.RememberRequest(h.ctx, "send", "k", msg.ID, t0) })

	again := h.messageValue(conv, func(m *domain.Message) { m.ChannelMessageID = msg.ChannelMessageID })
	second := h.conversationValue(ch, func(c *domain.Conversation) { c.ContactID = conv.ContactID })
	later := h.messageValue(conv)
	h.write(func(tx store.Tx) error {
		wantErr(h.t, "redelivered message", tx.CreateMessage(h.ctx, again), store.ErrDuplicate)
		got, err := tx.GetMessageByChannelMessageID(h.ctx, ch.ID, msg.ChannelMessageID)
		if err != nil {
			return err
		}
		diff(h.t, "existing message", msg, got)

		wantErr(h.t, "second conversation", tx.CreateConversation(h.ctx, second), store.ErrDuplicate)
		if _, err := tx.GetConversationByContact(h.ctx, conv.ContactID); err != nil {
			return err
		}

		wantErr(h.t, "request again", tx.RememberRequest(h.ctx, "send", "k", "other", t0), store.ErrDuplicate)
		if id, err := tx.LookupRequest(h.ctx, "send", "k"); err != nil || id != msg.ID {
			h.t.Errorf("LookupRequest after ErrDuplicate = %q, %v; want %q", id, err, msg.ID)
		}

		if err := tx.CreateMessage(h.ctx, later); err != nil {
			return err
		}
		_, err = tx.AppendEvents(h.ctx, []domain.Event{eventValue(domain.EventMessageSent)})
		return err
	})
	diff(h.t, "messages", []domain.Message{msg, later}, walk(h, 0, listMessages(h, conv.ID)))
	if n := len(listEvents(h, 0, store.EventFilter{}, 10)); n != 1 {
		h.t.Errorf("%d events committed, want 1", n)
	}
}

// testReadOnly checks Read refuses writes.
func testReadOnly(h *harness) {
	ch := h.channelValue()
	_ = h.s.Read(h.ctx, func(tx store.Tx) error {
		if err := tx.CreateChannel(h.ctx, ch); err == nil {
			h.t.Errorf("CreateChannel in Read succeeded")
		}
		return nil
	})
	_ = h.s.Read(h.ctx, func(tx store.Tx) error {
		if _, err := tx.AppendEvents(h.ctx, []domain.Event{eventValue(domain.EventBotMuted)}); err == nil {
			h.t.Errorf("AppendEvents in Read succeeded")
		}
		return nil
	})
	_, err := channelResource.fetch(h, ch.ID)
	wantNotFound(h.t, "channel created in Read", err, ch.ID)
	if seq := lastSequence(h); seq != 0 {
		h.t.Errorf("LastSequence after appending in Read = %d, want 0", seq)
	}
}

// testReadSnapshot checks a Read sees one snapshot while a Write commits and its event is
// committed meanwhile, and that neither the Write nor Store.LastSequence is held up by the
// open Read.
func testReadSnapshot(h *harness) {
	ch := h.channel()
	h.read(func(tx store.Tx) error {
		before, err := tx.GetChannel(h.ctx, ch.ID)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
		defer cancel()
		done := make(chan error)
		go func() {
			err := h.s.Write(ctx, func(tx store.Tx) error {
				changed := ch
				changed.DisplayName = "renamed"
				if err := tx.UpdateChannel(ctx, changed); err != nil {
					return err
				}
				_, err := tx.AppendEvents(ctx, []domain.Event{eventValue(domain.EventConversationUpdated)})
				return err
			})
			if err == nil {
				_, err = h.s.LastSequence(ctx)
			}
			done <- err
		}()
		if err := <-done; err != nil {
			h.t.Fatalf("Write and Store.LastSequence while a Read is open: %v", err)
		}
		after, err := tx.GetChannel(h.ctx, ch.ID)
		if err != nil {
			return err
		}
		diff(h.t, "channel within one Read", before, after)
		seq, err := tx.LastSequence(h.ctx)
		if seq != 0 {
			h.t.Errorf("LastSequence within the Read = %d, want 0 as when it began", seq)
		}
		return err
	})
	if got := channelResource.mustFetch(h, ch.ID); got.DisplayName != "renamed" {
		h.t.Errorf("channel after the Write is named %q", got.DisplayName)
	}
	if seq := lastSequence(h); seq == 0 {
		h.t.Errorf("LastSequence after the Read = 0, want the committed event's")
	}
}

// testConcurrentUpdates runs read-modify-write transactions on one conversation from many
// goroutines: Write serialises them, so none conflicts and no increment is lost.
func testConcurrentUpdates(h *harness) {
	const workers, rounds = 8, 50
	conv := h.conversation(h.channel(), func(c *domain.Conversation) { c.Epoch = 0; c.Tags = []string{"0"} })
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				err := h.s.Write(h.ctx, func(tx store.Tx) error {
					c, err := tx.GetConversation(h.ctx, conv.ID)
					if err != nil {
						return err
					}
					c.Epoch++
					c.Tags = []string{strconv.FormatUint(c.Epoch, 10)}
					return tx.UpdateConversation(h.ctx, c)
				})
				if err != nil {
					h.t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := conversationResource.mustFetch(h, conv.ID)
	const total = workers * rounds
	if got.Epoch != total || got.Revision != conv.Revision+total || !slices.Equal(got.Tags, []string{strconv.Itoa(total)}) {
		h.t.Errorf("after %d increments: epoch %d, revision %d, tags %v; want %d, %d, [%d]",
			total, got.Epoch, got.Revision, got.Tags, total, conv.Revision+total, total)
	}
}

// testConcurrentEvents runs writers that update conversations and append their events
// concurrently, while a follower reads the log the way a subscriber does:
// ListEvents after the last sequence it saw. Writers share conversations, and one write in
// ten holds its transaction open after appending, until the follower has polled twice: on a
// backend with concurrent writers, later writes then commit first and the follower reads them
// meanwhile, which is when a reader following insertion order would skip the held events.
// Writers read Store.LastSequence now and then too, as replicas' wake-ups do. The follower must see
// every event exactly once, in gap-free increasing sequence, and each conversation's events in
// the order its writes committed.
func testConcurrentEvents(h *harness) {
	const writers, rounds, batch, conversations = 8, 50, 2, 4
	const total = writers * rounds * batch
	ch := h.channel()
	convs := make([]domain.Conversation, conversations)
	for i := range convs {
		convs[i] = h.conversation(ch, func(c *domain.Conversation) { c.Epoch = 0 })
	}

	f := &follower{h: h}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				conv := convs[(w+r)%conversations]
				held := (w+r)%10 == 0
				err := h.s.Write(h.ctx, func(tx store.Tx) error {
					if err := appendInTurn(h, tx, conv.ID, batch); err != nil || !held {
						return err
					}
					return f.waitRounds(tx, 2)
				})
				if err == nil && r%10 == 0 {
					_, err = h.s.LastSequence(h.ctx)
				}
				if err != nil {
					h.t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	seen := f.follow(writersDone)
	<-writersDone // the follower gives up early when the test fails
	if h.t.Failed() {
		return
	}

	if len(seen) != total {
		h.t.Errorf("the follower saw %d events, want %d", len(seen), total)
	}
	checkGapFree(h, seen)
	checkTurns(h, seen)
	diff(h.t, "events listed afterwards", seen, listEvents(h, 0, store.EventFilter{}, total+1))
	var writes uint64
	for _, c := range convs {
		writes += conversationResource.mustFetch(h, c.ID).Epoch
	}
	if writes != writers*rounds {
		h.t.Errorf("conversations' epochs add up to %d, want %d writes", writes, writers*rounds)
	}
}

// appendInTurn is one write of testConcurrentEvents: it reads the conversation, which
// serialises it with the conversation's other writes, increments its epoch and appends batch
// events numbered in the conversation's turn: the n-th event appended to the conversation has
// Epoch n.
func appendInTurn(h *harness, tx store.Tx, convID string, batch int) error {
	c, err := tx.GetConversation(h.ctx, convID)
	if err != nil {
		return err
	}
	events := make([]domain.Event, batch)
	for i := range events {
		events[i] = eventValue(domain.EventMessageReceived, func(e *domain.Event) {
			e.ConversationID, e.Epoch = c.ID, c.Epoch*uint64(batch)+uint64(i)
		})
	}
	c.Epoch++
	if err := tx.UpdateConversation(h.ctx, c); err != nil {
		return err
	}
	_, err = tx.AppendEvents(h.ctx, events)
	return err
}

// checkTurns checks each conversation's events come in their turn: Epoch 0, 1, 2...
func checkTurns(h *harness, events []domain.Event) {
	h.t.Helper()
	next := map[string]uint64{}
	for _, e := range events {
		if e.Epoch != next[e.ConversationID] {
			h.t.Errorf("event %d of conversation %s came at sequence %d, want event %d",
				e.Epoch, e.ConversationID, e.Sequence, next[e.ConversationID])
			return
		}
		next[e.ConversationID]++
	}
}

// follower reads the event log the way a subscriber does.
type follower struct {
	h      *harness
	rounds atomic.Int64 // polls done
}

// follow reads the log until the writers are done and the log is drained, and
// returns every event it saw. It gives up at the first event out of order.
func (f *follower) follow(writersDone <-chan struct{}) []domain.Event {
	h := f.h
	var seen []domain.Event
	var after uint64
	// poll reads Store.LastSequence, as a woken subscriber does, then up to the last event, a
	// few at a time, and reports whether there were any, in order.
	poll := func() bool {
		defer f.rounds.Add(1)
		h.head()
		const limit = 7
		read := 0
		for {
			page := listEvents(h, after, store.EventFilter{}, limit)
			if !checkIncreasing(h, after, page) {
				return false
			}
			if len(page) > 0 {
				after = page[len(page)-1].Sequence
			}
			seen = append(seen, page...)
			read += len(page)
			if len(page) < limit {
				return read > 0
			}
		}
	}
	for !h.t.Failed() {
		select {
		case <-writersDone:
			for poll() {
			}
			return seen
		default:
			poll()
		}
	}
	return seen
}

// waitRounds keeps tx busy reading until the follower has polled n more times, or for 200
// reads at most: the follower may need a connection held by writers that wait for tx.
func (f *follower) waitRounds(tx store.Tx, n int64) error {
	until := f.rounds.Load() + n
	for i := 0; i < 200 && f.rounds.Load() < until; i++ {
		if _, err := tx.LastSequence(f.h.ctx); err != nil {
			return err
		}
	}
	return nil
}

// testBadCursor checks every list refuses a cursor it did not make.
func testBadCursor(h *harness) {
	conv := h.conversation(h.channel())
	lists := map[string]func(tx store.Tx, p store.Page) error{
		"channels": func(tx store.Tx, p store.Page) error { _, _, err := tx.ListChannels(h.ctx, "", p); return err },
		"bots":     func(tx store.Tx, p store.Page) error { _, _, err := tx.ListBots(h.ctx, p); return err },
		"agents": func(tx store.Tx, p store.Page) error {
			_, _, err := tx.ListAgents(h.ctx, store.AgentQuery{}, p)
			return err
		},
		"queues": func(tx store.Tx, p store.Page) error { _, _, err := tx.ListQueues(h.ctx, p); return err },
		"contacts": func(tx store.Tx, p store.Page) error {
			_, _, err := tx.ListContacts(h.ctx, store.ContactQuery{}, p)
			return err
		},
		"conversations": func(tx store.Tx, p store.Page) error {
			_, _, err := tx.ListConversations(h.ctx, store.ConversationQuery{}, p)
			return err
		},
		"messages": func(tx store.Tx, p store.Page) error { _, _, err := tx.ListMessages(h.ctx, conv.ID, p); return err },
		"handovers": func(tx store.Tx, p store.Page) error {
			_, _, err := tx.ListHandovers(h.ctx, store.HandoverQuery{}, p)
			return err
		},
		"api keys": func(tx store.Tx, p store.Page) error { _, _, err := tx.ListAPIKeys(h.ctx, p); return err },
		"webhooks": func(tx store.Tx, p store.Page) error { _, _, err := tx.ListWebhooks(h.ctx, "", p); return err },
		"deliveries": func(tx store.Tx, p store.Page) error {
			_, _, err := tx.ListDeliveries(h.ctx, store.DeliveryQuery{WebhookID: "hook-1"}, p)
			return err
		},
	}
	for name, list := range lists {
		for _, c := range []string{"!!!", "Zm9v", "%%%", "{}"} {
			err := h.s.Read(h.ctx, func(tx store.Tx) error { return list(tx, store.Page{Size: 5, Cursor: c}) })
			wantErr(h.t, name+" with cursor "+c, err, store.ErrBadCursor)
		}
	}
}

// testGroupedWrites runs grouped writes (WriteInbound) on a few conversations from many goroutines, mixed with
// plain Writes on the same conversations and with grouped writes that fail after writing. A
// store that commits grouped writes together must keep each whole: every write that succeeded
// is there, in its conversation's turn, and nothing of a failed one is, not even when it shared
// a transaction with others.
func testGroupedWrites(h *harness) {
	const writers, rounds, conversations = 16, 40, 6
	ch := h.channel()
	convs := make([]domain.Conversation, conversations)
	for i := range convs {
		convs[i] = h.conversation(ch, func(c *domain.Conversation) { c.Epoch = 0 })
	}
	boom := errors.New("boom")
	var done [conversations]atomic.Uint64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				i := (w + r) % conversations
				fail, plain := (w*rounds+r)%9 == 0, r%5 == 4
				write := func(tx store.Tx) error {
					if err := appendInTurn(h, tx, convs[i].ID, 1); err != nil || !fail {
						return err
					}
					return boom
				}
				var err error
				if plain {
					err = h.s.Write(h.ctx, write)
				} else {
					err = h.s.WriteInbound(h.ctx, store.InboundQuery{ChannelID: ch.ID, ContactExternalID: convs[i].ID}, write)
				}
				switch {
				case fail && !errors.Is(err, boom):
					h.t.Errorf("writer %d: a failing write returned %v, want its error", w, err)
				case !fail && err != nil:
					h.t.Errorf("writer %d: %v", w, err)
				case !fail:
					done[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	var total uint64
	for i, c := range convs {
		if got, want := conversationResource.mustFetch(h, c.ID).Epoch, done[i].Load(); got != want {
			h.t.Errorf("conversation %d: epoch %d after %d successful writes", i, got, want)
		}
		total += done[i].Load()
	}
	events := listEvents(h, 0, store.EventFilter{}, int(total)+1)
	if uint64(len(events)) != total {
		h.t.Errorf("%d events after %d successful writes", len(events), total)
	}
	checkTurns(h, events)
}

// testManyWrites makes several writes of one kind in one Write, interleaved with others, some of
// them deferred by the store: each must have its effect, in order, and the first that fails must
// fail the Write, with its own error.
func testManyWrites(h *harness) {
	ch := h.channel()
	a, b := h.conversation(ch), h.conversation(ch)
	update := func(tx store.Tx, c *domain.Conversation, tag string) error {
		c.Tags = append(slices.Clip(c.Tags), tag)
		err := tx.UpdateConversation(h.ctx, *c)
		c.Revision++
		return err
	}
	event := func(tx store.Tx, c domain.Conversation) error {
		_, err := tx.AppendEvents(h.ctx, []domain.Event{eventValue(domain.EventConversationUpdated, func(e *domain.Event) {
			e.ConversationID = c.ID
		})})
		return err
	}
	h.write(func(tx store.Tx) error {
		return errors.Join(update(tx, &a, "a1"), event(tx, a), update(tx, &b, "b1"),
			update(tx, &a, "a2"), event(tx, b), update(tx, &a, "a3"), event(tx, a))
	})
	diff(h.t, "conversation a", a, conversationResource.mustFetch(h, a.ID))
	diff(h.t, "conversation b", b, conversationResource.mustFetch(h, b.ID))
	var got []string
	for _, e := range listEvents(h, 0, store.EventFilter{}, 10) {
		got = append(got, e.ConversationID)
	}
	diff(h.t, "events' conversations, in order", []string{a.ID, b.ID, a.ID}, got)

	keptA, keptB := a, b
	stale := b
	stale.Revision--
	err := h.tryWrite(func(tx store.Tx) error {
		return errors.Join(update(tx, &a, "a4"), event(tx, a), update(tx, &stale, "b2"), update(tx, &a, "a5"))
	})
	wantErr(h.t, "a stale update among others", err, store.ErrConflict)
	missing := h.conversationValue(ch)
	missing.ID = "missing"
	err = h.tryWrite(func(tx store.Tx) error {
		return errors.Join(update(tx, &b, "b3"), update(tx, &missing, "m"), event(tx, b))
	})
	wantNotFound(h.t, "an update of a missing conversation among others", err, "missing")

	diff(h.t, "conversation a after the failed Writes", keptA, conversationResource.mustFetch(h, a.ID))
	diff(h.t, "conversation b after the failed Writes", keptB, conversationResource.mustFetch(h, b.ID))
	if n := len(listEvents(h, 0, store.EventFilter{}, 10)); n != 3 {
		h.t.Errorf("%d events after the failed Writes, want 3", n)
	}
}
