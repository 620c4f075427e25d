package app

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// eraseBatch bounds the rows one transaction of an erasure changes, so that erasing a long
// history never holds a conversation's lock, or the SQLite writer, for long.
const eraseBatch = 200

// erasureResumeAfter is how old an unfinished erasure must be before the timers finish it: a
// younger one is most likely still running in the call that started it.
const erasureResumeAfter = 5 * time.Minute

// EraseContact erases a contact's data (see domain.Erasure), admin only. The first transaction
// closes the contact's conversation, records the erasure and replaces the profile by its
// tombstone; batches of messages, handovers and events follow; the last transaction announces
// contact.erased. Calling it again for the same contact resumes an erasure cut short, or
// returns the finished one: it is idempotent.
func (a *App) EraseContact(ctx context.Context, p domain.Principal, contactID string) (domain.Erasure, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Erasure{}, err
	}
	er, err := a.startErasure(ctx, p.Actor(), contactID)
	if err != nil || er.Complete() {
		return er, err
	}
	return a.finishErasure(ctx, er)
}

// startErasure records the erasure, or returns the one recorded before.
func (a *App) startErasure(ctx context.Context, actor domain.Actor, contactID string) (domain.Erasure, error) {
	var er domain.Erasure
	err := a.write(ctx, func(tx store.Tx) error {
		// Locks in the store's order: the conversation, then the contact.
		conv, err := tx.GetConversationByContact(ctx, contactID)
		if err != nil && !isNotFound(err) {
			return err
		}
		hasConversation := err == nil
		c, err := forUpdate(ctx, tx, store.KindContact, contactID, tx.GetContact)
		if err != nil {
			return err
		}
		if er, err = tx.GetErasure(ctx, contactID); !isNotFound(err) {
			return err // found (resume it) or failed
		}
		now := a.Now()
		er = domain.Erasure{ContactID: c.ID, ChannelID: c.ChannelID, Actor: actor, CreateTime: now}
		if hasConversation {
			er.ConversationID = conv.ID
			if err := a.closeForErasure(ctx, tx, actor, conv.ID); err != nil {
				return err
			}
		}
		if err := tx.CreateErasure(ctx, er); err != nil {
			return err
		}
		return tx.UpdateContact(ctx, domain.EraseProfile(c, now))
	})
	return er, err
}

// closeForErasure closes the contact's conversation, ending any handover: nobody is left
// answering a customer whose data is gone.
func (a *App) closeForErasure(ctx context.Context, tx store.Tx, actor domain.Actor, conversationID string) error {
	s, err := a.situation(ctx, tx, conversationID)
	if err != nil || s.Conversation.State == domain.ConversationClosed {
		return err
	}
	change, err := domain.Close(s, actor, nil, "contact erased")
	if err != nil {
		return err
	}
	a.recordOwnerChanges(ctx, "close", change)
	_, err = apply(ctx, tx, change)
	return err
}

// finishErasure erases what the erasure covers, batch by batch, then completes it. Every step
// finds its rows afresh, so a run cut short is simply run again.
func (a *App) finishErasure(ctx context.Context, er domain.Erasure) (domain.Erasure, error) {
	if conv := er.ConversationID; conv != "" {
		if err := a.eraseMessages(ctx, conv); err != nil {
			return er, err
		}
		if err := a.eraseHandovers(ctx, conv); err != nil {
			return er, err
		}
		err := a.eraseEvents(ctx, conv, func(tx store.Tx, after uint64) ([]domain.Event, error) {
			return tx.ListEvents(ctx, after, store.EventFilter{ConversationID: conv}, a.eraseBatch)
		})
		if err != nil {
			return er, err
		}
	}
	err := a.eraseEvents(ctx, "", func(tx store.Tx, after uint64) ([]domain.Event, error) {
		return tx.ListContactEvents(ctx, er.ChannelID, er.ContactID, after, a.eraseBatch)
	})
	if err != nil {
		return er, err
	}
	return a.completeErasure(ctx, er)
}

// eachBatch runs batch in Writes until it says it is done; each run gets the cursor the one
// before returned.
func eachBatch[C any](ctx context.Context, a *App, batch func(tx store.Tx, cursor C) (next C, done bool, err error)) error {
	var cursor C
	for {
		var next C
		var done bool
		err := a.write(ctx, func(tx store.Tx) error {
			var err error
			next, done, err = batch(tx, cursor)
			return err
		})
		if err != nil || done {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cursor = next
	}
}

// lockConversation locks the conversation for the batch, so that a send's result recorded at
// the same time never writes over a tombstone.
func lockConversation(ctx context.Context, tx store.Tx, id string) error {
	_, err := tx.GetConversation(ctx, id)
	return err
}

func (a *App) eraseMessages(ctx context.Context, conversationID string) error {
	return eachBatch(ctx, a, func(tx store.Tx, cursor string) (string, bool, error) {
		if err := lockConversation(ctx, tx, conversationID); err != nil {
			return "", false, err
		}
		page, next, err := tx.ListMessages(ctx, conversationID, store.Page{Size: a.eraseBatch, Cursor: cursor})
		if err != nil {
			return "", false, err
		}
		var tombstones []domain.Message
		for _, m := range page {
			if !m.Erased {
				tombstones = append(tombstones, domain.EraseMessage(m))
			}
		}
		return next, next == "", tx.EraseMessages(ctx, tombstones)
	})
}

func (a *App) eraseHandovers(ctx context.Context, conversationID string) error {
	return eachBatch(ctx, a, func(tx store.Tx, cursor string) (string, bool, error) {
		if err := lockConversation(ctx, tx, conversationID); err != nil {
			return "", false, err
		}
		q := store.HandoverQuery{ConversationID: conversationID, OldestFirst: true}
		page, next, err := tx.ListHandovers(ctx, q, store.Page{Size: a.eraseBatch, Cursor: cursor})
		if err != nil {
			return "", false, err
		}
		for _, h := range page {
			if t := domain.EraseHandover(h); !reflect.DeepEqual(t, h) {
				if err := tx.UpdateHandover(ctx, t); err != nil {
					return "", false, err
				}
			}
		}
		return next, next == "", nil
	})
}

// eraseEvents replaces by their tombstones the events list returns, page after page; the
// conversation's, when one is named, under its lock.
func (a *App) eraseEvents(ctx context.Context, conversationID string, list func(tx store.Tx, after uint64) ([]domain.Event, error)) error {
	return eachBatch(ctx, a, func(tx store.Tx, after uint64) (uint64, bool, error) {
		if conversationID != "" {
			if err := lockConversation(ctx, tx, conversationID); err != nil {
				return 0, false, err
			}
		}
		page, err := list(tx, after)
		if err != nil || len(page) == 0 {
			return after, true, err
		}
		var tombstones []domain.Event
		for _, e := range page {
			if t := domain.EraseEvent(e); !reflect.DeepEqual(t, e) {
				tombstones = append(tombstones, t)
			}
		}
		return page[len(page)-1].Sequence, len(page) < a.eraseBatch, tx.RewriteEvents(ctx, tombstones)
	})
}

// completeErasure marks the erasure complete and announces contact.erased, once.
func (a *App) completeErasure(ctx context.Context, er domain.Erasure) (domain.Erasure, error) {
	err := a.write(ctx, func(tx store.Tx) error {
		var conv *domain.Conversation
		if er.ConversationID != "" {
			c, err := tx.GetConversation(ctx, er.ConversationID) // locks it, and so orders completions
			if err != nil {
				return err
			}
			conv = &c
		}
		stored, err := tx.GetErasure(ctx, er.ContactID)
		if err != nil || stored.Complete() {
			er = stored
			return err
		}
		ch, err := tx.GetChannel(ctx, er.ChannelID)
		if err != nil {
			return err
		}
		now := a.Now()
		if err := tx.CompleteErasure(ctx, er.ContactID, now); err != nil {
			return err
		}
		er = stored
		er.CompleteTime = now
		_, err = tx.AppendEvents(ctx, []domain.Event{domain.ContactErased(er, conv, ch, now, ids.New)})
		return err
	})
	return er, err
}

// resumeErasures finishes the erasures cut short (a crash, a call given up) long enough ago
// that no call is running them any more.
func (a *App) resumeErasures(ctx context.Context) error {
	var list []domain.Erasure
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		list, err = tx.ListUnfinishedErasures(ctx, timerBatch)
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, er := range list {
		if a.Now().Sub(er.CreateTime) < erasureResumeAfter {
			break // oldest first: the rest are younger
		}
		if _, err := a.finishErasure(ctx, er); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// refuseErased refuses new content for the conversation of an erased contact.
func refuseErased(s domain.Situation) error {
	if s.Contact.Erased() {
		return domain.Precondition("contact", "contact %s was erased: its conversation takes nothing new", s.Contact.ID)
	}
	return nil
}
