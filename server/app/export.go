package app

import (
	"context"
	"iter"
	"slices"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// ContactExport reads everything stored about one contact, a page at a time, each page in a
// read transaction of its own: however long the history, no more than a page is held.
type ContactExport struct {
	Contact      domain.Contact
	Erasure      *domain.Erasure      // when an erasure started
	Conversation *domain.Conversation // the contact's, when it has one
	app          *App
	pageSize     int
}

// ExportContact starts the export of a contact's data, admin only, and records it in the
// audit log (contact.exported, by whom, when).
func (a *App) ExportContact(ctx context.Context, p domain.Principal, contactID string, pageSize int) (*ContactExport, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	x := &ContactExport{app: a, pageSize: exportPageSize(pageSize)}
	err := a.write(ctx, func(tx store.Tx) error {
		var err error
		if x.Contact, err = tx.GetContact(ctx, contactID); err != nil {
			return err
		}
		x.Conversation, x.Erasure = nil, nil
		if conv, err := tx.GetConversationByContact(ctx, contactID); err == nil {
			x.Conversation = &conv
		} else if !isNotFound(err) {
			return err
		}
		if er, err := tx.GetErasure(ctx, contactID); err == nil {
			x.Erasure = &er
		} else if !isNotFound(err) {
			return err
		}
		var convID string
		if x.Conversation != nil {
			convID = x.Conversation.ID
		}
		_, err = tx.AppendEvents(ctx, []domain.Event{domain.Exported(domain.EventContactExported, p.Actor(),
			contactID, convID, x.Contact.ChannelID, a.Now(), ids.New)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// Messages yields the conversation's messages, oldest first, internal notes included.
func (x *ContactExport) Messages(ctx context.Context) iter.Seq2[[]domain.Message, error] {
	if x.Conversation == nil {
		return none[domain.Message]
	}
	return messagePages(ctx, x.app, x.Conversation.ID, x.pageSize)
}

// Handovers yields the conversation's handovers, oldest first.
func (x *ContactExport) Handovers(ctx context.Context) iter.Seq2[[]domain.Handover, error] {
	if x.Conversation == nil {
		return none[domain.Handover]
	}
	q := store.HandoverQuery{ConversationID: x.Conversation.ID, OldestFirst: true}
	return pages(ctx, x.app, func(tx store.Tx, cursor string) ([]domain.Handover, string, bool, error) {
		page, next, err := tx.ListHandovers(ctx, q, store.Page{Size: x.pageSize, Cursor: cursor})
		return page, next, next == "", err
	})
}

// Events yields the events about the contact in sequence order: its conversation's, then
// those about the contact alone (contact-wide mutes).
func (x *ContactExport) Events(ctx context.Context) iter.Seq2[[]domain.Event, error] {
	contact := pages(ctx, x.app, func(tx store.Tx, after uint64) ([]domain.Event, uint64, bool, error) {
		page, err := tx.ListContactEvents(ctx, x.Contact.ChannelID, x.Contact.ID, after, x.pageSize)
		return page, lastSequence(page, after), len(page) < x.pageSize, err
	})
	if x.Conversation == nil {
		return contact
	}
	f := store.EventFilter{ConversationID: x.Conversation.ID}
	conv := pages(ctx, x.app, func(tx store.Tx, after uint64) ([]domain.Event, uint64, bool, error) {
		page, err := tx.ListEvents(ctx, after, f, x.pageSize)
		return page, lastSequence(page, after), len(page) < x.pageSize, err
	})
	return concat(conv, contact)
}

// Deliveries yields the webhook deliveries of the conversation's events, webhook by webhook,
// with their attempts. (A delivery's body is its event, rendered when it is sent.)
func (x *ContactExport) Deliveries(ctx context.Context) iter.Seq2[[]DeliveryLog, error] {
	if x.Conversation == nil {
		return none[DeliveryLog]
	}
	return func(yield func([]DeliveryLog, error) bool) {
		for hooks, err := range pages(ctx, x.app, func(tx store.Tx, cursor string) ([]domain.Webhook, string, bool, error) {
			page, next, err := tx.ListWebhooks(ctx, "", store.Page{Size: x.pageSize, Cursor: cursor})
			return page, next, next == "", err
		}) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, w := range hooks {
				q := store.DeliveryQuery{WebhookID: w.ID, ConversationID: x.Conversation.ID}
				for logs, err := range pages(ctx, x.app, func(tx store.Tx, cursor string) ([]DeliveryLog, string, bool, error) {
					page, next, err := tx.ListDeliveries(ctx, q, store.Page{Size: x.pageSize, Cursor: cursor})
					if err != nil {
						return nil, "", false, err
					}
					logs, err := withAttempts(ctx, tx, page)
					return logs, next, next == "", err
				}) {
					if !yield(logs, err) || err != nil {
						return
					}
				}
			}
		}
	}
}

// TranscriptExport reads one conversation's transcript, a page at a time.
type TranscriptExport struct {
	Conversation domain.Conversation
	Contact      domain.Contact
	app          *App
	p            domain.Principal
	pageSize     int
}

// ExportTranscript starts the export of a conversation's transcript, for admins and the agents
// who may read the conversation (a bot reads it with ListMessages), and records it in the audit
// log (conversation.exported).
func (a *App) ExportTranscript(ctx context.Context, p domain.Principal, conversationID string, pageSize int) (*TranscriptExport, error) {
	if p.Role == domain.PrincipalBot {
		return nil, domain.Forbidden("bots read transcripts with ListMessages")
	}
	x := &TranscriptExport{app: a, p: p, pageSize: exportPageSize(pageSize)}
	err := a.write(ctx, func(tx store.Tx) error {
		s, _, err := a.authorized(ctx, tx, p, conversationID)
		if err != nil {
			return err
		}
		x.Conversation, x.Contact = s.Conversation, s.Contact
		_, err = tx.AppendEvents(ctx, []domain.Event{domain.Exported(domain.EventTranscriptExported, p.Actor(),
			s.Contact.ID, conversationID, s.Channel.ID, a.Now(), ids.New)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// Messages yields the messages the caller may read, oldest first.
func (x *TranscriptExport) Messages(ctx context.Context) iter.Seq2[[]domain.Message, error] {
	return func(yield func([]domain.Message, error) bool) {
		for page, err := range messagePages(ctx, x.app, x.Conversation.ID, x.pageSize) {
			page = slices.DeleteFunc(page, func(m domain.Message) bool { return !m.VisibleTo(x.p) })
			if !yield(page, err) || err != nil {
				return
			}
		}
	}
}

func messagePages(ctx context.Context, a *App, conversationID string, size int) iter.Seq2[[]domain.Message, error] {
	return pages(ctx, a, func(tx store.Tx, cursor string) ([]domain.Message, string, bool, error) {
		page, next, err := tx.ListMessages(ctx, conversationID, store.Page{Size: size, Cursor: cursor})
		return page, next, next == "", err
	})
}

// pages yields the pages fetch returns, each read in a read transaction of its own, until one
// is empty or fetch says it is done; each fetch gets the cursor the one before returned. An
// error is yielded last.
func pages[T, C any](ctx context.Context, a *App, fetch func(tx store.Tx, cursor C) (page []T, next C, done bool, err error)) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		var cursor C
		for {
			var page []T
			var next C
			var done bool
			err := a.read(ctx, func(tx store.Tx) error {
				var err error
				page, next, done, err = fetch(tx, cursor)
				return err
			})
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page) == 0 || !yield(page, nil) || done {
				return
			}
			cursor = next
		}
	}
}

func none[T any](func([]T, error) bool) {}

func concat[T any](seqs ...iter.Seq2[[]T, error]) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		for _, seq := range seqs {
			for page, err := range seq {
				if !yield(page, err) || err != nil {
					return
				}
			}
		}
	}
}

func lastSequence(page []domain.Event, after uint64) uint64 {
	if len(page) == 0 {
		return after
	}
	return page[len(page)-1].Sequence
}

// DefaultExportPageSize is how many rows an export reads at a time unless asked otherwise.
const DefaultExportPageSize = 200

func exportPageSize(n int) int {
	if n <= 0 {
		return DefaultExportPageSize
	}
	return min(n, 1000)
}
