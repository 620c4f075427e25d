package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// applyUpdates hands what a channel's webhook reported to the application, in order. An update
// that could not be understood, or that the rules refuse, is skipped and reported in refused;
// err is a failure of the server's own (the channel should send again: what was stored before
// it is only repeated).
func (h Handler) applyUpdates(ctx context.Context, ch domain.Channel, updates []channel.Update) (refused []error, err error) {
	for i, u := range updates {
		err := u.Err
		if err == nil {
			err = h.applyUpdate(ctx, ch, u)
		}
		var invalid *domain.InvalidError
		switch {
		case err == nil:
		case u.Err != nil || errors.As(err, &invalid):
			refused = append(refused, fmt.Errorf("item %d: %w", i+1, err))
		default:
			return refused, err
		}
	}
	return refused, nil
}

func (h Handler) applyUpdate(ctx context.Context, ch domain.Channel, u channel.Update) error {
	switch u.Kind {
	case channel.UpdateMessage, channel.UpdateEcho:
		if u.Kind == channel.UpdateEcho && ownEcho(ch, u) {
			return nil // Baton's own message, recorded when it was sent
		}
		if u.Content == nil {
			return domain.Invalid("content", "no content Baton can show")
		}
		content, err := channel.EncodeContent(u.Content)
		if err != nil {
			return domain.Invalid("content", "%v", err)
		}
		in := app.Inbound{ChannelID: ch.ID, Contact: u.Contact, ChannelMessageID: u.ChannelMessageID, Content: content, EntryPoint: u.EntryPoint}
		if u.Kind == channel.UpdateEcho {
			return h.App.ExternalReply(ctx, adapter, in, u.AppID, u.Time)
		}
		_, err = h.App.Ingest(ctx, adapter, in)
		return err
	case channel.UpdateStatus:
		return h.App.ReceiveStatus(ctx, adapter, app.StatusReport{
			ChannelID: ch.ID, ChannelMessageID: u.ChannelMessageID,
			ContactExternalID: u.Contact.ExternalID, Watermark: u.Watermark,
			Status: u.Status, Error: u.Error,
		})
	case channel.UpdateReferral:
		return h.App.Referral(ctx, adapter, ch.ID, u.Contact.ExternalID, u.EntryPoint)
	case channel.UpdateTest:
		h.Logger.InfoContext(ctx, "channel webhook test event: it arrived and its signature is valid; its ids are made up, so nothing is stored",
			"channel", ch.ID, "kind", ch.Kind, "field", u.Field)
		return nil
	case channel.UpdateThreadTaken, channel.UpdateThreadReleased:
		return h.App.ExternalThread(ctx, adapter, app.ThreadReport{
			ChannelID: ch.ID, ContactExternalID: u.Contact.ExternalID,
			Taken: u.Kind == channel.UpdateThreadTaken, AppID: u.AppID, Time: u.Time,
		})
	}
	return domain.Invalid("update", "unknown kind %d", u.Kind)
}

// ownEcho reports whether an echo is the copy of a message Baton sent: it carries Baton's
// message id (Messenger's metadata), or comes from the app Baton sends with (Instagram has no
// metadata). A message Baton sent whose channel id is already recorded is also recognised when
// stored, as a repeat.
func ownEcho(ch domain.Channel, u channel.Update) bool {
	return u.BatonMessageID != "" || (u.AppID != "" && u.AppID == ch.Credentials.AppID)
}
