package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/webhook"
)

// Verifier runs a webhook's verification handshake against url.
type Verifier interface {
	Verify(ctx context.Context, url string, secrets []string, now time.Time) error
}

// noVerifier refuses every webhook: the server was started without outbound HTTP.
type noVerifier struct{}

func (noVerifier) Verify(context.Context, string, []string, time.Time) error {
	return errors.New("this server does not send webhooks")
}

// RenderEvent encodes an event as a delivery's data, as the API encodes it.
type RenderEvent func(e domain.Event, responsible bool) ([]byte, error)

// DefaultSecretOverlap is how long a rotated-out secret keeps signing by default.
const DefaultSecretOverlap = 24 * time.Hour

// deliveryLease is how long a claimed delivery stays with its sender: past the 5 s timeout and
// the recording, so only a sender that died lets another replica send it again.
const deliveryLease = time.Minute

// WebhookSpec is a webhook to register.
type WebhookSpec struct {
	BotID      string // empty for a firehose
	URL        string
	EventTypes []domain.EventType
	ChannelIDs []string
	Policy     domain.InactivePolicy
}

// CreateWebhook registers a webhook, pending verification, and returns it with its secret.
func (a *App) CreateWebhook(ctx context.Context, p domain.Principal, spec WebhookSpec) (domain.Webhook, string, error) {
	if !domain.CanManageWebhook(p, spec.BotID) {
		return domain.Webhook{}, "", webhookRefusal(p, spec.BotID, ref{"bot", spec.BotID})
	}
	now := a.Now()
	w := domain.Webhook{
		ID: ids.New("wh"), BotID: spec.BotID, URL: spec.URL,
		EventTypes: spec.EventTypes, ChannelIDs: spec.ChannelIDs,
		State: domain.WebhookPending, InactivePolicy: cmpOr(spec.Policy, domain.PolicyHandoff),
		Secret: webhook.NewSecret(), CreateTime: now, UpdateTime: now,
	}
	err := a.write(ctx, func(tx store.Tx) error {
		if w.BotID != "" {
			if _, err := tx.GetBot(ctx, w.BotID); err != nil {
				return err
			}
		}
		err := tx.CreateWebhook(ctx, w)
		if errors.Is(err, store.ErrDuplicate) {
			return domain.Precondition("webhook", "bot %s already has a webhook: update or delete it", w.BotID)
		}
		return err
	})
	if err == nil {
		a.noWebhooks.Forget("")
	}
	return w, w.Secret, err
}

// webhookRefusal refuses p the webhooks of botID (empty: firehoses), for a call that asked for
// r. A bot asking for another bot's (or a firehose's) resource is told r does not exist; other
// kinds of key, and a bot asking to create a firehose, that they may not manage such webhooks.
func webhookRefusal(p domain.Principal, botID string, r ref) error {
	if p.Role == domain.PrincipalBot && r.id != "" {
		return domain.NotFound(r.kind, r.id)
	}
	if botID == "" {
		return domain.Forbidden("only an admin key may manage firehose webhooks")
	}
	return domain.Forbidden("only an admin key or the bot's own key may manage a bot's webhook")
}

// GetWebhook returns a webhook the caller may manage.
func (a *App) GetWebhook(ctx context.Context, p domain.Principal, id string) (domain.Webhook, error) {
	var w domain.Webhook
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		w, err = a.managedWebhook(ctx, tx, p, id)
		return err
	})
	return w, err
}

func (a *App) managedWebhook(ctx context.Context, tx store.Tx, p domain.Principal, id string) (domain.Webhook, error) {
	w, err := tx.GetWebhook(ctx, id)
	if err != nil {
		return w, err
	}
	if !domain.CanManageWebhook(p, w.BotID) {
		return domain.Webhook{}, webhookRefusal(p, w.BotID, ref{"webhook", id})
	}
	return w, nil
}

// ListWebhooks lists webhooks: all for admins, its own for a bot.
func (a *App) ListWebhooks(ctx context.Context, p domain.Principal, botID string, page store.Page) ([]domain.Webhook, string, error) {
	if p.Role == domain.PrincipalBot {
		if botID != "" && botID != p.SubjectID {
			return nil, "", webhookRefusal(p, botID, ref{"bot", botID})
		}
		botID = p.SubjectID
	} else if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	var out []domain.Webhook
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.ListWebhooks(ctx, botID, page)
		return err
	})
	return out, next, err
}

// WebhookUpdate changes a webhook. Nil fields are kept.
type WebhookUpdate struct {
	ID, Etag   string
	URL        *string
	EventTypes *[]domain.EventType
	ChannelIDs *[]string
	Policy     *domain.InactivePolicy
}

// UpdateWebhook applies u. A new URL is verified first; it replaces the old one only if it
// passes, so a typo never stops deliveries.
func (a *App) UpdateWebhook(ctx context.Context, p domain.Principal, u WebhookUpdate) (domain.Webhook, error) {
	w, err := a.GetWebhook(ctx, p, u.ID)
	if err != nil {
		return w, err
	}
	newURL := u.URL != nil && *u.URL != w.URL
	if newURL {
		if err := a.verify(ctx, *u.URL, w); err != nil {
			return w, err
		}
	}
	err = a.write(ctx, func(tx store.Tx) error {
		if err := tx.Lock(ctx, store.KindWebhook, u.ID); err != nil {
			return err
		}
		if w, err = a.managedWebhook(ctx, tx, p, u.ID); err != nil {
			return err
		}
		if err := etagMatches(u.Etag, w.Revision); err != nil {
			return err
		}
		setIf(&w.URL, u.URL)
		setIf(&w.EventTypes, u.EventTypes)
		setIf(&w.ChannelIDs, u.ChannelIDs)
		setIf(&w.InactivePolicy, u.Policy)
		w.UpdateTime = a.Now()
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		w.Revision++
		return nil
	})
	return w, err
}

// DeleteWebhook deletes a webhook and its delivery log. A bot left unreachable by it becomes
// reachable: without a webhook it is a stream-only bot.
func (a *App) DeleteWebhook(ctx context.Context, p domain.Principal, id, etag string) error {
	return a.write(ctx, func(tx store.Tx) error {
		w, err := a.managedWebhook(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := etagMatches(etag, w.Revision); err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return a.setBotReachable(ctx, tx, w.BotID, true)
	})
}

// VerifyWebhook runs the handshake and, when the endpoint passes, activates the webhook: an
// inactive one sends its waiting deliveries at once and its bot may own conversations again.
func (a *App) VerifyWebhook(ctx context.Context, p domain.Principal, id string) (domain.Webhook, error) {
	w, err := a.GetWebhook(ctx, p, id)
	if err != nil {
		return w, err
	}
	if err := a.verify(ctx, w.URL, w); err != nil {
		return w, err
	}
	err = a.write(ctx, func(tx store.Tx) error {
		if w, err = tx.GetWebhook(ctx, id); err != nil {
			return err
		}
		now := a.Now()
		if w.State != domain.WebhookActive {
			// Waiting deliveries start their retry schedule afresh, due now. (Deliveries are
			// locked before their webhook, in the lock order.)
			q := store.DeliveryQuery{WebhookID: id, States: []domain.DeliveryState{domain.DeliveryStatePending}}
			if _, err := tx.RequeueDeliveries(ctx, q, now); err != nil {
				return err
			}
		}
		if w, err = forUpdate(ctx, tx, store.KindWebhook, id, tx.GetWebhook); err != nil {
			return err
		}
		was := w.State
		w = domain.Activate(w, now)
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		w.Revision++
		if was == domain.WebhookActive {
			return nil
		}
		if err := a.setBotReachable(ctx, tx, w.BotID, true); err != nil {
			return err
		}
		_, err := tx.AppendEvents(ctx, []domain.Event{domain.WebhookEvent(w, domain.EventWebhookActivated, p.Actor(), w.UpdateTime, ids.New)})
		return err
	})
	if err == nil {
		a.noWebhooks.Forget("") // it may have been created through another server
		a.queued()              // its waiting deliveries are due now
	}
	return w, err
}

// verify runs the handshake against url with w's secrets, as a precondition error on failure.
func (a *App) verify(ctx context.Context, url string, w domain.Webhook) error {
	now := a.Now()
	if err := a.verifier.Verify(ctx, url, w.SigningSecrets(now), now); err != nil {
		return domain.Precondition("verification", "webhook verification failed: %v", err)
	}
	return nil
}

// RotateWebhookSecret issues a new secret; the old one keeps signing for overlap.
func (a *App) RotateWebhookSecret(ctx context.Context, p domain.Principal, id string, overlap time.Duration) (domain.Webhook, string, error) {
	var w domain.Webhook
	err := a.write(ctx, func(tx store.Tx) error {
		if err := tx.Lock(ctx, store.KindWebhook, id); err != nil {
			return err
		}
		var err error
		if w, err = a.managedWebhook(ctx, tx, p, id); err != nil {
			return err
		}
		now := a.Now()
		w.PreviousSecret, w.PreviousSecretExpireTime = w.Secret, now.Add(overlap)
		w.Secret = webhook.NewSecret()
		w.UpdateTime = now
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		w.Revision++
		return nil
	})
	return w, w.Secret, err
}

// DeliveryLog is a delivery with its attempts.
type DeliveryLog struct {
	domain.Delivery
	Attempts []domain.Attempt
}

// ListDeliveries lists a webhook's deliveries, newest first. With q.WebhookID empty, botID
// names the bot whose webhook it is.
func (a *App) ListDeliveries(ctx context.Context, p domain.Principal, botID string, q store.DeliveryQuery, page store.Page) ([]DeliveryLog, string, error) {
	var out []DeliveryLog
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		id, err := a.webhookOf(ctx, tx, p, q.WebhookID, botID)
		if err != nil {
			return err
		}
		q.WebhookID = id
		list, n, err := tx.ListDeliveries(ctx, q, page)
		if err != nil {
			return err
		}
		next = n
		out, err = withAttempts(ctx, tx, list)
		return err
	})
	return out, next, err
}

// webhookOf checks p may manage the webhook (given by id, or as the bot's) and returns its id.
func (a *App) webhookOf(ctx context.Context, tx store.Tx, p domain.Principal, id, botID string) (string, error) {
	if id != "" {
		_, err := a.managedWebhook(ctx, tx, p, id)
		return id, err
	}
	if !domain.CanManageWebhook(p, botID) {
		return "", webhookRefusal(p, botID, ref{"bot", botID})
	}
	list, _, err := tx.ListWebhooks(ctx, botID, store.Page{Size: 1})
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", domain.NotFound("webhook of bot", botID)
	}
	return list[0].ID, nil
}

func withAttempts(ctx context.Context, tx store.Tx, list []domain.Delivery) ([]DeliveryLog, error) {
	ids := make([]string, len(list))
	for i, d := range list {
		ids[i] = d.ID
	}
	attempts, err := tx.ListAttempts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryLog, len(list))
	for i, d := range list {
		out[i] = DeliveryLog{Delivery: d, Attempts: attempts[d.ID]}
	}
	return out, nil
}

// Redeliver queues one delivery again, with a fresh retry schedule.
func (a *App) Redeliver(ctx context.Context, p domain.Principal, deliveryID string) (DeliveryLog, error) {
	var out DeliveryLog
	err := a.write(ctx, func(tx store.Tx) error {
		d, err := tx.GetDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		if _, err := a.managedWebhook(ctx, tx, p, d.WebhookID); isNotFound(err) {
			return domain.NotFound("delivery", deliveryID) // the delivery, not its webhook, was asked for
		} else if err != nil {
			return err
		}
		d = domain.Redeliver(d, a.Now())
		if err := tx.UpdateDeliveries(ctx, []domain.Delivery{d}); err != nil {
			return err
		}
		list, err := withAttempts(ctx, tx, []domain.Delivery{d})
		if err == nil {
			out = list[0]
		}
		return err
	})
	if err == nil {
		a.queued()
	}
	return out, err
}

// RedeliverRange queues again the webhook's deliveries q selects (dead ones when q names no
// state) and returns how many.
func (a *App) RedeliverRange(ctx context.Context, p domain.Principal, q store.DeliveryQuery) (int, error) {
	if len(q.States) == 0 {
		q.States = []domain.DeliveryState{domain.DeliveryStateDead}
	}
	var n int
	err := a.write(ctx, func(tx store.Tx) error {
		if _, err := a.managedWebhook(ctx, tx, p, q.WebhookID); err != nil {
			return err
		}
		var err error
		n, err = tx.RequeueDeliveries(ctx, q, a.Now())
		return err
	})
	if err == nil && n > 0 {
		a.queued()
	}
	return n, err
}

// ClaimDeliveries leases up to limit due deliveries to this process and returns them ready to
// send. It implements webhook.Source. Only the lease is written: the events are read and
// rendered after its commit, so that the writer, which every write waits for, is not held.
func (a *App) ClaimDeliveries(ctx context.Context, limit int) ([]webhook.Job, error) {
	if none, err := a.webhooksNone(ctx); none || err != nil {
		return nil, err
	}
	var claimed []domain.Delivery
	now := a.Now()
	err := a.store.Write(ctx, func(tx store.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, now, now.Add(deliveryLease), limit)
		return err
	})
	a.claimedSome.Store(len(claimed) > 0)
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	var jobs []webhook.Job
	err = a.read(ctx, func(tx store.Tx) error {
		var err error
		jobs, err = a.jobs(ctx, tx, claimed, now)
		return err
	})
	return jobs, err
}

// webhooksNone reports that no webhook exists. The dispatcher looks after every write; without
// any webhook, a read is all it costs (a claim is a write, and writes queue behind each other),
// once per NoWebhooksTTL. While claims find deliveries, webhooks exist: it reads nothing.
func (a *App) webhooksNone(ctx context.Context) (bool, error) {
	if a.claimedSome.Load() {
		return false, nil
	}
	if _, none := a.noWebhooks.Get(""); none {
		return true, nil
	}
	generation := a.noWebhooks.Generation()
	var any []domain.Webhook
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		any, _, err = tx.ListWebhooks(ctx, "", store.Page{Size: 1})
		return err
	})
	if err != nil {
		return false, err
	}
	if len(any) == 0 {
		a.noWebhooks.Put("", struct{}{}, generation)
	}
	return len(any) == 0, nil
}

// jobs loads what sending each claimed delivery needs: its webhook and its rendered event.
func (a *App) jobs(ctx context.Context, tx store.Tx, claimed []domain.Delivery, now time.Time) ([]webhook.Job, error) {
	eventIDs := make([]string, len(claimed))
	for i, d := range claimed {
		eventIDs[i] = d.EventID
	}
	list, err := tx.GetEvents(ctx, eventIDs)
	if err != nil {
		return nil, err
	}
	events := make(map[string]domain.Event, len(list))
	for _, e := range list {
		events[e.ID] = e
	}
	hooks := map[string]domain.Webhook{}
	jobs := make([]webhook.Job, 0, len(claimed))
	for _, d := range claimed {
		w, ok := hooks[d.WebhookID]
		if !ok {
			if w, err = tx.GetWebhook(ctx, d.WebhookID); err != nil {
				return nil, err
			}
			hooks[w.ID] = w
		}
		e, ok := events[d.EventID]
		if !ok {
			continue // a server fault, as below
		}
		data, err := a.renderEvent(e, w.Responsible(e))
		if err != nil {
			// A server fault, not the endpoint's: this one stays leased and is tried again
			// when the lease ends, and holds up no other conversation.
			continue
		}
		jobs = append(jobs, webhook.Job{Delivery: d, Request: webhook.Request{
			URL: w.URL, ID: d.ID, Secrets: w.SigningSecrets(now),
			Body: webhook.Body(string(e.Type), e.Time, data),
		}})
	}
	return jobs, nil
}

// RecordAttempts stores the results of sending deliveries and what follows from each: the next
// retry or the dead letter, and the webhook's deactivation with its policy's consequences. It
// implements webhook.Source. They share one transaction (a write costs about the same for one
// result as for dozens); when that fails, each is recorded alone.
func (a *App) RecordAttempts(ctx context.Context, sent []webhook.Sent) error {
	if a.write(ctx, func(tx store.Tx) error { return a.recordBatch(ctx, tx, sent) }) == nil {
		return nil
	}
	var errs []error
	for _, s := range sent {
		errs = append(errs, a.recordAlone(ctx, s))
	}
	return errors.Join(errs...)
}

func (a *App) recordAlone(ctx context.Context, s webhook.Sent) error {
	// Failures of several conversations of one webhook race to count on the webhook's row
	// (between replicas); the loser of its revision check reads it again. Each loss means
	// another record went through, so the retries end; the bound only guards against a fault.
	for attempt := 1; ; attempt++ {
		err := a.write(ctx, func(tx store.Tx) error { return a.recordBatch(ctx, tx, []webhook.Sent{s}) })
		if !errors.Is(err, store.ErrConflict) || attempt == 100 {
			if err != nil {
				err = fmt.Errorf("delivery %s: %w", s.Delivery.ID, err)
			}
			return err
		}
	}
}

// recordBatch records the attempts in the order they finished, with a statement or two for
// all of them: their deliveries are read and written together, and each webhook is read once
// and written once, however many of its deliveries the batch holds.
func (a *App) recordBatch(ctx context.Context, tx store.Tx, batch []webhook.Sent) error {
	ids := make([]string, len(batch))
	for i, s := range batch {
		ids[i] = s.Delivery.ID
	}
	list, err := tx.GetDeliveries(ctx, ids)
	if err != nil {
		return err
	}
	deliveries := make(map[string]domain.Delivery, len(list))
	for _, d := range list {
		deliveries[d.ID] = d
	}
	var (
		now         = a.Now()
		attempts    = make([]domain.Attempt, 0, len(batch))
		hooks       = map[string]domain.Webhook{}
		changed     []string // webhooks to write, in the order they changed
		deactivated []string
	)
	for _, s := range batch {
		d, ok := deliveries[s.Delivery.ID]
		if !ok {
			continue // its webhook was deleted meanwhile
		}
		if d.State != domain.DeliveryStatePending {
			// Delivered by another sender after this one's lease ran out: log the attempt only.
			d.Attempts++
			deliveries[d.ID] = d
			attempts = append(attempts, domain.Attempt{DeliveryID: d.ID, Number: d.Attempts, Time: now,
				StatusCode: s.Result.StatusCode, Error: s.Result.Describe(), Latency: s.Result.Latency})
			continue
		}
		w, ok := hooks[d.WebhookID]
		if !ok {
			if w, err = tx.GetWebhook(ctx, d.WebhookID); err != nil {
				return err
			}
		}
		out := domain.RecordAttempt(w, d, s.Result, a.retry, now)
		deliveries[d.ID], hooks[w.ID] = out.Delivery, out.Webhook
		attempts = append(attempts, out.Attempt)
		if out.WebhookChanged && !slices.Contains(changed, w.ID) {
			changed = append(changed, w.ID)
		}
		if out.Deactivated {
			deactivated = append(deactivated, w.ID)
		}
	}
	updated := make([]domain.Delivery, 0, len(deliveries))
	for _, d := range list {
		updated = append(updated, deliveries[d.ID])
	}
	if err := tx.UpdateDeliveries(ctx, updated); err != nil {
		return err
	}
	if err := tx.AddAttempts(ctx, attempts); err != nil {
		return err
	}
	for _, id := range changed {
		if err := tx.UpdateWebhook(ctx, hooks[id]); err != nil {
			return err
		}
	}
	for _, id := range deactivated {
		if err := a.deactivated(ctx, tx, hooks[id]); err != nil {
			return err
		}
	}
	return nil
}

// deactivated announces a webhook's deactivation and applies its policy: under handoff the
// bot becomes unreachable and loses its open conversations to their default queues.
func (a *App) deactivated(ctx context.Context, tx store.Tx, w domain.Webhook) error {
	ev := domain.WebhookEvent(w, domain.EventWebhookDeactivated, domain.System, w.UpdateTime, ids.New)
	if _, err := tx.AppendEvents(ctx, []domain.Event{ev}); err != nil {
		return err
	}
	if w.BotID == "" || w.InactivePolicy != domain.PolicyHandoff {
		return nil
	}
	if err := a.setBotReachable(ctx, tx, w.BotID, false); err != nil {
		return err
	}
	return a.handOffBotConversations(ctx, tx, w.BotID)
}

// setBotReachable sets the bot's Unreachable flag, if it has to change.
func (a *App) setBotReachable(ctx context.Context, tx store.Tx, botID string, reachable bool) error {
	if botID == "" {
		return nil
	}
	b, err := forUpdate(ctx, tx, store.KindBot, botID, tx.GetBot)
	if err != nil || b.Unreachable == !reachable {
		return err
	}
	b.Unreachable = !reachable
	b.UpdateTime = a.Now()
	return tx.UpdateBot(ctx, b)
}

// handOffBotConversations moves every open conversation the bot owns to its default owner. It
// lists them all first, and locks them in id order, as every Write that locks several does.
func (a *App) handOffBotConversations(ctx context.Context, tx store.Tx, botID string) error {
	q := store.ConversationQuery{OwnerKind: domain.OwnerBot, OwnerID: botID, State: domain.ConversationOpen}
	page := store.Page{Size: timerBatch}
	var ids []string
	for {
		list, next, err := tx.ListConversations(ctx, q, page)
		if err != nil {
			return err
		}
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := a.botUnreachable(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) botUnreachable(ctx context.Context, tx store.Tx, conversationID string) error {
	s, err := a.situation(ctx, tx, conversationID)
	if err != nil {
		return err
	}
	r, err := a.routing(ctx, tx, s.Channel.DefaultQueueID)
	if err != nil {
		return err
	}
	change, ok := domain.BotUnreachable(s, r)
	if !ok {
		return nil
	}
	return a.traced(ctx, "bot_unreachable", func(ctx context.Context) (domain.Change, error) {
		_, err := apply(ctx, tx, change)
		return change, err
	})
}
