package sqlite

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var contactColumns = []string{
	"id", "channel_id", "external_id", "display_name", "locale", "attributes", "bot_muted_until",
	"create_time", "update_time", "revision",
}

var selectContact = "SELECT " + columns("ct", contactColumns) + " FROM contacts ct"

func contactArgs(c domain.Contact) []any {
	return []any{
		c.ID, c.ChannelID, c.ExternalID, c.DisplayName, c.Locale, jsonMap(c.Attributes), nanos(c.BotMutedUntil),
		nanos(c.CreateTime), nanos(c.UpdateTime), c.Revision,
	}
}

// contactFields lists where contactColumns scan to.
func contactFields(c *domain.Contact) []any {
	return []any{
		&c.ID, &c.ChannelID, &c.ExternalID, &c.DisplayName, &c.Locale, jsonCol(&c.Attributes), timeCol{&c.BotMutedUntil},
		timeCol{&c.CreateTime}, timeCol{&c.UpdateTime}, &c.Revision,
	}
}

func scanContact(s scanner) (c domain.Contact, err error) {
	err = s.Scan(contactFields(&c)...)
	return c, err
}

func (t *tx) CreateContact(ctx context.Context, c domain.Contact) error {
	return t.insert(ctx, "contact", insertSQL("contacts", contactColumns), contactArgs(c)...)
}

func (t *tx) GetContact(ctx context.Context, id string) (domain.Contact, error) {
	return getOne(ctx, t, scanContact, "contact", id, selectContact+" WHERE ct.id = ?", id)
}

func (t *tx) GetContactByExternalID(ctx context.Context, channelID, externalID string) (domain.Contact, error) {
	return getOne(ctx, t, scanContact, "contact", externalID,
		selectContact+" WHERE ct.channel_id = ? AND ct.external_id = ?", channelID, externalID)
}

func (t *tx) ListContacts(ctx context.Context, cq store.ContactQuery, p store.Page) ([]domain.Contact, string, error) {
	q := query{head: selectContact}
	if cq.ChannelID != "" {
		q.where("ct.channel_id = ?", cq.ChannelID)
	}
	if cq.Query != "" {
		// instr rather than LIKE: the user's text has no wildcards to escape.
		q.where("(instr(lower(ct.display_name), lower(?)) > 0 OR instr(lower(ct.external_id), lower(?)) > 0)", cq.Query, cq.Query)
	}
	return getPage(ctx, t, q, order{id: "ct.id"}, p, scanContact, func(c domain.Contact) cursor { return cursor{ID: c.ID} })
}

func (t *tx) UpdateContact(ctx context.Context, c domain.Contact) error {
	return t.update(ctx, "contact", "contacts", c.ID, c.Revision, contactColumns, contactArgs(c))
}
