package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/webhook"
)

// GenericSender POSTs a generic channel's outbound messages to its send URL, signed like a
// webhook delivery, through the SSRF-guarded webhook client. A channel without a send URL
// publishes its outbound messages as events only: they count as sent at once.
type GenericSender struct {
	Client *webhook.Client
	Now    func() time.Time
}

// Send implements channel.Sender.
func (s GenericSender) Send(ctx context.Context, ch domain.Channel, to domain.Contact, m channel.Outgoing) (string, error) {
	url := ch.Credentials.SendURL
	if url == "" {
		return m.BatonMessageID, nil
	}
	body, err := protojson.Marshal(&batonv1.GenericOutboundMessage{
		Id:      m.BatonMessageID,
		Contact: &batonv1.ContactProfile{ExternalId: to.ExternalID, DisplayName: to.DisplayName, Locale: to.Locale},
		Content: m.Content,
	})
	if err != nil {
		return "", err
	}
	res, answer := s.Client.Call(ctx, webhook.Request{
		URL: url, ID: m.BatonMessageID, Time: s.Now(), Body: body, Secrets: []string{ch.Credentials.WebhookSecret},
	})
	if !res.OK() {
		return "", sendError(res)
	}
	var said struct{ ID string }
	if json.Unmarshal(answer, &said) == nil && said.ID != "" {
		return said.ID, nil
	}
	return m.BatonMessageID, nil
}

// sendError is the refusal of a failed attempt. It is for good when the endpoint refused the
// message (a 4xx other than 408 and 429) or the SSRF policy refused its address: sending the
// same message to the same URL again cannot help.
func sendError(res domain.AttemptResult) *channel.SendError {
	var code string
	if res.StatusCode != 0 {
		code = strconv.Itoa(res.StatusCode)
	}
	refused := res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != 408 && res.StatusCode != 429
	return &channel.SendError{Code: code, Message: res.Describe(), Transient: !refused && !res.NotAllowed, RetryAfter: res.RetryAfter}
}
