// Package app is Baton's application layer: one method per use case, each one transaction that
// loads the state, asks the domain rules what changes, and stores the new state together with
// its events. RPC handlers, webhook adapters and timers all call it.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/ttlcache"
)

// Clock tells the time. Tests inject one they can move.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// Config configures an App.
type Config struct {
	Store store.Store
	Clock Clock // SystemClock when nil
	// Tracer traces ownership transitions; a no-op tracer when nil.
	Tracer trace.Tracer
	// Notify is called after every commit that stored events, so subscribers are woken.
	Notify func()
	// Committed, when set, is given the events of every commit that stored some, as stored
	// (metrics count them).
	Committed func(ctx context.Context, events []domain.Event)
	// Queued is called after a commit that queued outbound work here (a message to send
	// through its channel, deliveries to send again), so senders look at once.
	Queued func()
	// HeartbeatTimeout is how long an agent stays online without a heartbeat.
	HeartbeatTimeout time.Duration
	// OffersHoldSeats counts the live offers made to an agent toward its capacity when
	// routing: an agent is offered no more conversations than it has free seats. Accepting is
	// limited by accepted conversations alone either way.
	OffersHoldSeats bool
	// KeyDeleted is told about every revoked API key, so caches can drop it.
	KeyDeleted func(id string)
	// ChannelChanged is told about every channel updated, bound, unbound or deleted, once
	// committed, so caches can drop it.
	ChannelChanged func(id string)
	// Verifier runs webhook verification handshakes.
	Verifier Verifier
	// RenderEvent encodes events for webhook deliveries.
	RenderEvent RenderEvent
	// Retry is the webhook retry policy; domain.DefaultRetryPolicy when its schedule is empty.
	Retry domain.RetryPolicy
	// NoWebhooksTTL is how long the webhook dispatcher may trust it found no webhook at all, so
	// that a server without webhooks spends a read per TTL on them rather than one per write.
	// A webhook created on another replica is then dispatched within it. 0 trusts nothing.
	NoWebhooksTTL time.Duration
}

// App implements Baton's use cases.
type App struct {
	store            store.Store
	clock            Clock
	tracer           trace.Tracer
	notify           func()
	committed        func(context.Context, []domain.Event)
	queued           func()
	heartbeatTimeout time.Duration
	offersHoldSeats  bool
	keyDeleted       func(string)
	channelChanged   func(string)
	verifier         Verifier
	renderEvent      RenderEvent
	retry            domain.RetryPolicy
	noWebhooks       *ttlcache.Cache[struct{}] // holds "" while no webhook is known to exist
	claimedSome      atomic.Bool               // the last claim of deliveries found some
	eraseBatch       int                       // rows per transaction of an erasure; tests lower it
}

// DefaultHeartbeatTimeout is how long an agent stays online without a heartbeat by default.
const DefaultHeartbeatTimeout = 90 * time.Second

// New returns an App.
func New(cfg Config) *App {
	a := &App{
		store:            cfg.Store,
		clock:            cfg.Clock,
		tracer:           cfg.Tracer,
		notify:           cfg.Notify,
		committed:        cfg.Committed,
		queued:           cfg.Queued,
		heartbeatTimeout: cfg.HeartbeatTimeout,
		offersHoldSeats:  cfg.OffersHoldSeats,
		keyDeleted:       cfg.KeyDeleted,
		channelChanged:   cfg.ChannelChanged,
		verifier:         cfg.Verifier,
		renderEvent:      cfg.RenderEvent,
		retry:            cfg.Retry,
	}
	a.eraseBatch = eraseBatch
	if cfg.NoWebhooksTTL > 0 {
		a.noWebhooks = ttlcache.New[struct{}](cfg.NoWebhooksTTL)
	}
	if len(a.retry.Schedule) == 0 {
		a.retry = domain.DefaultRetryPolicy
	}
	if a.clock == nil {
		a.clock = SystemClock
	}
	if a.tracer == nil {
		a.tracer = noop.NewTracerProvider().Tracer("")
	}
	if a.notify == nil {
		a.notify = func() {}
	}
	if a.queued == nil {
		a.queued = func() {}
	}
	if a.keyDeleted == nil {
		a.keyDeleted = func(string) {}
	}
	if a.channelChanged == nil {
		a.channelChanged = func(string) {}
	}
	if a.verifier == nil {
		a.verifier = noVerifier{}
	}
	if a.renderEvent == nil {
		a.renderEvent = func(e domain.Event, _ bool) ([]byte, error) { return json.Marshal(e) }
	}
	if a.heartbeatTimeout <= 0 {
		a.heartbeatTimeout = DefaultHeartbeatTimeout
	}
	return a
}

// Store is the app's store, for readers such as the event stream.
func (a *App) Store() store.Store { return a.store }

// Now is the app's clock.
func (a *App) Now() time.Time { return a.clock.Now().UTC() }

// Bootstrap creates what a fresh database needs: the built-in default queue.
func (a *App) Bootstrap(ctx context.Context) error {
	err := a.store.Write(ctx, func(tx store.Tx) error {
		_, err := tx.GetQueue(ctx, domain.DefaultQueueID)
		if !isNotFound(err) {
			return err
		}
		now := a.Now()
		return tx.CreateQueue(ctx, domain.Queue{
			ID: domain.DefaultQueueID, DisplayName: "Default", OfferTimeout: domain.DefaultOfferTimeout,
			CreateTime: now, UpdateTime: now,
		})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil // another replica starting at the same time created it
	}
	return err
}

// write runs fn in a write transaction and, after the commit, announces any events it stored.
func (a *App) write(ctx context.Context, fn func(tx store.Tx) error) error {
	return a.notifying(ctx, fn, func(fn func(store.Tx) error) error { return a.store.Write(ctx, fn) })
}

// writeInbound is write for storing the inbound message q names (see
// store.Store.WriteInbound).
func (a *App) writeInbound(ctx context.Context, q store.InboundQuery, fn func(tx store.Tx) error) error {
	return a.notifying(ctx, fn, func(fn func(store.Tx) error) error { return a.store.WriteInbound(ctx, q, fn) })
}

// notifying runs fn through write and, once committed, notifies if fn appended events, and
// wakes the senders if it stored a message to send.
func (a *App) notifying(ctx context.Context, fn func(tx store.Tx) error, write func(func(store.Tx) error) error) error {
	var appended []domain.Event
	var sends bool
	err := write(func(tx store.Tx) error {
		appended, sends = appended[:0], false // fn may run again
		return fn(&eventTx{Tx: tx, appended: &appended, sends: &sends})
	})
	if err == nil && len(appended) > 0 {
		a.notify()
		if a.committed != nil {
			a.committed(ctx, appended)
		}
	}
	if err == nil && sends {
		a.queued()
	}
	return err
}

// eventTx keeps the events appended, so write knows whether to notify, and notes whether
// messages to send were stored (acknowledgements), so it knows whether to wake the senders.
type eventTx struct {
	store.Tx
	appended *[]domain.Event
	sends    *bool
}

func (t *eventTx) CreateMessage(ctx context.Context, m domain.Message) error {
	err := t.Tx.CreateMessage(ctx, m)
	if err == nil && m.Direction == domain.Outbound && m.Status == domain.DeliveryPending {
		*t.sends = true
	}
	return err
}

func (t *eventTx) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	stored, err := t.Tx.AppendEvents(ctx, events)
	if err == nil {
		*t.appended = append(*t.appended, stored...)
	}
	return stored, err
}

func (a *App) read(ctx context.Context, fn func(tx store.Tx) error) error {
	return a.store.Read(ctx, fn)
}

// situation loads everything the rules need about one conversation.
func (a *App) situation(ctx context.Context, tx store.Tx, conversationID string) (domain.Situation, error) {
	conv, err := tx.GetConversation(ctx, conversationID)
	if err != nil {
		return domain.Situation{}, err
	}
	s := domain.Situation{Now: a.Now(), Conversation: conv, NewID: ids.New}
	if s.Channel, err = tx.GetChannel(ctx, conv.ChannelID); err != nil {
		return s, err
	}
	if s.Contact, err = tx.GetContact(ctx, conv.ContactID); err != nil {
		return s, err
	}
	if s.Bot, err = boundBot(ctx, tx, s.Channel); err != nil {
		return s, err
	}
	s.Active, err = activeHandover(ctx, tx, conv)
	return s, err
}

// activeHandover loads the conversation's live handover, if it has one.
func activeHandover(ctx context.Context, tx store.Tx, conv domain.Conversation) (*domain.Handover, error) {
	if conv.ActiveHandoverID == "" {
		return nil, nil
	}
	h, err := tx.GetHandover(ctx, conv.ActiveHandoverID)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func boundBot(ctx context.Context, tx store.Tx, ch domain.Channel) (*domain.Bot, error) {
	if ch.BotID == "" {
		return nil, nil
	}
	b, err := tx.GetBot(ctx, ch.BotID)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// routing loads a queue and the online agents who might take its conversations, and, when
// the queue tells customers how long they may wait, an estimate of it.
func (a *App) routing(ctx context.Context, tx store.Tx, queueID string) (domain.Routing, error) {
	q, err := tx.GetQueue(ctx, queueID)
	if err != nil {
		return domain.Routing{}, err
	}
	r := domain.Routing{Queue: q}
	if r.Agents, err = a.onlineAgents(ctx, tx); err != nil {
		return r, err
	}
	if q.Policy.Acknowledgements.Sends(domain.AckQueued) {
		r.EstimatedWait, err = estimatedWait(ctx, tx, q.ID)
	}
	return r, err
}

// waitSample bounds how many engaged handovers estimate a queue's wait.
const waitSample = 50

// estimatedWait is the mean time to accept of the queue's handovers agents hold now (takeovers
// and transfers left out); 0 when there are none. Engaged handovers are few (at most the
// agents' capacity) and indexed by queue and state, so the estimate costs one small read
// however long the queue's history.
func estimatedWait(ctx context.Context, tx store.Tx, queueID string) (time.Duration, error) {
	hs, _, err := tx.ListHandovers(ctx, store.HandoverQuery{
		QueueID: queueID, States: []domain.HandoverState{domain.HandoverAccepted},
	}, store.Page{Size: waitSample})
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	n := 0
	for _, h := range hs {
		if h.RequestedBy.Kind != domain.ActorAgent { // takeovers and transfers never waited as a handoff
			sum += h.TimeToAccept()
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return sum / time.Duration(n), nil
}

// speaking loads into s the queue that speaks to the customer (domain.Situation.Queue): the
// live handover's queue, otherwise the channel's default queue.
func speaking(ctx context.Context, tx store.Tx, s *domain.Situation) error {
	id := s.Channel.DefaultQueueID
	if s.Active != nil && s.Active.QueueID != "" {
		id = s.Active.QueueID
	}
	q, err := tx.GetQueue(ctx, id)
	if isNotFound(err) {
		return nil // nothing to say
	}
	if err != nil {
		return err
	}
	s.Queue = &q
	return nil
}

// maxRoutedAgents bounds how many online agents one routing decision considers.
const maxRoutedAgents = 1000

// onlineAgents lists the agents routing may pick, with their load: with OffersHoldSeats, the
// offers made to them count as conversations they hold.
func (a *App) onlineAgents(ctx context.Context, tx store.Tx) ([]domain.Agent, error) {
	agents, _, err := tx.ListAgents(ctx, store.AgentQuery{Presence: domain.PresenceOnline}, store.Page{Size: maxRoutedAgents})
	if a.offersHoldSeats {
		for i := range agents {
			agents[i].Active += agents[i].Offered
		}
	}
	return agents, err
}

// apply stores a Change: the conversation (guarded by the revision it was read at), the
// handovers, and the events, all in the caller's transaction.
func apply(ctx context.Context, tx store.Tx, ch domain.Change) ([]domain.Event, error) {
	if err := tx.UpdateConversation(ctx, ch.Conversation); err != nil {
		return nil, err
	}
	if err := createMessages(ctx, tx, ch); err != nil {
		return nil, err
	}
	for _, e := range ch.Events {
		if e.Conversation != nil {
			e.Conversation.Revision = ch.Conversation.Revision + 1 // the snapshot as stored
		}
	}
	if err := saveHandovers(ctx, tx, ch); err != nil {
		return nil, err
	}
	return tx.AppendEvents(ctx, ch.Events)
}

// createMessages stores the messages Baton sends the customer in the change (its
// acknowledgements), pending in the outbox.
func createMessages(ctx context.Context, tx store.Tx, ch domain.Change) error {
	for _, m := range ch.Messages {
		if err := tx.CreateMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// saveHandovers stores the handovers of a change. One created carries the span in ctx (its
// handoff's), which the spans of its later steps link to.
func saveHandovers(ctx context.Context, tx store.Tx, ch domain.Change) error {
	tp := store.TraceParent(ctx)
	for _, h := range ch.Created {
		h.TraceParent = tp
		if err := tx.CreateHandover(ctx, h); err != nil {
			return err
		}
	}
	for _, h := range ch.Updated {
		if err := tx.UpdateHandover(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// traced runs one ownership transition in a span that records the conversation, the handover,
// and the owner change with its epoch. A step of a handover begun earlier (accept, decline,
// expiry, handback...) links to the handoff's span, so one handover's lifecycle reads as one
// trace however far apart its steps are.
func (a *App) traced(ctx context.Context, name string, fn func(ctx context.Context) (domain.Change, error)) error {
	ctx, span := a.tracer.Start(ctx, "baton.ownership."+name)
	defer span.End()
	ch, err := fn(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	span.SetAttributes(transitionAttributes(ch)...)
	linked := map[trace.SpanID]bool{}
	for _, h := range ch.Updated {
		if sc := spanContextOf(h.TraceParent); sc.IsValid() && !linked[sc.SpanID()] {
			linked[sc.SpanID()] = true
			span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{
				attribute.String("baton.link", "handoff"), attribute.String("baton.handover.id", h.ID)}})
		}
	}
	return nil
}

// spanContextOf parses a W3C traceparent; the result is invalid when there is none.
func spanContextOf(traceParent string) trace.SpanContext {
	if traceParent == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceParent})
	return trace.SpanContextFromContext(ctx)
}

// recordOwnerChanges traces the ownership changes a rule made as a side effect of another use
// case (a customer message reopening a conversation or leaving a muted bot), which are not
// traced as transitions of their own.
func (a *App) recordOwnerChanges(ctx context.Context, name string, ch domain.Change) {
	for _, e := range ch.Events {
		if e.OwnerChange != nil {
			_, span := a.tracer.Start(ctx, "baton.ownership."+name)
			span.SetAttributes(transitionAttributes(ch)...)
			span.End()
			return
		}
	}
}

func transitionAttributes(ch domain.Change) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attribute.String("baton.conversation.id", ch.Conversation.ID),
		attribute.String("baton.owner.to", ch.Conversation.Owner.String()),
		attribute.Int64("baton.epoch", int64(ch.Conversation.Epoch)),
	}
	if h, ok := ch.Handover(); ok {
		kv = append(kv, attribute.String("baton.handover.id", h.ID), attribute.String("baton.handover.state", string(h.State)))
		if h.FailureReason != "" {
			kv = append(kv, attribute.String("baton.handover.failure_reason", string(h.FailureReason)))
		}
	}
	for _, e := range ch.Events {
		if e.OwnerChange != nil {
			kv = append(kv, attribute.String("baton.owner.from", e.OwnerChange.From.String()))
			break
		}
	}
	return kv
}

func isNotFound(err error) bool {
	var nf *domain.NotFoundError
	return errors.As(err, &nf)
}

// forUpdate reads a row the Write is about to update, under its lock (store.Tx.Lock): a
// concurrent update of the row waits for this Write, then reads what it committed, rather than
// fail on the revision. Rows are locked in the store's order: deliveries, webhooks, then bots,
// channels, agents and queues, then conversations, then contacts.
func forUpdate[T any](ctx context.Context, tx store.Tx, kind store.Kind, id string, get func(context.Context, string) (T, error)) (T, error) {
	if err := tx.Lock(ctx, kind, id); err != nil {
		var zero T
		return zero, err
	}
	return get(ctx, id)
}

// etagMatches checks an optional etag against a revision.
func etagMatches(etag string, revision int64) error {
	if etag == "" || etag == formatRevision(revision) {
		return nil
	}
	return domain.ErrStaleEtag
}
