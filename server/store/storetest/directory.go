package storetest

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Channels, bots, agents, queues and API keys: the rows an administrator manages.

var channelResource = resource[domain.Channel]{
	value: func(h *harness) domain.Channel {
		return h.channelValue(withBot(h.bot().ID), func(c *domain.Channel) { c.DefaultQueueID = h.queue().ID })
	},
	minimal: func(h *harness) domain.Channel {
		id := h.id("ch")
		return domain.Channel{ID: id, Kind: domain.ChannelGeneric, ExternalID: "x-" + id}
	},
	change: func(h *harness, c domain.Channel) domain.Channel {
		c.Kind = domain.ChannelTelegram
		c.ExternalID += "-changed"
		c.DisplayName += " changed"
		c.BotID = h.bot().ID
		c.DefaultQueueID = h.queue().ID
		c.SessionTimeout = 3 * time.Hour
		c.Credentials = domain.Credentials{AppSecret: "app-2", VerifyToken: "verify-2", AccessToken: "access-2", WebhookSecret: "hook-2"}
		c.CreateTime = at(-time.Hour)
		c.UpdateTime = at(time.Hour)
		return c
	},
	create: func(h *harness, tx store.Tx, c domain.Channel) error { return tx.CreateChannel(h.ctx, c) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Channel, error) { return tx.GetChannel(h.ctx, id) },
	update: func(h *harness, tx store.Tx, c domain.Channel) error { return tx.UpdateChannel(h.ctx, c) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteChannel(h.ctx, id) },
	id:     func(c *domain.Channel) *string { return &c.ID },
	rev:    func(c *domain.Channel) *int64 { return &c.Revision },
	lock:   store.KindChannel,
}

func testChannelUniqueKeys(h *harness) {
	a := h.channel()
	sameKey := h.channelValue(func(c *domain.Channel) { c.ExternalID = a.ExternalID })
	err := h.tryWrite(func(tx store.Tx) error { return tx.CreateChannel(h.ctx, sameKey) })
	wantErr(h.t, "create with a taken kind and external id", err, store.ErrDuplicate)

	// The same external id on another network is another channel.
	h.channel(func(c *domain.Channel) { c.Kind = domain.ChannelTelegram; c.ExternalID = a.ExternalID })

	b := h.channel()
	clash := b
	clash.ExternalID = a.ExternalID
	err = h.tryWrite(func(tx store.Tx) error { return tx.UpdateChannel(h.ctx, clash) })
	wantErr(h.t, "update to a taken kind and external id", err, store.ErrDuplicate)
	diff(h.t, "channel after refused update", b, channelResource.mustFetch(h, b.ID))
}

// testChannelList checks the list in id order, whole and filtered by kind.
func testChannelList(h *harness) {
	kinds := []domain.ChannelKind{domain.ChannelMessenger, domain.ChannelTelegram, domain.ChannelWhatsApp}
	var all, telegram []domain.Channel
	for i := range 7 {
		c := h.channel(func(c *domain.Channel) { c.Kind = kinds[i%len(kinds)] })
		all = append(all, c)
		if c.Kind == domain.ChannelTelegram {
			telegram = append(telegram, c)
		}
	}
	listKind := func(kind domain.ChannelKind) lister[domain.Channel] {
		return func(tx store.Tx, p store.Page) ([]domain.Channel, string, error) {
			return tx.ListChannels(h.ctx, kind, p)
		}
	}
	checkPages(h, "all channels", all, listKind(""))
	checkPages(h, "telegram channels", telegram, listKind(domain.ChannelTelegram))
	diff(h.t, "webchat channels", []domain.Channel(nil), walk(h, 3, listKind(domain.ChannelWebchat)))
}

func testCountConversations(h *harness) {
	a, b := h.channel(), h.channel()
	h.conversation(a)
	h.conversation(a)
	h.conversation(a, func(c *domain.Conversation) { c.State = domain.ConversationClosed })
	h.conversation(b)
	for id, want := range map[string]int{a.ID: 3, b.ID: 1, "missing": 0} {
		got := mustRead(h, func(tx store.Tx) (int, error) { return tx.CountConversations(h.ctx, id) })
		if got != want {
			h.t.Errorf("CountConversations(%s) = %d, want %d", id, got, want)
		}
	}
}

// Bots' ChannelIDs are derived from the channels: what Create and Update are given is ignored.
var botResource = resource[domain.Bot]{
	value: func(h *harness) domain.Bot {
		return h.botValue(func(b *domain.Bot) { b.ChannelIDs = []string{"not-a-binding"} })
	},
	minimal: func(h *harness) domain.Bot { return domain.Bot{ID: h.id("bot")} },
	change: func(h *harness, b domain.Bot) domain.Bot {
		b.DisplayName += " changed"
		b.Active = !b.Active
		b.Standby = !b.Standby
		b.Unreachable = !b.Unreachable
		b.ChannelIDs = []string{"still-not-a-binding"}
		b.CreateTime = at(-time.Hour)
		b.UpdateTime = at(time.Hour)
		return b
	},
	stored: func(b domain.Bot) domain.Bot { b.ChannelIDs = nil; return b },
	create: func(h *harness, tx store.Tx, b domain.Bot) error { return tx.CreateBot(h.ctx, b) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Bot, error) { return tx.GetBot(h.ctx, id) },
	update: func(h *harness, tx store.Tx, b domain.Bot) error { return tx.UpdateBot(h.ctx, b) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteBot(h.ctx, id) },
	id:     func(b *domain.Bot) *string { return &b.ID },
	rev:    func(b *domain.Bot) *int64 { return &b.Revision },
	lock:   store.KindBot,
}

func testBotChannelIDs(h *harness) {
	b, other := h.bot(), h.bot()
	// Created out of order: ChannelIDs are sorted.
	for _, id := range []string{"ch-z", "ch-a", "ch-m"} {
		h.channel(withBot(b.ID), func(c *domain.Channel) { c.ID = id })
	}
	otherCh := h.channel(withBot(other.ID))
	h.channel() // bound to no bot

	b.ChannelIDs = []string{"ch-a", "ch-m", "ch-z"}
	other.ChannelIDs = []string{otherCh.ID}
	diff(h.t, "bot", b, botResource.mustFetch(h, b.ID))
	diff(h.t, "other bot", other, botResource.mustFetch(h, other.ID))
	diff(h.t, "listed bots", []domain.Bot{b, other}, walk(h, 1, listBots(h)))

	// Unbinding a channel removes it; updating the bot changes no binding.
	h.write(func(tx store.Tx) error {
		c, err := tx.GetChannel(h.ctx, "ch-m")
		if err != nil {
			return err
		}
		c.BotID = ""
		if err := tx.UpdateChannel(h.ctx, c); err != nil {
			return err
		}
		changed := b
		changed.ChannelIDs = []string{"ch-m"}
		return tx.UpdateBot(h.ctx, changed)
	})
	b.ChannelIDs = []string{"ch-a", "ch-z"}
	b.Revision++
	diff(h.t, "bot after unbinding", b, botResource.mustFetch(h, b.ID))
}

func listBots(h *harness) lister[domain.Bot] {
	return func(tx store.Tx, p store.Page) ([]domain.Bot, string, error) { return tx.ListBots(h.ctx, p) }
}

func testBotList(h *harness) {
	var all []domain.Bot
	for range 7 {
		all = append(all, botResource.want(h.bot()))
	}
	checkPages(h, "bots", all, listBots(h))
}

// Agents' Active is derived from handovers.
var agentResource = resource[domain.Agent]{
	value:   func(h *harness) domain.Agent { return h.agentValue(func(a *domain.Agent) { a.Active = 7 }) },
	minimal: func(h *harness) domain.Agent { return domain.Agent{ID: h.id("agent")} },
	change: func(h *harness, a domain.Agent) domain.Agent {
		a.DisplayName += " changed"
		a.Email = "changed-" + a.Email
		a.Skills = []string{"spanish"}
		a.Role = domain.RoleAgent
		a.Team = "tier-1"
		a.Capacity = 5
		a.QueueIDs = []string{"q-sales"}
		a.Presence = domain.PresenceAway
		a.Active = 8
		a.LastSeenTime = at(time.Minute)
		a.CreateTime = at(-time.Hour)
		a.UpdateTime = at(time.Hour)
		return a
	},
	stored: func(a domain.Agent) domain.Agent { a.Active = 0; return a },
	create: func(h *harness, tx store.Tx, a domain.Agent) error { return tx.CreateAgent(h.ctx, a) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Agent, error) { return tx.GetAgent(h.ctx, id) },
	update: func(h *harness, tx store.Tx, a domain.Agent) error { return tx.UpdateAgent(h.ctx, a) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteAgent(h.ctx, id) },
	id:     func(a *domain.Agent) *string { return &a.ID },
	rev:    func(a *domain.Agent) *int64 { return &a.Revision },
	lock:   store.KindAgent,
}

func testAgentActive(h *harness) {
	a, other := h.agent(), h.agent()
	ch := h.channel()
	engage := func(agentID string, state domain.HandoverState) domain.Handover {
		return h.handover(h.conversation(ch), withState(state), func(v *domain.Handover) { v.AgentID = agentID; v.OfferedAgentID = "" })
	}
	first := engage(a.ID, domain.HandoverAccepted)
	engage(a.ID, domain.HandoverAccepted)
	engage(a.ID, domain.HandoverReleased)
	engage(other.ID, domain.HandoverAccepted)
	h.handover(h.conversation(ch), withState(domain.HandoverOffered), func(v *domain.Handover) { v.AgentID = ""; v.OfferedAgentID = a.ID })

	a.Active, other.Active = 2, 1
	diff(h.t, "agent", a, agentResource.mustFetch(h, a.ID))
	diff(h.t, "other agent", other, agentResource.mustFetch(h, other.ID))
	diff(h.t, "listed agents", []domain.Agent{a, other}, walk(h, 0, listAgents(h, store.AgentQuery{})))

	first.State = domain.HandoverReleased
	h.write(func(tx store.Tx) error { return tx.UpdateHandover(h.ctx, first) })
	a.Active = 1
	diff(h.t, "agent after a release", a, agentResource.mustFetch(h, a.ID))
}

func listAgents(h *harness, q store.AgentQuery) lister[domain.Agent] {
	return func(tx store.Tx, p store.Page) ([]domain.Agent, string, error) { return tx.ListAgents(h.ctx, q, p) }
}

func testAgentList(h *harness) {
	agent := func(p domain.Presence, queues ...string) domain.Agent {
		return agentResource.want(h.agent(func(a *domain.Agent) { a.Presence = p; a.QueueIDs = queues }))
	}
	a1 := agent(domain.PresenceOnline, "q1", "q2")
	a2 := agent(domain.PresenceAway, "q2")
	a3 := agent(domain.PresenceOffline)
	a4 := agent(domain.PresenceOnline, "q1")
	a5 := agent(domain.PresenceOnline, "q10")

	checkPages(h, "all agents", []domain.Agent{a1, a2, a3, a4, a5}, listAgents(h, store.AgentQuery{}))
	checkPages(h, "agents of q1", []domain.Agent{a1, a4}, listAgents(h, store.AgentQuery{QueueID: "q1"}))
	for _, c := range []struct {
		q    store.AgentQuery
		want []domain.Agent
	}{
		{store.AgentQuery{Presence: domain.PresenceOnline}, []domain.Agent{a1, a4, a5}},
		{store.AgentQuery{Presence: domain.PresenceOffline}, []domain.Agent{a3}},
		{store.AgentQuery{QueueID: "q2", Presence: domain.PresenceAway}, []domain.Agent{a2}},
		{store.AgentQuery{QueueID: "q2", Presence: domain.PresenceOffline}, nil},
		{store.AgentQuery{QueueID: "q"}, nil},
	} {
		diff(h.t, "agents", c.want, walk(h, 2, listAgents(h, c.q)))
	}
}

func testAgentsSeenBefore(h *harness) {
	cut := at(0)
	seen := func(p domain.Presence, t time.Time) domain.Agent {
		return agentResource.want(h.agent(func(a *domain.Agent) { a.Presence = p; a.LastSeenTime = t }))
	}
	online := seen(domain.PresenceOnline, cut.Add(-2*time.Minute))
	away := seen(domain.PresenceAway, cut.Add(-time.Minute))
	seen(domain.PresenceOffline, cut.Add(-3*time.Minute)) // offline: nothing to expire
	seen(domain.PresenceOnline, cut)                      // not before
	seen(domain.PresenceOnline, cut.Add(time.Minute))

	got := mustRead(h, func(tx store.Tx) ([]domain.Agent, error) { return tx.ListAgentsSeenBefore(h.ctx, cut, 10) })
	slices.SortFunc(got, func(a, b domain.Agent) int { return strings.Compare(a.ID, b.ID) })
	diff(h.t, "agents seen before", []domain.Agent{online, away}, got)

	got = mustRead(h, func(tx store.Tx) ([]domain.Agent, error) { return tx.ListAgentsSeenBefore(h.ctx, cut, 1) })
	if len(got) != 1 || (got[0].ID != online.ID && got[0].ID != away.ID) {
		h.t.Errorf("ListAgentsSeenBefore(limit 1) = %v, want one of %s, %s", ids(got, agentID), online.ID, away.ID)
	}
}

func testAgentTouch(h *harness) {
	a := agentResource.want(h.agent(func(a *domain.Agent) { a.LastSeenTime = at(0) }))
	h.write(func(tx store.Tx) error { return tx.TouchAgent(h.ctx, a.ID, at(time.Minute)) })
	got := mustRead(h, func(tx store.Tx) (domain.Agent, error) { return tx.GetAgent(h.ctx, a.ID) })
	a.LastSeenTime = at(time.Minute)
	diff(h.t, "touched agent (same revision, new last seen)", a, got)
	err := h.tryWrite(func(tx store.Tx) error { return tx.TouchAgent(h.ctx, "agent-missing", at(0)) })
	var nf *domain.NotFoundError
	if !errors.As(err, &nf) {
		h.t.Errorf("TouchAgent(missing) = %v, want NotFoundError", err)
	}
}

func agentID(a domain.Agent) string { return a.ID }

// Queues' Waiting is derived from handovers.
var queueResource = resource[domain.Queue]{
	value:   func(h *harness) domain.Queue { return h.queueValue(func(q *domain.Queue) { q.Waiting = 9 }) },
	minimal: func(h *harness) domain.Queue { return domain.Queue{ID: h.id("queue")} },
	change: func(h *harness, q domain.Queue) domain.Queue {
		q.DisplayName += " changed"
		q.Skills = []string{"sales", "german"}
		q.OfferTimeout = 2 * time.Minute
		q.Policy = domain.QueuePolicy{Acknowledgements: domain.Acknowledgements{Enabled: true}}
		q.Waiting = 10
		q.CreateTime = at(-time.Hour)
		q.UpdateTime = at(time.Hour)
		return q
	},
	stored: func(q domain.Queue) domain.Queue { q.Waiting = 0; return q },
	create: func(h *harness, tx store.Tx, q domain.Queue) error { return tx.CreateQueue(h.ctx, q) },
	get:    func(h *harness, tx store.Tx, id string) (domain.Queue, error) { return tx.GetQueue(h.ctx, id) },
	update: func(h *harness, tx store.Tx, q domain.Queue) error { return tx.UpdateQueue(h.ctx, q) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteQueue(h.ctx, id) },
	id:     func(q *domain.Queue) *string { return &q.ID },
	rev:    func(q *domain.Queue) *int64 { return &q.Revision },
	lock:   store.KindQueue,
}

func testQueueWaiting(h *harness) {
	q, other := h.queue(), h.queue()
	ch := h.channel()
	inQueue := func(queueID string, state domain.HandoverState) domain.Handover {
		return h.handover(h.conversation(ch), withQueue(queueID), withState(state))
	}
	inQueue(q.ID, domain.HandoverRequested)
	offered := inQueue(q.ID, domain.HandoverOffered)
	for _, s := range []domain.HandoverState{domain.HandoverAccepted, domain.HandoverReleased, domain.HandoverDeclined, domain.HandoverExpired} {
		inQueue(q.ID, s)
	}
	inQueue(other.ID, domain.HandoverRequested)

	q.Waiting, other.Waiting = 2, 1
	diff(h.t, "queue", q, queueResource.mustFetch(h, q.ID))
	diff(h.t, "listed queues", []domain.Queue{q, other}, walk(h, 0, listQueues(h)))

	offered.State = domain.HandoverAccepted
	h.write(func(tx store.Tx) error { return tx.UpdateHandover(h.ctx, offered) })
	q.Waiting = 1
	diff(h.t, "queue after an accept", q, queueResource.mustFetch(h, q.ID))
}

func testQueueInUse(h *harness) {
	ch := h.channel()
	inUse := map[string]bool{"missing": false, h.queue().ID: false}

	byChannel := h.queue()
	h.channel(func(c *domain.Channel) { c.DefaultQueueID = byChannel.ID })
	inUse[byChannel.ID] = true

	states := []domain.HandoverState{
		domain.HandoverRequested, domain.HandoverOffered, domain.HandoverAccepted, domain.HandoverReleased,
		domain.HandoverDeclined, domain.HandoverFailed, domain.HandoverExpired, domain.HandoverCanceled,
	}
	for _, s := range states {
		q := h.queue()
		h.handover(h.conversation(ch), withQueue(q.ID), withState(s))
		inUse[q.ID] = s.Live()
	}
	for id, want := range inUse {
		got := mustRead(h, func(tx store.Tx) (bool, error) { return tx.QueueInUse(h.ctx, id) })
		if got != want {
			h.t.Errorf("QueueInUse(%s) = %v, want %v", id, got, want)
		}
	}
}

func listQueues(h *harness) lister[domain.Queue] {
	return func(tx store.Tx, p store.Page) ([]domain.Queue, string, error) { return tx.ListQueues(h.ctx, p) }
}

func testQueueList(h *harness) {
	var all []domain.Queue
	for range 7 {
		all = append(all, queueResource.want(h.queue()))
	}
	checkPages(h, "queues", all, listQueues(h))
}

// API keys are never updated.
var apiKeyResource = resource[domain.APIKey]{
	value:   func(h *harness) domain.APIKey { return h.apiKeyValue() },
	minimal: func(h *harness) domain.APIKey { return domain.APIKey{ID: h.id("key"), Role: domain.PrincipalAdmin} },
	change: func(h *harness, k domain.APIKey) domain.APIKey {
		k.DisplayName += " changed"
		k.Role = domain.PrincipalService
		k.SubjectID = "svc-1"
		k.SecretHash = []byte("other hash")
		k.CreateTime = at(time.Hour)
		return k
	},
	create: func(h *harness, tx store.Tx, k domain.APIKey) error { return tx.CreateAPIKey(h.ctx, k) },
	get:    func(h *harness, tx store.Tx, id string) (domain.APIKey, error) { return tx.GetAPIKey(h.ctx, id) },
	delete: func(h *harness, tx store.Tx, id string) error { return tx.DeleteAPIKey(h.ctx, id) },
	id:     func(k *domain.APIKey) *string { return &k.ID },
}

func testAPIKeyList(h *harness) {
	var all []domain.APIKey
	for range 7 {
		all = append(all, h.apiKey())
	}
	checkPages(h, "API keys", all, func(tx store.Tx, p store.Page) ([]domain.APIKey, string, error) {
		return tx.ListAPIKeys(h.ctx, p)
	})
}
