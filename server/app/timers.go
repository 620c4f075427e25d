package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/codes"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// timerBatch bounds how many items of each kind one timer pass handles.
const timerBatch = 200

// RunTimers acts once on everything due at the app's current time: expired offers, idle
// conversations, expired mutes, agents whose heartbeats stopped, waiting conversations an agent
// has become free for, erasures cut short, customers their bot left unanswered too long, and SLA
// breaches. Each item is its own transaction that re-checks it is still due, so a pass can run
// concurrently with requests (and, on a shared database, on every replica) without acting twice.
func (a *App) RunTimers(ctx context.Context) error {
	return errors.Join(
		a.expireOffers(ctx),
		a.expireSessions(ctx),
		a.expireMutes(ctx),
		a.expireHeartbeats(ctx),
		a.reoffer(ctx),
		a.resumeErasures(ctx),
		a.handOffUnanswered(ctx),
		a.breachSLAs(ctx),
	)
}

// each lists due items in a read transaction and handles each in its own write transaction.
func each[T any](ctx context.Context, a *App, list func(store.Tx) ([]T, error), handle func(store.Tx, T) error) error {
	var items []T
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		items, err = list(tx)
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, item := range items {
		if err := a.write(ctx, func(tx store.Tx) error { return handle(tx, item) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *App) expireOffers(ctx context.Context) error {
	return each(ctx, a,
		func(tx store.Tx) ([]domain.Handover, error) { return tx.DueOffers(ctx, a.Now(), timerBatch) },
		func(tx store.Tx, h domain.Handover) error {
			return a.endOffer(ctx, tx, "expire_offer", h, domain.ExpireOffer)
		})
}

// endOffer applies an offer-ending rule to a handover's live offer, judged on the state read
// under the conversation's lock: another replica may have handled it a moment ago.
func (a *App) endOffer(ctx context.Context, tx store.Tx, name string, h domain.Handover,
	rule func(domain.Situation, domain.Handover, domain.Routing) (domain.Change, error)) error {
	r, err := a.routing(ctx, tx, h.QueueID)
	if err != nil {
		return err
	}
	return a.timerTransition(ctx, tx, name, h.ConversationID, func(s domain.Situation) (domain.Change, bool) {
		if s.Active == nil || s.Active.ID != h.ID || s.Active.OfferedAgentID != h.OfferedAgentID {
			return domain.Change{}, false
		}
		change, err := rule(s, *s.Active, r)
		return change, err == nil
	})
}

func (a *App) expireSessions(ctx context.Context) error {
	return each(ctx, a,
		func(tx store.Tx) ([]domain.Conversation, error) {
			return tx.DueIdleConversations(ctx, a.Now(), timerBatch)
		},
		func(tx store.Tx, c domain.Conversation) error {
			return a.timerTransition(ctx, tx, "session_timeout", c.ID, func(s domain.Situation) (domain.Change, bool) {
				return domain.SessionTimeout(s)
			})
		})
}

// timerTransition applies a timer rule to one conversation, if it is still due.
func (a *App) timerTransition(ctx context.Context, tx store.Tx, name, conversationID string, rule func(domain.Situation) (domain.Change, bool)) error {
	s, err := a.situation(ctx, tx, conversationID)
	if err != nil {
		return err
	}
	if err := speaking(ctx, tx, &s); err != nil {
		return err
	}
	change, ok := rule(s)
	if !ok {
		return nil
	}
	return a.traced(ctx, name, func(ctx context.Context) (domain.Change, error) {
		_, err := apply(ctx, tx, change)
		return change, err
	})
}

func (a *App) expireMutes(ctx context.Context) error {
	conversations := each(ctx, a,
		func(tx store.Tx) ([]domain.Conversation, error) {
			return tx.DueMutedConversations(ctx, a.Now(), timerBatch)
		},
		func(tx store.Tx, c domain.Conversation) error {
			return a.timerTransition(ctx, tx, "mute_expired", c.ID, domain.ExpireMute)
		})
	contacts := each(ctx, a,
		func(tx store.Tx) ([]domain.Contact, error) { return tx.DueMutedContacts(ctx, a.Now(), timerBatch) },
		func(tx store.Tx, c domain.Contact) error {
			c, err := contactForUpdate(ctx, tx, c.ID)
			if err != nil || c.BotMutedUntil.IsZero() || a.Now().Before(c.BotMutedUntil) {
				return err
			}
			c.BotMutedUntil = time.Time{}
			c.UpdateTime = a.Now()
			if err := tx.UpdateContact(ctx, c); err != nil {
				return err
			}
			c.Revision++ // the snapshot as stored
			ch, err := tx.GetChannel(ctx, c.ChannelID)
			if err != nil {
				return err
			}
			_, err = tx.AppendEvents(ctx, []domain.Event{domain.ContactMuteEvent(c, ch, domain.EventBotUnmuted, domain.System, a.Now(), ids.New)})
			return err
		})
	return errors.Join(conversations, contacts)
}

func (a *App) expireHeartbeats(ctx context.Context) error {
	return each(ctx, a,
		func(tx store.Tx) ([]domain.Agent, error) {
			return tx.ListAgentsSeenBefore(ctx, a.Now().Add(-a.heartbeatTimeout), timerBatch)
		},
		func(tx store.Tx, ag domain.Agent) error {
			ag, err := forUpdate(ctx, tx, store.KindAgent, ag.ID, tx.GetAgent)
			if err != nil || ag.Presence == domain.PresenceOffline || ag.LastSeenTime.After(a.Now().Add(-a.heartbeatTimeout)) {
				return err
			}
			_, err = a.setPresence(ctx, tx, ag, domain.PresenceOffline, domain.System)
			return err
		})
}

// maxWaitingScan bounds how many waiting handovers one pass looks at.
const maxWaitingScan = 10_000

func (a *App) reoffer(ctx context.Context) error {
	return each(ctx, a, func(tx store.Tx) ([]domain.Handover, error) { return a.offerable(ctx, tx) },
		func(tx store.Tx, h domain.Handover) error {
			r, err := a.routing(ctx, tx, h.QueueID)
			if err != nil {
				return err
			}
			return a.timerTransition(ctx, tx, "offer", h.ConversationID, func(s domain.Situation) (domain.Change, bool) {
				if s.Active == nil || s.Active.ID != h.ID {
					return domain.Change{}, false
				}
				return domain.Reoffer(s, *s.Active, r)
			})
		})
}

// offerable lists the waiting handovers (the highest priority first, then the longest
// waiting) that some online agent could be offered
// now. Deciding that from one read, before any write, keeps a pass cheap when most of the
// queue waits for agents who are busy, and lets a young handover an agent can take be offered
// however many older ones nobody can.
func (a *App) offerable(ctx context.Context, tx store.Tx) ([]domain.Handover, error) {
	agents, err := a.onlineAgents(ctx, tx)
	if err != nil || !slices.ContainsFunc(agents, domain.HasCapacity) {
		return nil, err // nobody could take anything
	}
	queues := map[string]domain.Queue{}
	var out []domain.Handover
	page := store.Page{Size: timerBatch}
	q := store.HandoverQuery{States: []domain.HandoverState{domain.HandoverRequested}, ByPriority: true}
	for scanned := 0; scanned < maxWaitingScan && len(out) < timerBatch; {
		waiting, next, err := tx.ListHandovers(ctx, q, page)
		if err != nil {
			return nil, err
		}
		for _, h := range waiting {
			queue, ok := queues[h.QueueID]
			if !ok {
				if queue, err = tx.GetQueue(ctx, h.QueueID); err != nil {
					return nil, err
				}
				queues[h.QueueID] = queue
			}
			if _, ok := domain.PickAgent(h, queue, agents); ok {
				out = append(out, h)
			}
		}
		scanned += len(waiting)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	return out, nil
}

// Scheduler runs the timers every interval until its context ends. Each transition a pass
// makes is a span of its own (App.traced); a pass that fails is told to OnError inside a span
// that records the error, so that its log record carries a trace id too. An idle pass makes
// no span: one every second would bury the traces that matter.
type Scheduler struct {
	App      *App
	Interval time.Duration
	// OnError is told about a failed pass, with a context holding its span; the next pass
	// retries.
	OnError func(ctx context.Context, err error)
}

// Run blocks until ctx is done.
func (s Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.App.RunTimers(ctx); err != nil && s.OnError != nil && ctx.Err() == nil {
				ctx, span := s.App.tracer.Start(ctx, "baton.timers")
				span.SetStatus(codes.Error, err.Error())
				s.OnError(ctx, err)
				span.End()
			}
		}
	}
}
