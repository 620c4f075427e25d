package bot

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// WebhookOptions configures Webhook.
type WebhookOptions struct {
	// Secrets are the webhook's signing secrets ("whsec_..."), as CreateWebhook and
	// RotateWebhookSecret return them: during a rotation give both, and a delivery signed with
	// either is accepted.
	Secrets []string
	// Tolerance is how far a delivery's timestamp may be from now; 5 minutes when zero.
	Tolerance time.Duration
	// Now is the clock timestamps are checked against; time.Now when nil.
	Now func() time.Time
	// Remember is how many handled deliveries are remembered to drop repeats; 10,000 when zero.
	Remember int
	// MaxBodyBytes bounds a delivery's body; 1 MiB when zero.
	MaxBodyBytes int64
}

// verificationType is the type of Baton's verification handshake.
const verificationType = "webhook.verification"

// Webhook returns the http.Handler to serve at the bot's webhook URL. It refuses a delivery
// whose signature does not verify with 401 (the handler does not run), answers Baton's
// verification handshake, drops a delivery it has handled already (same webhook-id), and
// answers 2xx only once the handler succeeded: a handler's error is a 500, and Baton delivers
// the event again later. A refusal because the conversation has moved on is an answer, not a
// failure: it is logged and acknowledged, since a retry would be refused again.
//
// Baton waits 5 s for an answer: a handler that needs longer should answer first and work on.
func (b *Bot) Webhook(opts WebhookOptions) (http.Handler, error) {
	if len(opts.Secrets) == 0 {
		return nil, errors.New("bot webhook: no signing secret")
	}
	h := &webhookHandler{
		bot:       b,
		tolerance: cmp.Or(opts.Tolerance, 5*time.Minute),
		now:       opts.Now,
		maxBody:   cmp.Or(opts.MaxBodyBytes, 1<<20),
		seen:      newDeliveries(max(cmp.Or(opts.Remember, 10_000), 1)),
	}
	if h.now == nil {
		h.now = time.Now
	}
	for _, s := range opts.Secrets {
		key := strings.TrimPrefix(s, "whsec_")
		wh, err := standardwebhooks.NewWebhook(key)
		if err != nil || key == "" {
			return nil, errors.New("bot webhook: a secret is not whsec_ and base64")
		}
		h.signers = append(h.signers, wh)
	}
	return h, nil
}

type webhookHandler struct {
	bot       *Bot
	signers   []*standardwebhooks.Webhook
	tolerance time.Duration
	now       func() time.Time
	maxBody   int64
	seen      *deliveries
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if err := h.verify(r.Header, body); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var msg struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, "the body is not a Baton delivery: "+err.Error(), http.StatusBadRequest)
		return
	}
	if msg.Type == verificationType {
		h.answerChallenge(w, msg.Data)
		return
	}
	var e batonv1.SubscribedEvent
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(msg.Data, &e); err != nil {
		http.Error(w, "the delivery's data is not an event: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	err = h.seen.once(ctx, r.Header.Get("webhook-id"), func() error {
		err := h.bot.dispatch(ctx, &e)
		if refused(err) {
			h.bot.logger().InfoContext(ctx, "baton bot: refused, the conversation has moved on", "event", e.GetEvent().GetId(), "error", err)
			return nil
		}
		return err
	})
	if err != nil {
		h.bot.logger().ErrorContext(ctx, "baton bot: handler failed; Baton will deliver again", "event", e.GetEvent().GetId(), "error", err)
		http.Error(w, "the handler failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify checks the delivery's signature with each secret, and its timestamp against the
// handler's clock (the library would use the wall clock and its own tolerance).
func (h *webhookHandler) verify(header http.Header, body []byte) error {
	verified := false
	for _, wh := range h.signers {
		if wh.VerifyIgnoringTimestamp(body, header) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return errors.New("the webhook signature does not verify")
	}
	ts, _ := strconv.ParseInt(header.Get("webhook-timestamp"), 10, 64) // the library parsed it
	if d := h.now().Sub(time.Unix(ts, 0)); d > h.tolerance || d < -h.tolerance {
		return errors.New("the webhook timestamp is too far from now")
	}
	return nil
}

// answerChallenge passes Baton's verification handshake by echoing its challenge.
func (h *webhookHandler) answerChallenge(w http.ResponseWriter, data json.RawMessage) {
	var c struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(data, &c); err != nil || c.Challenge == "" {
		http.Error(w, "a verification without a challenge", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c)
}
