package storetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
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
	if seq := mustRead(h, func(tx store.Tx) (uint64, error) { return tx.LastSequence(h.ctx) }); seq != 0 {
		h.t.Errorf("LastSequence after rollback = %d, want 0", seq)
	}
	diff(h.t, "events after rollback", []domain.Event(nil), listEvents(h, 0, store.EventFilter{}, 10))
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
	if seq := mustRead(h, func(tx store.Tx) (uint64, error) { return tx.LastSequence(h.ctx) }); seq != 0 {
		h.t.Errorf("LastSequence after appending in Read = %d, want 0", seq)
	}
}

// testReadSnapshot checks a Read sees one snapshot while a Write commits meanwhile, and that
// the Write is not held up by the open Read.
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
			done <- h.s.Write(ctx, func(tx store.Tx) error {
				changed := ch
				changed.DisplayName = "renamed"
				if err := tx.UpdateChannel(ctx, changed); err != nil {
					return err
				}
				_, err := tx.AppendEvents(ctx, []domain.Event{eventValue(domain.EventConversationUpdated)})
				return err
			})
		}()
		if err := <-done; err != nil {
			h.t.Fatalf("Write while a Read is open: %v", err)
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

// testConcurrentEvents appends events from many writers while a reader follows the log with
// ListEvents(after = the last sequence it saw). Sequences must be strictly increasing within
// each append and gap-free overall, and the reader must see every event: none committed
// behind its back with a sequence below one it already saw.
func testConcurrentEvents(h *harness) {
	const writers, rounds, batch = 6, 20, 3
	const total = writers * rounds * batch

	var wg sync.WaitGroup
	appended := make([][]domain.Event, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				err := h.s.Write(h.ctx, func(tx store.Tx) error {
					events := make([]domain.Event, batch)
					for i := range events {
						events[i] = eventValue(domain.EventMessageReceived, func(e *domain.Event) {
							e.ConversationID = "c" + strconv.Itoa(w)
							e.Epoch = uint64(r*batch + i)
						})
					}
					out, err := tx.AppendEvents(h.ctx, events)
					appended[w] = append(appended[w], out...)
					return err
				})
				if err != nil {
					h.t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	seen := followEvents(h, writersDone)

	var all []domain.Event
	for w, events := range appended {
		checkIncreasing(h, 0, events) // each writer's events, in commit order
		for i, e := range events {
			if want := uint64(i); e.Epoch != want || e.ConversationID != "c"+strconv.Itoa(w) {
				h.t.Fatalf("writer %d's event %d came back as %+v", w, i, e)
			}
		}
		all = append(all, events...)
	}
	slices.SortFunc(all, func(a, b domain.Event) int { return cmp.Compare(a.Sequence, b.Sequence) })
	if len(all) != total {
		h.t.Fatalf("%d events appended, want %d", len(all), total)
	}
	for i := range all[1:] {
		if all[i+1].Sequence != all[i].Sequence+1 {
			h.t.Errorf("sequences jump from %d to %d", all[i].Sequence, all[i+1].Sequence)
		}
	}
	diff(h.t, "events the follower saw", all, seen)
	diff(h.t, "events listed", all, listEvents(h, 0, store.EventFilter{}, total+1))
}

// followEvents reads the event log the way a subscriber does, until the writers are done and
// the log is drained, and returns every event it saw. It gives up at the first event out of
// order.
func followEvents(h *harness, writersDone <-chan struct{}) []domain.Event {
	var seen []domain.Event
	var after uint64
	// poll reads the next events and reports whether there were any, in order.
	poll := func() bool {
		page := listEvents(h, after, store.EventFilter{}, 7)
		if !checkIncreasing(h, after, page) {
			return false
		}
		if len(page) > 0 {
			after = page[len(page)-1].Sequence
		}
		seen = append(seen, page...)
		return len(page) > 0
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
	}
	for name, list := range lists {
		for _, c := range []string{"!!!", "Zm9v", "%%%", "{}"} {
			err := h.s.Read(h.ctx, func(tx store.Tx) error { return list(tx, store.Page{Size: 5, Cursor: c}) })
			wantErr(h.t, name+" with cursor "+c, err, store.ErrBadCursor)
		}
	}
}
