package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/webhook"
)

// maxGenericMessages bounds one generic webhook, as GenericWebhookPayload's rule says.
const maxGenericMessages = 100

// generic receives a GenericWebhookPayload signed with Standard Webhooks headers. A body over
// the limit stores nothing (413); a bad signature stores nothing (401); a body that is not a
// payload stores nothing (400); a message that breaks the rules is refused alone, and the
// others are stored.
func (h Handler) generic(w http.ResponseWriter, r *http.Request) {
	ch, body, ok := h.posted(w, r, domain.ChannelGeneric)
	if !ok {
		return
	}
	if ch.Credentials.WebhookSecret == "" {
		http.Error(w, "the channel has no webhook secret to check signatures with", http.StatusForbidden)
		return
	}
	if err := webhook.CheckSignature(ch.Credentials.WebhookSecret, r.Header, body, h.App.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	payload, err := parseGeneric(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res := &batonv1.GenericWebhookResult{}
	status := http.StatusOK
	for _, m := range payload.GetMessages() {
		out, err := h.ingestGeneric(r, ch.ID, m)
		var refused *refusal
		switch {
		case errors.As(err, &refused):
			status = http.StatusBadRequest
			res.Results = append(res.Results, &batonv1.GenericMessageResult{Id: m.GetId(), Error: refused.Error()})
		case err != nil:
			h.fail(w, r, err) // the messages before it are stored: a resend only repeats them
			return
		default:
			res.Results = append(res.Results, &batonv1.GenericMessageResult{Id: m.GetId(), MessageId: out.Message.ID, Duplicate: out.Duplicate})
		}
	}
	reply(w, status, res)
}

// parseGeneric reads a generic webhook's body: a payload of 1 to maxGenericMessages messages
// (each checked on its own later, so that one bad message loses no other).
func parseGeneric(body []byte) (*batonv1.GenericWebhookPayload, error) {
	var payload batonv1.GenericWebhookPayload
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &payload); err != nil {
		return nil, fmt.Errorf("the body is not a generic webhook payload: %w", err)
	}
	if n := len(payload.GetMessages()); n == 0 || n > maxGenericMessages {
		return nil, fmt.Errorf("a payload carries 1 to %d messages, not %d", maxGenericMessages, n)
	}
	return &payload, nil
}

// refusal is a message the rules refuse: resending it cannot help.
type refusal struct{ error }

func (h Handler) ingestGeneric(r *http.Request, channelID string, m *batonv1.GenericInboundMessage) (app.Ingested, error) {
	if err := protovalidate.Validate(m); err != nil {
		return app.Ingested{}, &refusal{err}
	}
	content, err := channel.EncodeContent(m.GetContent())
	if err != nil {
		return app.Ingested{}, &refusal{err}
	}
	c := m.GetContact()
	out, err := h.App.Ingest(r.Context(), adapter, app.Inbound{
		ChannelID:        channelID,
		Contact:          domain.Contact{ExternalID: c.GetExternalId(), DisplayName: c.GetDisplayName(), Locale: c.GetLocale(), Attributes: c.GetAttributes()},
		ChannelMessageID: m.GetId(),
		Content:          content,
	})
	var invalid *domain.InvalidError
	if errors.As(err, &invalid) {
		return out, &refusal{err}
	}
	return out, err
}
