package postgres

import (
	"context"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var contactColumns = []string{
	"id", "channel_id", "external_id", "display_name", "locale", "attributes", "bot_muted_until",
	"create_time", "update_time", "revision",
}

var (
	selectContact = "SELECT " + columns("ct", contactColumns) + " FROM contacts ct"
	insertContact = insertSQL("contacts", contactColumns)
	updateContact = updateSQL("contacts", contactColumns)
)

func contactArgs(c domain.Contact) []any {
	return []any{
		c.ID, c.ChannelID, c.ExternalID, c.DisplayName, c.Locale, jsonMap(c.Attributes), c.BotMutedUntil,
		c.CreateTime, c.UpdateTime, c.Revision,
	}
}

// contactFields lists where contactColumns scan to.
func contactFields(c *domain.Contact) []any {
	return []any{
		&c.ID, &c.ChannelID, &c.ExternalID, &c.DisplayName, &c.Locale, jsonCol(&c.Attributes), &c.BotMutedUntil,
		&c.CreateTime, &c.UpdateTime, &c.Revision,
	}
}

func scanContact(s scanner) (c domain.Contact, err error) {
	err = s.Scan(contactFields(&c)...)
	return c, err
}

func (t *tx) CreateContact(ctx context.Context, c domain.Contact) error {
	return t.insert(ctx, "contact", insertContact, contactArgs(c)...)
}

func (t *tx) GetContact(ctx context.Context, id string) (domain.Contact, error) {
	return getOne(ctx, t, scanContact, "contact", id, selectContact+" WHERE ct.id = $1", id)
}

func (t *tx) GetContactByExternalID(ctx context.Context, channelID, externalID string) (domain.Contact, error) {
	return getOne(ctx, t, scanContact, "contact", externalID,
		selectContact+" WHERE ct.channel_id = $1 AND ct.external_id = $2", channelID, externalID)
}

func (t *tx) ListContacts(ctx context.Context, cq store.ContactQuery, p store.Page) ([]domain.Contact, string, error) {
	q := query{head: selectContact}
	if cq.ChannelID != "" {
		q.where("ct.channel_id = " + q.arg(cq.ChannelID))
	}
	if cq.Query != "" {
		// strpos rather than LIKE: the user's text has no wildcards to escape.
		text := "lower(" + q.arg(cq.Query) + ")"
		q.where("(strpos(lower(ct.display_name), " + text + ") > 0 OR strpos(lower(ct.external_id), " + text + ") > 0)")
	}
	return getPage(ctx, t, q, order{id: "ct.id"}, p, scanContact, func(c domain.Contact) cursor { return cursor{ID: c.ID} })
}

func (t *tx) UpdateContact(ctx context.Context, c domain.Contact) error {
	return t.update(ctx, "contact", updateContact, c.ID, contactArgs(c))
}
