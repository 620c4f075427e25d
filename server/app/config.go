package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

func formatRevision(r int64) string { return strconv.FormatInt(r, 10) }

func requireAdmin(p domain.Principal) error {
	if !domain.CanAdminister(p) {
		return domain.Forbidden("only an admin key may change configuration")
	}
	return nil
}

// idempotent runs create once per (principal, kind, request id): a retry returns the id the
// first call created, and get reads it.
func (a *App) idempotent(ctx context.Context, tx store.Tx, p domain.Principal, kind, requestID string, create func() (string, error)) (string, error) {
	if requestID == "" {
		return create()
	}
	scope := "create_" + kind + ":" + p.KeyID
	if id, err := tx.LookupRequest(ctx, scope, requestID); err != nil || id != "" {
		return id, err
	}
	id, err := create()
	if err != nil {
		return "", err
	}
	return id, tx.RememberRequest(ctx, scope, requestID, id, a.Now())
}

// CreateChannel registers a channel.
func (a *App) CreateChannel(ctx context.Context, p domain.Principal, c domain.Channel, requestID string) (domain.Channel, error) {
	if err := requireAdmin(p); err != nil {
		return c, err
	}
	if err := domain.CheckCredentials(c.Kind, c.Credentials); err != nil {
		return c, err
	}
	if err := c.Retention.Check(); err != nil {
		return c, err
	}
	var out domain.Channel
	err := a.write(ctx, func(tx store.Tx) error {
		id, err := a.idempotent(ctx, tx, p, "channel", requestID, func() (string, error) {
			c.ID = ids.New("ch")
			c.BotID = ""
			c.DefaultQueueID = cmpOr(c.DefaultQueueID, domain.DefaultQueueID)
			c.SessionTimeout = cmpOr(c.SessionTimeout, domain.DefaultSessionTimeout)
			c.CreateTime, c.UpdateTime = a.Now(), a.Now()
			if _, err := tx.GetQueue(ctx, c.DefaultQueueID); err != nil {
				return "", err
			}
			if err := checkAutoHandoff(ctx, tx, c.AutoHandoff); err != nil {
				return "", err
			}
			return c.ID, tx.CreateChannel(ctx, c)
		})
		if err != nil {
			return err
		}
		out, err = tx.GetChannel(ctx, id)
		return err
	})
	return out, err
}

func cmpOr[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}

// GetChannel returns a channel as the principal may see it (domain.CanSeeChannel,
// domain.ChannelView).
func (a *App) GetChannel(ctx context.Context, p domain.Principal, id string) (domain.Channel, error) {
	var out domain.Channel
	err := a.read(ctx, func(tx store.Tx) error {
		if err := a.canSeeChannel(ctx, tx, p, id, ref{"channel", id}); err != nil {
			return err
		}
		var err error
		out, err = tx.GetChannel(ctx, id)
		out = domain.ChannelView(p, out)
		return err
	})
	return out, err
}

// ListChannels lists channels for admins and services, and for agents those they may see, as
// they may see them.
func (a *App) ListChannels(ctx context.Context, p domain.Principal, kind domain.ChannelKind, page store.Page) ([]domain.Channel, string, error) {
	if p.Role == domain.PrincipalBot {
		return nil, "", domain.Forbidden("bots read their channels with GetChannel")
	}
	var out []domain.Channel
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		agent, err := a.callingAgent(ctx, tx, p)
		if err != nil {
			return err
		}
		list, n, err := tx.ListChannels(ctx, kind, page)
		if err != nil {
			return err
		}
		next = n
		for _, ch := range list {
			if domain.CanSeeChannel(p, ch, agent) {
				out = append(out, domain.ChannelView(p, ch))
			}
		}
		return nil
	})
	return out, next, err
}

// ChannelUpdate changes a channel. Nil fields are kept.
type ChannelUpdate struct {
	ID             string
	Etag           string
	DisplayName    *string
	DefaultQueueID *string
	SessionTimeout *time.Duration
	Credentials    *domain.Credentials
	// Retention replaces the channel's whole policy.
	Retention   *domain.Retention
	AutoHandoff *domain.AutoHandoffPolicy
}

// UpdateChannel applies u.
func (a *App) UpdateChannel(ctx context.Context, p domain.Principal, u ChannelUpdate) (domain.Channel, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Channel{}, err
	}
	var out domain.Channel
	err := a.write(ctx, func(tx store.Tx) error {
		c, err := forUpdate(ctx, tx, store.KindChannel, u.ID, tx.GetChannel)
		if err != nil {
			return err
		}
		if err := etagMatches(u.Etag, c.Revision); err != nil {
			return err
		}
		setIf(&c.DisplayName, u.DisplayName)
		setIf(&c.SessionTimeout, u.SessionTimeout)
		setIf(&c.Credentials, u.Credentials)
		setIf(&c.Retention, u.Retention)
		if err := c.Retention.Check(); err != nil {
			return err
		}
		if err := domain.CheckCredentials(c.Kind, c.Credentials); err != nil {
			return err
		}
		if u.AutoHandoff != nil {
			if err := checkAutoHandoff(ctx, tx, *u.AutoHandoff); err != nil {
				return err
			}
			c.AutoHandoff = *u.AutoHandoff
		}
		if u.DefaultQueueID != nil {
			if _, err := tx.GetQueue(ctx, *u.DefaultQueueID); err != nil {
				return err
			}
			c.DefaultQueueID = *u.DefaultQueueID
		}
		c.UpdateTime = a.Now()
		if err := tx.UpdateChannel(ctx, c); err != nil {
			return err
		}
		out, err = tx.GetChannel(ctx, c.ID)
		return err
	})
	if err == nil {
		a.channelChanged(u.ID)
	}
	return out, err
}

// checkAutoHandoff refuses an automatic handoff policy that could not work.
func checkAutoHandoff(ctx context.Context, tx store.Tx, p domain.AutoHandoffPolicy) error {
	if err := p.Check("auto_handoff"); err != nil {
		return err
	}
	if p.QueueID != "" {
		_, err := tx.GetQueue(ctx, p.QueueID)
		return err
	}
	return nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// DeleteChannel deletes a channel that has no conversations.
func (a *App) DeleteChannel(ctx context.Context, p domain.Principal, id, etag string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	err := a.write(ctx, func(tx store.Tx) error {
		c, err := forUpdate(ctx, tx, store.KindChannel, id, tx.GetChannel)
		if err != nil {
			return err
		}
		if err := etagMatches(etag, c.Revision); err != nil {
			return err
		}
		n, err := tx.CountConversations(ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return domain.Precondition("conversations", "channel %s has %d conversations", id, n)
		}
		return tx.DeleteChannel(ctx, id)
	})
	if err == nil {
		a.channelChanged(id)
	}
	return err
}

// CreateBot registers a bot, active and unbound.
func (a *App) CreateBot(ctx context.Context, p domain.Principal, b domain.Bot, requestID string) (domain.Bot, error) {
	if err := requireAdmin(p); err != nil {
		return b, err
	}
	var out domain.Bot
	err := a.write(ctx, func(tx store.Tx) error {
		id, err := a.idempotent(ctx, tx, p, "bot", requestID, func() (string, error) {
			b.ID = ids.New("bot")
			b.Active = true
			b.ChannelIDs = nil
			b.CreateTime, b.UpdateTime = a.Now(), a.Now()
			if err := checkAutoHandoff(ctx, tx, b.AutoHandoff); err != nil {
				return "", err
			}
			return b.ID, tx.CreateBot(ctx, b)
		})
		if err != nil {
			return err
		}
		out, err = tx.GetBot(ctx, id)
		return err
	})
	return out, err
}

// GetBot returns a bot the principal may see (domain.CanSeeBot).
func (a *App) GetBot(ctx context.Context, p domain.Principal, id string) (domain.Bot, error) {
	var out domain.Bot
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		if out, err = tx.GetBot(ctx, id); err != nil {
			return err
		}
		agent, err := a.callingAgent(ctx, tx, p)
		if err != nil {
			return err
		}
		var readErr error
		visible := func(channelID string) bool {
			ch, err := tx.GetChannel(ctx, channelID)
			if err != nil {
				readErr = err
				return false
			}
			return domain.CanSeeChannel(p, ch, agent)
		}
		if !domain.CanSeeBot(p, out, visible) {
			return cmpOr(readErr, domain.NotFound("bot", id))
		}
		return nil
	})
	return out, err
}

// ListBots lists bots (admins and services).
func (a *App) ListBots(ctx context.Context, p domain.Principal, page store.Page) ([]domain.Bot, string, error) {
	if p.Role != domain.PrincipalAdmin && p.Role != domain.PrincipalService {
		return nil, "", domain.Forbidden("only admins and services may list bots")
	}
	var out []domain.Bot
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.ListBots(ctx, page)
		return err
	})
	return out, next, err
}

// BotUpdate changes a bot. Nil fields are kept.
type BotUpdate struct {
	ID          string
	Etag        string
	DisplayName *string
	Standby     *bool
	Active      *bool
	AutoHandoff *domain.AutoHandoffPolicy
}

// UpdateBot applies u. ActivateBot and DeactivateBot are updates of Active.
func (a *App) UpdateBot(ctx context.Context, p domain.Principal, u BotUpdate) (domain.Bot, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Bot{}, err
	}
	var out domain.Bot
	err := a.write(ctx, func(tx store.Tx) error {
		b, err := forUpdate(ctx, tx, store.KindBot, u.ID, tx.GetBot)
		if err != nil {
			return err
		}
		if err := etagMatches(u.Etag, b.Revision); err != nil {
			return err
		}
		setIf(&b.DisplayName, u.DisplayName)
		setIf(&b.Standby, u.Standby)
		setIf(&b.Active, u.Active)
		if u.AutoHandoff != nil {
			if err := checkAutoHandoff(ctx, tx, *u.AutoHandoff); err != nil {
				return err
			}
			b.AutoHandoff = *u.AutoHandoff
		}
		b.UpdateTime = a.Now()
		if err := tx.UpdateBot(ctx, b); err != nil {
			return err
		}
		out, err = tx.GetBot(ctx, b.ID)
		return err
	})
	return out, err
}

// DeleteBot deletes a bot bound to no channel, with its webhook.
func (a *App) DeleteBot(ctx context.Context, p domain.Principal, id, etag string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return a.write(ctx, func(tx store.Tx) error {
		// Its webhook goes with it (at most one), deleted first: webhooks come before bots in
		// the lock order. Should the checks after fail, the deletion is rolled back.
		hooks, _, err := tx.ListWebhooks(ctx, id, store.Page{Size: 1})
		if err != nil {
			return err
		}
		for _, w := range hooks {
			if err := tx.DeleteWebhook(ctx, w.ID); err != nil {
				return err
			}
		}
		b, err := forUpdate(ctx, tx, store.KindBot, id, tx.GetBot)
		if err != nil {
			return err
		}
		if err := etagMatches(etag, b.Revision); err != nil {
			return err
		}
		if len(b.ChannelIDs) > 0 {
			return domain.Precondition("channels", "bot %s is bound to channels %v: unbind them first", id, b.ChannelIDs)
		}
		return tx.DeleteBot(ctx, id)
	})
}

// BindChannel makes the bot the channel's bot (replacing any other), or unbinds it.
func (a *App) BindChannel(ctx context.Context, p domain.Principal, botID, channelID string, bind bool) (domain.Bot, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Bot{}, err
	}
	var out domain.Bot
	err := a.write(ctx, func(tx store.Tx) error {
		if _, err := tx.GetBot(ctx, botID); err != nil {
			return err
		}
		c, err := forUpdate(ctx, tx, store.KindChannel, channelID, tx.GetChannel)
		if err != nil {
			return err
		}
		switch {
		case bind:
			c.BotID = botID
		case c.BotID == botID:
			c.BotID = ""
		default:
			return domain.Precondition("binding", "bot %s is not bound to channel %s", botID, channelID)
		}
		c.UpdateTime = a.Now()
		if err := tx.UpdateChannel(ctx, c); err != nil {
			return err
		}
		out, err = tx.GetBot(ctx, botID)
		return err
	})
	if err == nil {
		a.channelChanged(channelID)
	}
	return out, err
}

// CreateAgent registers an agent, offline.
func (a *App) CreateAgent(ctx context.Context, p domain.Principal, ag domain.Agent, requestID string) (domain.Agent, error) {
	if err := requireAdmin(p); err != nil {
		return ag, err
	}
	var out domain.Agent
	err := a.write(ctx, func(tx store.Tx) error {
		id, err := a.idempotent(ctx, tx, p, "agent", requestID, func() (string, error) {
			ag.ID = ids.New("agt")
			ag.Role = cmpOr(ag.Role, domain.RoleAgent)
			ag.Capacity = cmpOr(ag.Capacity, domain.DefaultCapacity)
			ag.Presence = domain.PresenceOffline
			ag.CreateTime, ag.UpdateTime = a.Now(), a.Now()
			if err := queuesExist(ctx, tx, ag.QueueIDs); err != nil {
				return "", err
			}
			return ag.ID, tx.CreateAgent(ctx, ag)
		})
		if err != nil {
			return err
		}
		out, err = tx.GetAgent(ctx, id)
		return err
	})
	return out, err
}

func queuesExist(ctx context.Context, tx store.Tx, queueIDs []string) error {
	for _, id := range queueIDs {
		if _, err := tx.GetQueue(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// GetAgent returns an agent. Agents may read any agent (to transfer to them).
func (a *App) GetAgent(ctx context.Context, p domain.Principal, id string) (domain.Agent, error) {
	if p.Role == domain.PrincipalBot {
		return domain.Agent{}, domain.Forbidden("bots may not read agents")
	}
	var out domain.Agent
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.GetAgent(ctx, id)
		return err
	})
	return out, err
}

// ListAgents lists agents.
func (a *App) ListAgents(ctx context.Context, p domain.Principal, q store.AgentQuery, page store.Page) ([]domain.Agent, string, error) {
	if p.Role == domain.PrincipalBot {
		return nil, "", domain.Forbidden("bots may not list agents")
	}
	var out []domain.Agent
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.ListAgents(ctx, q, page)
		return err
	})
	return out, next, err
}

// AgentUpdate changes an agent. Nil fields are kept.
type AgentUpdate struct {
	ID          string
	Etag        string
	DisplayName *string
	Role        *domain.AgentRole
	Team        *string
	Capacity    *int
	Skills      *[]string
	QueueIDs    *[]string
}

// UpdateAgent applies u.
func (a *App) UpdateAgent(ctx context.Context, p domain.Principal, u AgentUpdate) (domain.Agent, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Agent{}, err
	}
	var out domain.Agent
	err := a.write(ctx, func(tx store.Tx) error {
		ag, err := forUpdate(ctx, tx, store.KindAgent, u.ID, tx.GetAgent)
		if err != nil {
			return err
		}
		if err := etagMatches(u.Etag, ag.Revision); err != nil {
			return err
		}
		setIf(&ag.DisplayName, u.DisplayName)
		setIf(&ag.Role, u.Role)
		setIf(&ag.Team, u.Team)
		setIf(&ag.Capacity, u.Capacity)
		setIf(&ag.Skills, u.Skills)
		if u.QueueIDs != nil {
			if err := queuesExist(ctx, tx, *u.QueueIDs); err != nil {
				return err
			}
			ag.QueueIDs = *u.QueueIDs
		}
		ag.UpdateTime = a.Now()
		if err := tx.UpdateAgent(ctx, ag); err != nil {
			return err
		}
		out, err = tx.GetAgent(ctx, ag.ID)
		return err
	})
	return out, err
}

// DeleteAgent deletes an agent with no engagement.
func (a *App) DeleteAgent(ctx context.Context, p domain.Principal, id, etag string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return a.write(ctx, func(tx store.Tx) error {
		ag, err := forUpdate(ctx, tx, store.KindAgent, id, tx.GetAgent)
		if err != nil {
			return err
		}
		if err := etagMatches(etag, ag.Revision); err != nil {
			return err
		}
		if ag.Active > 0 {
			return domain.Precondition("engagements", "agent %s is engaged in %d conversations", id, ag.Active)
		}
		if err := noRuleSendsTo(ctx, tx, "agent", id, domain.Target{AgentID: id}); err != nil {
			return err
		}
		return tx.DeleteAgent(ctx, id)
	})
}

// SetPresence sets an agent's presence: agents their own, admins anyone's. Going offline
// withdraws the agent's live offers so they go to the next agent at once.
func (a *App) SetPresence(ctx context.Context, p domain.Principal, agentID string, presence domain.Presence) (domain.Agent, error) {
	agentID, err := selfOrAdmin(p, agentID)
	if err != nil {
		return domain.Agent{}, err
	}
	var out domain.Agent
	err = a.write(ctx, func(tx store.Tx) error {
		ag, err := forUpdate(ctx, tx, store.KindAgent, agentID, tx.GetAgent)
		if err != nil {
			return err
		}
		out, err = a.setPresence(ctx, tx, ag, presence, p.Actor())
		return err
	})
	return out, err
}

func (a *App) setPresence(ctx context.Context, tx store.Tx, ag domain.Agent, presence domain.Presence, actor domain.Actor) (domain.Agent, error) {
	ag, events := domain.SetPresence(ag, presence, actor, a.Now(), ids.New)
	if len(events) == 0 { // unchanged: only a sign of life
		return ag, tx.TouchAgent(ctx, ag.ID, ag.LastSeenTime)
	}
	if err := tx.UpdateAgent(ctx, ag); err != nil {
		return ag, err
	}
	ag.Revision++
	for _, e := range events {
		e.Agent.Revision = ag.Revision // the snapshot as stored
	}
	if _, err := tx.AppendEvents(ctx, events); err != nil {
		return ag, err
	}
	if presence == domain.PresenceOnline {
		return ag, nil
	}
	return ag, a.withdrawOffers(ctx, tx, ag.ID)
}

// withdrawOffers passes the live offers of an agent who is no longer online to the next agent,
// locking their conversations in id order, as every Write that locks several does.
func (a *App) withdrawOffers(ctx context.Context, tx store.Tx, agentID string) error {
	offers, _, err := tx.ListHandovers(ctx, store.HandoverQuery{AgentID: agentID, States: []domain.HandoverState{domain.HandoverOffered}}, store.Page{Size: 1000})
	if err != nil {
		return err
	}
	slices.SortFunc(offers, func(x, y domain.Handover) int { return strings.Compare(x.ConversationID, y.ConversationID) })
	for _, h := range offers {
		if h.OfferedAgentID != agentID {
			continue
		}
		if err := a.endOffer(ctx, tx, "withdraw_offer", h, domain.WithdrawOffer); err != nil {
			return err
		}
	}
	return nil
}

func selfOrAdmin(p domain.Principal, agentID string) (string, error) {
	switch {
	case p.Role == domain.PrincipalAgent && (agentID == "" || agentID == p.SubjectID):
		return p.SubjectID, nil
	case p.Role == domain.PrincipalAdmin && agentID != "":
		return agentID, nil
	}
	return "", domain.Forbidden("agents set their own presence; admins must name the agent")
}

// Heartbeat keeps the agent's presence alive and returns when the next one is due.
func (a *App) Heartbeat(ctx context.Context, p domain.Principal, agentID string) (domain.Agent, time.Duration, error) {
	agentID, err := selfOrAdmin(p, agentID)
	if err != nil {
		return domain.Agent{}, 0, err
	}
	var out domain.Agent
	err = a.write(ctx, func(tx store.Tx) error {
		ag, err := tx.GetAgent(ctx, agentID)
		if err != nil {
			return err
		}
		if err := tx.TouchAgent(ctx, ag.ID, a.Now()); err != nil {
			return err
		}
		out, err = tx.GetAgent(ctx, agentID)
		return err
	})
	return out, a.heartbeatTimeout, err
}

// CreateQueue creates a queue.
func (a *App) CreateQueue(ctx context.Context, p domain.Principal, q domain.Queue, requestID string) (domain.Queue, error) {
	if err := requireAdmin(p); err != nil {
		return q, err
	}
	var out domain.Queue
	err := a.write(ctx, func(tx store.Tx) error {
		id, err := a.idempotent(ctx, tx, p, "queue", requestID, func() (string, error) {
			q.ID = ids.New("q")
			q.OfferTimeout = cmpOr(q.OfferTimeout, domain.DefaultOfferTimeout)
			if err := checkPolicy(ctx, tx, q); err != nil {
				return "", err
			}
			q.CreateTime, q.UpdateTime = a.Now(), a.Now()
			if err := q.SLA.Check("sla"); err != nil {
				return "", err
			}
			return q.ID, tx.CreateQueue(ctx, q)
		})
		if err != nil {
			return err
		}
		out, err = tx.GetQueue(ctx, id)
		return err
	})
	return out, err
}

// GetQueue returns a queue.
func (a *App) GetQueue(ctx context.Context, p domain.Principal, id string) (domain.Queue, error) {
	var out domain.Queue
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.GetQueue(ctx, id)
		return err
	})
	return out, err
}

// ListQueues lists queues.
func (a *App) ListQueues(ctx context.Context, p domain.Principal, page store.Page) ([]domain.Queue, string, error) {
	var out []domain.Queue
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.ListQueues(ctx, page)
		return err
	})
	return out, next, err
}

// QueueUpdate changes a queue. Nil fields are kept.
type QueueUpdate struct {
	ID           string
	Etag         string
	DisplayName  *string
	Skills       *[]string
	OfferTimeout *time.Duration
	// Hours replaces the business hours when set; a nil *BusinessHours clears them.
	Hours            **domain.BusinessHours
	Acknowledgements *domain.Acknowledgements
	SLA              *domain.QueueSLA
}

// UpdateQueue applies u.
func (a *App) UpdateQueue(ctx context.Context, p domain.Principal, u QueueUpdate) (domain.Queue, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Queue{}, err
	}
	var out domain.Queue
	err := a.write(ctx, func(tx store.Tx) error {
		q, err := forUpdate(ctx, tx, store.KindQueue, u.ID, tx.GetQueue)
		if err != nil {
			return err
		}
		if err := etagMatches(u.Etag, q.Revision); err != nil {
			return err
		}
		setIf(&q.DisplayName, u.DisplayName)
		setIf(&q.Skills, u.Skills)
		setIf(&q.OfferTimeout, u.OfferTimeout)
		setIf(&q.Policy.Hours, u.Hours)
		setIf(&q.Policy.Acknowledgements, u.Acknowledgements)
		if err := checkPolicy(ctx, tx, q); err != nil {
			return err
		}
		if u.SLA != nil {
			if err := u.SLA.Check("sla"); err != nil {
				return err
			}
			q.SLA = *u.SLA
		}
		q.UpdateTime = a.Now()
		if err := tx.UpdateQueue(ctx, q); err != nil {
			return err
		}
		out, err = tx.GetQueue(ctx, q.ID)
		return err
	})
	return out, err
}

// checkPolicy checks a queue's hours and acknowledgements, and that the queue its hours send
// handoffs to exists and is another one.
func checkPolicy(ctx context.Context, tx store.Tx, q domain.Queue) error {
	if h := q.Policy.Hours; h != nil {
		if err := h.Check(); err != nil {
			return prefixField("business_hours.", err)
		}
		if other := h.OutOfHours.QueueID; other != "" {
			if other == q.ID {
				return domain.Invalid("business_hours.out_of_hours_queue_id", "a queue cannot send its handoffs to itself")
			}
			if _, err := tx.GetQueue(ctx, other); isNotFound(err) {
				return domain.Invalid("business_hours.out_of_hours_queue_id", "queue %q does not exist", other)
			} else if err != nil {
				return err
			}
		}
	}
	return prefixField("acknowledgements.", q.Policy.Acknowledgements.Check())
}

// prefixField places an InvalidError's field under prefix, so that it names the request's field.
func prefixField(prefix string, err error) error {
	var inv *domain.InvalidError
	if errors.As(err, &inv) {
		return domain.Invalid(prefix+inv.Field, "%s", inv.Reason)
	}
	return err
}

// DeleteQueue deletes a queue nothing uses.
func (a *App) DeleteQueue(ctx context.Context, p domain.Principal, id, etag string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	if id == domain.DefaultQueueID {
		return domain.Precondition("queue", "the built-in default queue cannot be deleted")
	}
	return a.write(ctx, func(tx store.Tx) error {
		q, err := forUpdate(ctx, tx, store.KindQueue, id, tx.GetQueue)
		if err != nil {
			return err
		}
		if err := etagMatches(etag, q.Revision); err != nil {
			return err
		}
		inUse, err := tx.QueueInUse(ctx, id)
		if err != nil {
			return err
		}
		if inUse {
			return domain.Precondition("queue", "queue %s is a channel's default or has waiting conversations", id)
		}
		if err := noRuleSendsTo(ctx, tx, "queue", id, domain.Target{QueueID: id}); err != nil {
			return err
		}
		return tx.DeleteQueue(ctx, id)
	})
}

// noRuleSendsTo refuses to delete a queue or agent a routing rule sends conversations to: every
// handoff the rule routes would fail.
func noRuleSendsTo(ctx context.Context, tx store.Tx, kind, id string, t domain.Target) error {
	rules, err := tx.ListRoutingRules(ctx)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(rules, func(r domain.RoutingRule) bool { return r.Then.Target == t }); i >= 0 {
		return domain.Precondition(kind, "routing rule %s sends conversations to %s %s: change or delete it first", rules[i].ID, kind, id)
	}
	return nil
}

// ListEvents returns up to limit stored events after a sequence that the filter selects and the
// principal may read (EventReader), and the sequence to continue after. For agents, whose events
// are picked one by one, it reads on past events it may not read, within a bound.
func (a *App) ListEvents(ctx context.Context, p domain.Principal, after uint64, f store.EventFilter, limit int) ([]domain.Event, uint64, error) {
	r, err := a.EventReader(ctx, p, f)
	if err != nil {
		return nil, after, err
	}
	var out []domain.Event
	from := after
	err = a.read(ctx, func(tx store.Tx) error {
		out, after = nil, from // a Read may run again
		for range agentScanPages {
			page, err := tx.ListEvents(ctx, after, r.Filter, limit)
			if err != nil {
				return err
			}
			for _, e := range page {
				after = e.Sequence
				if r.Reads(e) {
					out = append(out, e)
				}
			}
			if len(out) == limit || len(page) < limit {
				break
			}
		}
		return store.EventsGone(ctx, tx, from, r.Filter)
	})
	return out, after, err
}

// agentScanPages bounds how many pages of the log one ListEvents reads (only an agent's reader
// skips events, so others read one).
const agentScanPages = 10

// EventReader is what one principal may read of the event log: a filter narrowed to its scope
// (scopeEvents), and for an agent the rule of domain.CanReadEvent applied to each event with
// its agent record. A stream calls Refresh now and then, so that an agent moved to other queues
// reads by its new ones.
type EventReader struct {
	// Filter is the request's filter narrowed to the principal's scope.
	Filter store.EventFilter
	p      domain.Principal
	agent  atomic.Pointer[domain.Agent]
	app    *App
}

// EventReader returns p's reader for the events f selects.
func (a *App) EventReader(ctx context.Context, p domain.Principal, f store.EventFilter) (*EventReader, error) {
	f, err := scopeEvents(p, f)
	if err != nil {
		return nil, err
	}
	r := &EventReader{Filter: f, p: p, app: a}
	return r, r.Refresh(ctx)
}

// Reads tells whether the principal may read e (the filter aside).
func (r *EventReader) Reads(e domain.Event) bool {
	if r.p.Role != domain.PrincipalAgent {
		return true // the filter is the whole scope
	}
	return domain.CanReadEvent(r.p, e, r.agent.Load())
}

// Selects tells whether e is selected by the filter and readable by the principal.
func (r *EventReader) Selects(e domain.Event) bool { return r.Filter.Selects(e) && r.Reads(e) }

// Refresh reloads the agent record an agent's reader decides with.
func (r *EventReader) Refresh(ctx context.Context) error {
	if r.p.Role != domain.PrincipalAgent {
		return nil
	}
	return r.app.read(ctx, func(tx store.Tx) error {
		agent, err := r.app.callingAgent(ctx, tx, r.p)
		if err == nil {
			r.agent.Store(agent)
		}
		return err
	})
}

// scopeEvents narrows an event filter to the principal's scope: a bot's to the events of the
// channels bound to it (its own). Agents are narrowed event by event (EventReader).
func scopeEvents(p domain.Principal, f store.EventFilter) (store.EventFilter, error) {
	if p.Role == domain.PrincipalBot {
		if f.BotID != "" && f.BotID != p.SubjectID {
			return f, domain.NotFound("bot", f.BotID)
		}
		f.BotID = p.SubjectID
	}
	f.Types = slices.Clone(f.Types)
	return f, nil
}
