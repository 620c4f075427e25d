package domain

import (
	"slices"
	"strings"
	"time"
)

// Situation is what the rules need to know about one conversation at one instant.
type Situation struct {
	Now          time.Time
	Conversation Conversation
	Channel      Channel
	Bot          *Bot // the bot bound to the channel; nil when none
	Contact      Contact
	Active       *Handover // the conversation's live handover; nil when none
	// Queue speaks to the customer for the conversation now (its acknowledgements): the live
	// handover's queue, else the channel's default queue. Nil when not loaded: nothing is sent.
	Queue *Queue
	// NewID returns a fresh id with the given prefix ("ho", "ev"). Injected so that the rules
	// stay deterministic under test.
	NewID func(prefix string) string
}

// Routing is what the rules need to place a conversation in a queue: the queue and the agents
// who might take it (their presence and load).
type Routing struct {
	Queue  Queue
	Agents []Agent
	// EstimatedWait is how long a conversation queued now may wait; 0 when unknown.
	EstimatedWait time.Duration
	// Redirect is the routing of the queue Queue sends handoffs to when it is closed
	// (OutOfHoursOtherQueue); nil otherwise.
	Redirect *Routing
}

// Change is what one transition writes in one transaction: the conversation, the handovers it
// created or changed, the acknowledgements it sends the customer, and the events announcing it
// all.
type Change struct {
	Conversation Conversation
	Created      []Handover
	Updated      []Handover
	// Messages are outbound messages from Baton (acknowledgements), pending in the outbox.
	Messages []Message
	Events   []Event
}

// Handover returns the handover the transition is about: the last one created, otherwise the
// last one changed.
func (c Change) Handover() (Handover, bool) {
	if n := len(c.Created); n > 0 {
		return c.Created[n-1], true
	}
	if n := len(c.Updated); n > 0 {
		return c.Updated[n-1], true
	}
	return Handover{}, false
}

// BotMuted reports whether the bot is muted for the conversation or its contact at now.
func BotMuted(s Situation) bool {
	return s.Now.Before(s.Conversation.BotMutedUntil) || s.Now.Before(s.Contact.BotMutedUntil)
}

// BotCanOwn says whether the channel's bot may own the conversation now, and if not, why.
func BotCanOwn(s Situation) (bool, string) {
	switch {
	case s.Bot == nil || s.Channel.BotID != s.Bot.ID:
		return false, "no bot is bound to the channel"
	case !s.Bot.Active:
		return false, "the bot is deactivated"
	case s.Bot.Unreachable:
		return false, "the bot's webhook is unreachable"
	case !s.Conversation.BotEnabled:
		return false, "the bot is turned off for this conversation"
	case BotMuted(s):
		return false, "the bot is muted"
	}
	return true, ""
}

// ownerBotCanKeep says whether the bot owning the conversation may keep it: it must still be
// the channel's bot, and that bot must be able to own now.
func ownerBotCanKeep(s Situation) (bool, string) {
	if ok, why := BotCanOwn(s); !ok {
		return false, why
	}
	if s.Conversation.Owner != BotOwner(s.Bot.ID) {
		return false, "the bot is no longer bound to the channel"
	}
	return true, ""
}

// DefaultOwner is who owns the conversation when no human holds it: the channel's bot when it
// can own, otherwise the channel's default queue.
func DefaultOwner(s Situation) Owner {
	if ok, _ := BotCanOwn(s); ok {
		return BotOwner(s.Bot.ID)
	}
	return QueueOwner(s.Channel.DefaultQueueID)
}

// CheckEpoch refuses a call that believes in another epoch than the current one.
func CheckEpoch(c Conversation, expected *uint64) error {
	if expected != nil && *expected != c.Epoch {
		return ownership(c, "epoch", "stale epoch %d", *expected)
	}
	return nil
}

// transition accumulates one Change.
type transition struct {
	s        Situation
	actor    Actor
	conv     Conversation
	from     Owner // the owner before the transition
	created  []Handover
	updated  []Handover
	messages []Message
	events   []Event
}

func begin(s Situation, actor Actor) *transition {
	c := s.Conversation
	c.UpdateTime = s.Now
	return &transition{s: s, actor: actor, conv: c, from: c.Owner}
}

// emit records an event; finish stamps every event with the final conversation.
func (t *transition) emit(typ EventType, fill func(*Event)) {
	e := Event{
		ID:             t.s.NewID("ev"),
		Type:           typ,
		Time:           t.s.Now,
		ConversationID: t.conv.ID,
		ChannelID:      t.conv.ChannelID,
		ContactID:      t.conv.ContactID,
		Actor:          t.actor,
	}
	if fill != nil {
		fill(&e)
	}
	t.events = append(t.events, e)
}

func (t *transition) emitHandover(typ EventType, h Handover) {
	t.emit(typ, func(e *Event) {
		e.Handover = &h
		e.AgentID = h.AgentID
		if e.AgentID == "" {
			e.AgentID = h.OfferedAgentID
		}
	})
}

// setOwner changes the owner and bumps the epoch. Every ownership change goes through here.
func (t *transition) setOwner(to Owner, reason, handoverID string) {
	from := t.conv.Owner
	t.conv.Owner = to
	t.conv.Epoch++
	if to.Kind != OwnerBot {
		t.conv.UnansweredDeadline = time.Time{} // only a bot's silence is timed
	}
	t.conv.LastActivityTime = t.s.Now
	if to.Kind == OwnerBot {
		t.conv.BotID = to.ID
	}
	change := OwnerChange{From: from, To: to, Epoch: t.conv.Epoch, Reason: reason, HandoverID: handoverID}
	t.emit(EventOwnerChanged, func(e *Event) { e.OwnerChange = &change })
}

func (t *transition) create(h Handover) { t.created = append(t.created, h) }

// update records a changed handover, replacing an earlier version from the same transition.
func (t *transition) update(h Handover) {
	for i := range t.created {
		if t.created[i].ID == h.ID {
			t.created[i] = h
			return
		}
	}
	for i := range t.updated {
		if t.updated[i].ID == h.ID {
			t.updated[i] = h
			return
		}
	}
	t.updated = append(t.updated, h)
}

func (t *transition) finish() Change {
	// Events belong to the bot bound to the channel now: a bot unbound since the conversation
	// started must not read what happens on a channel that is no longer its own.
	botID := ""
	if t.s.Bot != nil {
		botID = t.s.Bot.ID
	}
	audience := AudienceOf(t.s.Channel, t.live())
	for i := range t.events {
		e := &t.events[i]
		if e.ConversationID == "" {
			continue
		}
		if e.Message == nil { // a message event says who owns and the epoch; the rest is unchanged
			conv := t.conv
			e.Conversation = &conv
		}
		e.Owner = t.conv.Owner
		e.Epoch = t.conv.Epoch
		e.BotID = botID
		e.Audience = audience
		if t.from != t.conv.Owner {
			from := t.from
			e.OwnerBefore = &from
		}
	}
	return Change{Conversation: t.conv, Created: t.created, Updated: t.updated, Messages: t.messages, Events: t.events}
}

// live is the conversation's live handover after the transition, if it has one.
func (t *transition) live() *Handover {
	id := t.conv.ActiveHandoverID
	if id == "" {
		return nil
	}
	for _, hs := range [][]Handover{t.created, t.updated} {
		for i := range hs {
			if hs[i].ID == id {
				return &hs[i]
			}
		}
	}
	if t.s.Active != nil && t.s.Active.ID == id {
		return t.s.Active
	}
	return nil
}

// endActive ends the live handover, if any: an engagement is released, a waiting handover is
// canceled (or expired, for a session timeout).
func (t *transition) endActive(reason EndReason) {
	if t.s.Active == nil || !t.s.Active.State.Live() {
		return
	}
	h := *t.s.Active
	h.EndReason = reason
	h.EndTime = t.s.Now
	switch {
	case h.State == HandoverAccepted:
		h.State = HandoverReleased
		t.update(h)
		t.emitHandover(EventHandoverReleased, h)
	case reason == EndSessionTimeout:
		h.State = HandoverExpired
		h.OfferedAgentID = ""
		t.update(h)
		t.emitHandover(EventHandoverExpired, h)
	default:
		h.State = HandoverCanceled
		h.OfferedAgentID = ""
		t.update(h)
		t.emitHandover(EventHandoverCanceled, h)
	}
	t.conv.ActiveHandoverID = ""
}

// enqueue creates a waiting handover in a queue, makes the queue the owner, tells the customer
// (ack: queued, transferred, out of hours) and offers the conversation to the best available
// agent.
func (t *transition) enqueue(h Handover, r Routing, ack AckKind) Handover {
	h.ID = t.s.NewID("ho")
	h.ConversationID = t.conv.ID
	h.From = t.conv.Owner
	h.QueueID = r.Queue.ID
	h.State = HandoverRequested
	h.RequestedBy = t.actor
	h.CreateTime = t.s.Now
	h.Epoch = t.conv.Epoch + 1 // the epoch setOwner is about to give the queue
	startSLA(&h, r.Queue, t.s.Now)
	t.create(h)
	t.emitHandover(EventHandoverRequested, h)
	t.setOwner(QueueOwner(r.Queue.ID), h.Reason, h.ID)
	t.conv.ActiveHandoverID = h.ID
	t.acknowledge(ack, r.Queue, AckValues{Position: r.Queue.Waiting + 1, Wait: r.EstimatedWait})
	return t.offer(h, r)
}

// offer offers a waiting handover to the best available agent, if there is one.
func (t *transition) offer(h Handover, r Routing, exclude ...string) Handover {
	a, ok := PickAgent(h, r.Queue, r.Agents, exclude...)
	if !ok {
		return h
	}
	h.State = HandoverOffered
	h.OfferedAgentID = a.ID
	h.OfferExpireTime = t.s.Now.Add(offerTimeout(r.Queue))
	t.update(h)
	t.emitHandover(EventHandoverOffered, h)
	return h
}

func offerTimeout(q Queue) time.Duration {
	if q.OfferTimeout > 0 {
		return q.OfferTimeout
	}
	return DefaultOfferTimeout
}

// toDefault hands the conversation to its default owner: the bot, or the default queue through
// a new waiting handover. r is the default queue's routing (only used when no bot can own).
func (t *transition) toDefault(reason string, r Routing) {
	owner := DefaultOwner(t.s)
	if owner.Kind == OwnerBot {
		if t.conv.Owner != owner {
			t.setOwner(owner, reason, "")
		}
		return
	}
	if t.conv.Owner == owner && t.s.Active != nil && t.s.Active.State.Waiting() {
		return // already waiting there
	}
	t.enqueue(Handover{Reason: reason, Target: Target{QueueID: owner.ID}}, r, AckQueued)
}

// toBotOrClose returns the conversation to the bot when it can own, and closes it otherwise:
// the end of a human stretch with no bot to go back to is the end of the conversation.
func (t *transition) toBotOrClose(reason string) {
	if ok, _ := BotCanOwn(t.s); ok {
		t.backToBot(reason, "")
		return
	}
	t.close(reason)
}

// backToBot gives the conversation back to the bot from the humans, and tells the customer.
func (t *transition) backToBot(reason, handoverID string) {
	t.setOwner(BotOwner(t.s.Bot.ID), reason, handoverID)
	if t.s.Queue != nil {
		t.acknowledge(AckBackWithBot, *t.s.Queue, AckValues{})
	}
}

func (t *transition) close(reason string) {
	t.conv.State = ConversationClosed
	if t.conv.Owner != Nobody {
		t.setOwner(Nobody, reason, "")
	}
	t.emit(EventConversationClosed, nil)
}

// NewConversation starts a conversation for a contact's first message: it belongs to its
// default owner (the bot, or the default queue).
func NewConversation(s Situation, id string, r Routing) Change {
	s.Conversation = Conversation{
		ID:               id,
		ChannelID:        s.Channel.ID,
		ContactID:        s.Contact.ID,
		Owner:            Nobody,
		State:            ConversationOpen,
		Status:           StatusOK,
		BotEnabled:       true,
		LastActivityTime: s.Now,
		CreateTime:       s.Now,
	}
	if s.Bot != nil {
		s.Conversation.BotID = s.Bot.ID
	}
	t := begin(s, Actor{Kind: ActorCustomer, ID: s.Contact.ID})
	t.emit(EventConversationCreated, nil)
	t.toDefault("new conversation", r)
	return t.finish()
}

// Receive records an inbound customer message. It reopens a closed conversation, and moves a
// conversation whose bot may no longer own it (deactivated, unbound, muted) to its default
// owner, so the customer is never left with nobody.
func Receive(s Situation, m Message, r Routing) Change {
	t := begin(s, Actor{Kind: ActorCustomer, ID: s.Contact.ID})
	switch {
	case t.conv.State == ConversationClosed:
		t.conv.State = ConversationOpen
		t.toDefault("customer wrote again", r)
	case t.conv.Owner.Kind == OwnerBot:
		if ok, why := ownerBotCanKeep(s); !ok {
			t.toDefault(why, r)
		}
	}
	m.Epoch = t.conv.Epoch
	t.conv = Unanswered(t.conv, EffectivePolicy(s), s.Now)
	t.conv.LastInboundTime = s.Now
	t.conv.LastActivityTime = s.Now
	t.emit(EventMessageReceived, func(e *Event) { e.Message = &m })
	return t.finish()
}

// Send checks that sender owns the conversation at the epoch it believes in, and records the
// outbound message. A bot that owns but is muted, turned off, deactivated or no longer the
// channel's bot may not send either.
func Send(s Situation, sender Actor, expected *uint64, m Message) (Change, error) {
	c := s.Conversation
	if err := CheckEpoch(c, expected); err != nil {
		return Change{}, err
	}
	switch sender.Kind {
	case ActorBot:
		if c.Owner != BotOwner(sender.ID) {
			return Change{}, ownership(c, "owner", "the bot does not own the conversation")
		}
		if ok, why := ownerBotCanKeep(s); !ok {
			return Change{}, ownership(c, "bot", "%s", why)
		}
	case ActorAgent:
		if c.Owner != AgentOwner(sender.ID) {
			return Change{}, ownership(c, "owner", "the agent does not own the conversation")
		}
	default:
		return Change{}, Forbidden("only a bot or an agent can send messages")
	}
	t := begin(s, sender)
	if sender.Kind == ActorAgent {
		t.replied()
	} else {
		t.conv.UnansweredDeadline = time.Time{} // the bot answered
	}
	m.Epoch = c.Epoch
	m.Sender = sender
	t.conv.LastOutboundTime = s.Now
	t.conv.LastActivityTime = s.Now
	t.emit(EventMessageSent, func(e *Event) { e.Message = &m })
	return t.finish(), nil
}

// HandoffRequest is a bot's request to pass a conversation to humans.
type HandoffRequest struct {
	Target      Target
	Reason      string
	Metadata    map[string]string
	Summary     string
	Intake      []IntakeAnswer
	QueueAnyway bool
	RequestID   string
	Expected    *uint64
	// Route is what the routing rules decided (Route's result for this request): when a rule
	// matched, its target, priority and tags are the handover's, and the handover names it.
	Route RouteMatch
}

// Handoff passes a bot-owned conversation to a queue. When no eligible agent is online with
// capacity and the request does not say to queue anyway, the bot keeps the conversation and
// the handover is recorded as failed with the reason. A closed queue (business hours) does
// what its hours say instead, and the handover records it (OutOfHours). Either way the
// customer is told, when the queue sends acknowledgements.
func Handoff(s Situation, actor Actor, req HandoffRequest, r Routing) (Change, error) {
	c := s.Conversation
	if err := CheckEpoch(c, req.Expected); err != nil {
		return Change{}, err
	}
	if c.Owner.Kind != OwnerBot {
		return Change{}, ownership(c, "owner", "only a bot-owned conversation can be handed off")
	}
	if actor.Kind == ActorBot && c.Owner.ID != actor.ID {
		return Change{}, ownership(c, "owner", "the bot does not own the conversation")
	}
	h := Handover{
		Reason:    req.Reason,
		Target:    req.Target,
		Metadata:  req.Metadata,
		Summary:   req.Summary,
		Intake:    req.Intake,
		RequestID: req.RequestID,
	}
	t := begin(s, actor)
	t.routed(&h, req.Route)
	t.handoff(h, req, r)
	return t.finish(), nil
}

// TagHandoff hands a bot-owned conversation off because a routing rule matched the tags just
// added to it (m, Route's result at TriggerTagChange), as a handoff the bot asked for would:
// when nobody can take it, the bot keeps it and the handover is recorded as failed. ok is
// false when no rule matched or the conversation is not the bot's.
func TagHandoff(s Situation, actor Actor, m RouteMatch, r Routing) (Change, bool) {
	c := s.Conversation
	if m.Rule == nil || c.Owner.Kind != OwnerBot || c.State != ConversationOpen {
		return Change{}, false
	}
	t := begin(s, actor)
	h := Handover{Reason: "tagged: " + strings.Join(m.Rule.When.Tags, ", ")}
	t.routed(&h, m)
	t.handoff(h, HandoffRequest{}, r)
	return t.finish(), true
}

// routed applies what a matching routing rule decided to a new handover: its target,
// priority and the rule's name and reason; its tags go on the conversation.
func (t *transition) routed(h *Handover, m RouteMatch) {
	if m.Rule == nil {
		return
	}
	h.Target = m.Target
	h.Priority = m.Priority
	h.RuleID = m.Rule.ID
	h.RouteReason = m.Reason()
	for _, tag := range m.AddTags {
		if !slices.Contains(t.conv.Tags, tag) {
			t.conv.Tags = append(slices.Clone(t.conv.Tags), tag)
		}
	}
	slices.Sort(t.conv.Tags)
}

// handoff queues h in r's queue, or records why the bot keeps the conversation. A closed
// queue does what its hours say: queue anyway, leave the conversation with the bot, or send it
// to another queue (once: a closed other queue that redirects again leaves it with the bot).
func (t *transition) handoff(h Handover, req HandoffRequest, r Routing) {
	if ooh, closed := r.Queue.ClosedNow(t.s.Now); closed {
		switch {
		case ooh.Action == OutOfHoursQueue:
			h.OutOfHours = OutOfHoursQueued
			t.enqueue(h, r, AckOutOfHours)
			return
		case ooh.Action == OutOfHoursOtherQueue && r.Redirect != nil && h.OutOfHours == "":
			h.OutOfHours = OutOfHoursRedirected
			t.handoff(h, req, *r.Redirect)
			return
		}
		h.OutOfHours = OutOfHoursStayedWithBot
		t.fail(h, r, ClosedOutOfHours, AckOutOfHours)
		return
	}
	if why := PresenceCheck(h, r.Queue, r.Agents); why != "" && !req.QueueAnyway {
		t.fail(h, r, why, AckNobodyAvailable)
		return
	}
	t.enqueue(h, r, AckQueued)
}

// fail records a handoff no agent can take: the bot keeps the conversation, and the customer
// is told (ack).
func (t *transition) fail(h Handover, r Routing, why FailureReason, ack AckKind) {
	c := t.conv
	h.ID = t.s.NewID("ho")
	h.ConversationID = c.ID
	h.From = c.Owner
	h.QueueID = r.Queue.ID
	h.State = HandoverFailed
	h.FailureReason = why
	h.RequestedBy = t.actor
	h.Epoch = c.Epoch
	h.CreateTime = t.s.Now
	h.EndTime = t.s.Now
	t.create(h)
	t.emitHandover(EventHandoverFailed, h)
	t.acknowledge(ack, r.Queue, AckValues{})
}

// waiting checks that h is the conversation's live, waiting handover.
func waiting(s Situation, h Handover) error {
	if !h.State.Waiting() || s.Conversation.ActiveHandoverID != h.ID {
		who := ""
		if h.AgentID != "" {
			who = " by agent " + h.AgentID
		}
		return ownership(s.Conversation, "handover", "handover %s is %s%s, not waiting", h.ID, h.State, who)
	}
	return nil
}

// Accept makes agent the owner of a waiting conversation. Any eligible agent may accept, not
// only the one it is offered to; the store's serialisation of the conversation makes exactly
// one of several concurrent accepts win, and the others then see it accepted.
func Accept(s Situation, h Handover, agent Agent, q Queue) (Change, error) {
	if err := waiting(s, h); err != nil {
		return Change{}, err
	}
	if agent.Role != RoleSupervisor {
		if !Eligible(agent, h, q) {
			return Change{}, Forbidden("agent %s is not eligible for handover %s", agent.ID, h.ID)
		}
		if agent.Presence == PresenceOffline {
			return Change{}, Precondition("presence", "agent %s is offline", agent.ID)
		}
		if !HasCapacity(agent) {
			return Change{}, Precondition("capacity", "agent %s is at capacity (%d of %d)", agent.ID, agent.Active, agent.Capacity)
		}
	}
	t := begin(s, Actor{Kind: ActorAgent, ID: agent.ID})
	h.State = HandoverAccepted
	h.AgentID = agent.ID
	h.OfferedAgentID = ""
	h.AcceptTime = s.Now
	h.SLAWaitDeadline = time.Time{} // the wait target is met
	t.update(h)
	t.emitHandover(EventHandoverAccepted, h)
	t.setOwner(AgentOwner(agent.ID), "accepted", h.ID)
	t.acknowledge(AckAgentJoined, q, AckValues{Agent: agent.DisplayName})
	return t.finish(), nil
}

// Decline records that agent does not take a waiting handover and offers it to the next
// agent. A handover addressed to that one agent ends: the bot owns the conversation again, or,
// with no bot, it keeps waiting in its queue for anyone.
func Decline(s Situation, h Handover, agent Agent, reason string, r Routing) (Change, error) {
	if err := waiting(s, h); err != nil {
		return Change{}, err
	}
	if h.OfferedAgentID != agent.ID && !Eligible(agent, h, r.Queue) {
		return Change{}, Forbidden("handover %s is not offered to agent %s", h.ID, agent.ID)
	}
	t := begin(s, Actor{Kind: ActorAgent, ID: agent.ID})
	t.refuse(h, agent.ID, reason, EventHandoverDeclined, HandoverDeclined, r, true)
	return t.finish(), nil
}

// ExpireOffer ends an offer nobody answered in time, as if the agent had declined. An offer
// whose expire time has not come yet (it was renewed since the timer was set) is refused.
func ExpireOffer(s Situation, h Handover, r Routing) (Change, error) {
	if h.State != HandoverOffered || s.Conversation.ActiveHandoverID != h.ID {
		return Change{}, ownership(s.Conversation, "handover", "handover %s has no live offer", h.ID)
	}
	if s.Now.Before(h.OfferExpireTime) {
		return Change{}, ownership(s.Conversation, "handover", "the offer of handover %s to agent %s runs until %s",
			h.ID, h.OfferedAgentID, h.OfferExpireTime.Format(time.RFC3339))
	}
	t := begin(s, System)
	t.refuse(h, h.OfferedAgentID, "offer expired", EventHandoverOfferExpired, HandoverExpired, r, false)
	return t.finish(), nil
}

// WithdrawOffer ends an offer at once because the agent it was made to is no longer online,
// and offers the conversation to the next agent.
func WithdrawOffer(s Situation, h Handover, r Routing) (Change, error) {
	if h.State != HandoverOffered || s.Conversation.ActiveHandoverID != h.ID {
		return Change{}, ownership(s.Conversation, "handover", "handover %s has no live offer", h.ID)
	}
	t := begin(s, System)
	t.refuse(h, h.OfferedAgentID, "agent went offline", EventHandoverOfferExpired, HandoverExpired, r, false)
	return t.finish(), nil
}

// refuse ends agentID's part in a waiting handover. An explicit decline is remembered: that
// agent is not offered it again. An offer that lapsed (expired, or the agent went offline) is
// only not offered straight back to the same agent; a later pass may offer it again, since the
// agent may be the only one who can take it.
func (t *transition) refuse(h Handover, agentID, reason string, ev EventType, final HandoverState, r Routing, declined bool) {
	if declined && !slices.Contains(h.DeclinedAgentIDs, agentID) {
		h.DeclinedAgentIDs = append(slices.Clone(h.DeclinedAgentIDs), agentID)
	}
	if h.OfferedAgentID == agentID {
		h.State = HandoverRequested
		h.OfferedAgentID = ""
		h.OfferExpireTime = time.Time{}
	}
	// A handover addressed to that one agent ends and the bot owns again; with no bot to go
	// back to, anyone in the queue may take it. Decided before the event, so that the event
	// announces the handover as it is stored.
	backToBot := false
	if h.Target.AgentID != "" {
		if ok, _ := BotCanOwn(t.s); ok {
			h.State = final
			h.EndTime = t.s.Now
			backToBot = true
		} else {
			h.Target = Target{QueueID: h.QueueID}
		}
	}
	t.update(h)
	refused := h
	t.emit(ev, func(e *Event) { e.Handover = &refused; e.AgentID = agentID })
	if backToBot {
		t.conv.ActiveHandoverID = ""
		t.setOwner(BotOwner(t.s.Bot.ID), reason, h.ID)
		t.acknowledge(AckBackWithBot, r.Queue, AckValues{})
		return
	}
	if h.State == HandoverRequested {
		t.offer(h, r, agentID)
	}
}

// Reoffer offers a handover that waits with no live offer, when an agent has become available.
func Reoffer(s Situation, h Handover, r Routing) (Change, bool) {
	if h.State != HandoverRequested || s.Conversation.ActiveHandoverID != h.ID {
		return Change{}, false
	}
	t := begin(s, System)
	if got := t.offer(h, r); got.State != HandoverOffered {
		return Change{}, false
	}
	return t.finish(), true
}

// Cancel withdraws a waiting handover; the bot owns the conversation again. The bot that
// asked, a supervisor or an admin may cancel. Without a bot to return to there is nothing to
// cancel back to, so it is refused.
func Cancel(s Situation, actor Actor, h Handover, reason string) (Change, error) {
	if err := waiting(s, h); err != nil {
		return Change{}, err
	}
	if ok, why := BotCanOwn(s); !ok {
		return Change{}, ownership(s.Conversation, "bot", "cannot cancel: %s", why)
	}
	t := begin(s, actor)
	t.endActive(EndCanceled)
	t.backToBot(reasonOr(reason, "handover canceled"), h.ID)
	return t.finish(), nil
}

// Handback ends agent's engagement with a typed outcome: the bot owns the conversation again,
// or, with no bot to return to, the conversation is closed.
func Handback(s Situation, agent Agent, expected *uint64, outcome Outcome, summary string) (Change, error) {
	c := s.Conversation
	if err := CheckEpoch(c, expected); err != nil {
		return Change{}, err
	}
	if c.Owner != AgentOwner(agent.ID) || s.Active == nil || s.Active.State != HandoverAccepted {
		return Change{}, ownership(c, "owner", "agent %s is not engaged in the conversation", agent.ID)
	}
	t := begin(s, Actor{Kind: ActorAgent, ID: agent.ID})
	h := *s.Active
	h.State = HandoverReleased
	h.Outcome = outcome
	h.HandbackSummary = summary
	h.EndReason = EndHandedBack
	h.EndTime = s.Now
	t.update(h)
	t.emitHandover(EventHandoverReleased, h)
	t.conv.ActiveHandoverID = ""
	t.toBotOrClose("handed back: " + string(outcome))
	return t.finish(), nil
}

// Takeover makes agent the owner at once. Any agent may take over from the bot, a queue or a
// closed conversation; only a supervisor may take over from another agent.
func Takeover(s Situation, agent Agent, expected *uint64, reason string) (Change, error) {
	c := s.Conversation
	if err := CheckEpoch(c, expected); err != nil {
		return Change{}, err
	}
	if c.Owner == AgentOwner(agent.ID) {
		return Change{}, ownership(c, "owner", "agent %s already owns the conversation", agent.ID)
	}
	if c.Owner.Kind == OwnerAgent && agent.Role != RoleSupervisor {
		return Change{}, Forbidden("only a supervisor may take over from another agent")
	}
	t := begin(s, Actor{Kind: ActorAgent, ID: agent.ID})
	t.endActive(EndTakenOver)
	t.conv.State = ConversationOpen
	h := Handover{
		ID:             s.NewID("ho"),
		ConversationID: c.ID,
		From:           c.Owner,
		Target:         Target{AgentID: agent.ID},
		Reason:         reasonOr(reason, "takeover"),
		State:          HandoverAccepted,
		AgentID:        agent.ID,
		RequestedBy:    Actor{Kind: ActorAgent, ID: agent.ID},
		CreateTime:     s.Now,
		AcceptTime:     s.Now,
	}
	t.setOwner(AgentOwner(agent.ID), h.Reason, h.ID)
	h.Epoch = t.conv.Epoch
	t.create(h)
	t.conv.ActiveHandoverID = h.ID
	t.emitHandover(EventHandoverAccepted, h)
	if s.Queue != nil {
		t.acknowledge(AckAgentJoined, *s.Queue, AckValues{Agent: agent.DisplayName})
	}
	return t.finish(), nil
}

// Transfer passes an engaged conversation to another queue, skill, role or agent: the
// engagement is released and a new handover waits in the target queue. route is what the
// routing rules decided for the transfer (the agent's target is the one asked for).
func Transfer(s Situation, agent Agent, expected *uint64, target Target, reason, summary string, route RouteMatch, r Routing) (Change, error) {
	c := s.Conversation
	if err := CheckEpoch(c, expected); err != nil {
		return Change{}, err
	}
	owns := c.Owner == AgentOwner(agent.ID)
	if !owns && !(agent.Role == RoleSupervisor && c.Owner.Kind == OwnerAgent) {
		return Change{}, ownership(c, "owner", "agent %s is not engaged in the conversation", agent.ID)
	}
	if target.AgentID == agent.ID && owns {
		return Change{}, Invalid("target.agent_id", "cannot transfer a conversation to its own agent")
	}
	t := begin(s, Actor{Kind: ActorAgent, ID: agent.ID})
	t.endActive(EndTransferred)
	h := Handover{Target: target, Reason: reasonOr(reason, "transfer"), Summary: summary}
	t.routed(&h, route)
	t.enqueue(h, r, AckTransferred)
	return t.finish(), nil
}

// Close ends a conversation: the live handover ends and nobody owns it until the customer
// writes again. The owner, a supervisor or an admin may close.
func Close(s Situation, actor Actor, expected *uint64, reason string) (Change, error) {
	c := s.Conversation
	if err := CheckEpoch(c, expected); err != nil {
		return Change{}, err
	}
	if c.State == ConversationClosed {
		return Change{}, ownership(c, "state", "the conversation is already closed")
	}
	t := begin(s, actor)
	t.endActive(EndClosed)
	t.close(reasonOr(reason, "closed"))
	return t.finish(), nil
}

// SessionTimeout acts on a conversation idle past its channel's session timeout: a human
// stretch (queue or agent) returns to the bot, and a conversation already with its bot, or with
// no bot to return to, is closed. ok is false when nothing is due.
func SessionTimeout(s Situation) (Change, bool) {
	c := s.Conversation
	timeout := s.Channel.SessionTimeout
	if timeout <= 0 {
		timeout = DefaultSessionTimeout
	}
	if c.State != ConversationOpen || s.Now.Before(c.LastActivityTime.Add(timeout)) {
		return Change{}, false
	}
	t := begin(s, System)
	t.endActive(EndSessionTimeout)
	if ok, _ := BotCanOwn(s); ok && c.Owner != BotOwner(s.Bot.ID) {
		t.backToBot("session timeout", "")
	} else {
		t.close("session timeout")
	}
	return t.finish(), true
}

// Mute silences the bot for the conversation until the given time. A bot that owned the
// conversation loses it to the default queue, since a muted bot cannot answer.
func Mute(s Situation, actor Actor, until time.Time, r Routing) Change {
	s.Conversation.BotMutedUntil = until
	t := begin(s, actor)
	t.emit(EventBotMuted, nil)
	t.reconcile("bot muted", r)
	return t.finish()
}

// ContactMuted re-applies the ownership rules to one conversation of a contact whose bot was
// just muted (s.Contact carries the new mute).
func ContactMuted(s Situation, actor Actor, r Routing) (Change, bool) {
	if ok, _ := BotCanOwn(s); ok || s.Conversation.Owner.Kind != OwnerBot {
		return Change{}, false
	}
	t := begin(s, actor)
	t.reconcile("bot muted for contact", r)
	return t.finish(), true
}

// BotUnreachable moves a conversation away from its bot once the bot's webhook is inactive under
// the handoff policy (s.Bot carries Unreachable), so the customer is not left with nobody.
func BotUnreachable(s Situation, r Routing) (Change, bool) {
	if ok, _ := BotCanOwn(s); ok || s.Conversation.Owner.Kind != OwnerBot || s.Conversation.State != ConversationOpen {
		return Change{}, false
	}
	t := begin(s, System)
	t.reconcile("bot webhook unreachable", r)
	return t.finish(), true
}

// Unmute lifts the conversation's mute. Ownership does not change: whoever answers now
// keeps answering, and the bot is back in line for when they are done.
func Unmute(s Situation, actor Actor) Change {
	s.Conversation.BotMutedUntil = time.Time{}
	t := begin(s, actor)
	t.emit(EventBotUnmuted, nil)
	return t.finish()
}

// ExpireMute lifts a conversation mute whose time has come.
func ExpireMute(s Situation) (Change, bool) {
	if s.Conversation.BotMutedUntil.IsZero() || s.Now.Before(s.Conversation.BotMutedUntil) {
		return Change{}, false
	}
	return Unmute(s, System), true
}

// ContactMuteEvent announces a contact-wide mute or unmute of a contact of channel ch.
func ContactMuteEvent(c Contact, ch Channel, typ EventType, actor Actor, now time.Time, newID func(string) string) Event {
	snapshot := c
	return Event{
		ID: newID("ev"), Type: typ, Time: now,
		ChannelID: c.ChannelID, ContactID: c.ID, Actor: actor, Contact: &snapshot,
		Audience: AudienceOf(ch, nil),
	}
}

// ConversationUpdated announces a change of the conversation's own fields (status, language,
// tags): s.Conversation is the conversation as changed.
func ConversationUpdated(s Situation, actor Actor) Event {
	t := begin(s, actor)
	t.emit(EventConversationUpdated, nil)
	return t.finish().Events[0]
}

// SetBotEnabled turns the bot off or on for one conversation. Turning it off while it owns
// moves the conversation to the default queue.
func SetBotEnabled(s Situation, actor Actor, enabled bool, r Routing) Change {
	s.Conversation.BotEnabled = enabled
	t := begin(s, actor)
	t.emit(EventConversationUpdated, nil)
	t.reconcile("bot turned off for the conversation", r)
	return t.finish()
}

// reconcile moves a bot-owned open conversation whose bot may no longer own it to its default
// owner.
func (t *transition) reconcile(reason string, r Routing) {
	t.s.Conversation = t.conv
	if t.conv.State != ConversationOpen || t.conv.Owner.Kind != OwnerBot {
		return
	}
	if ok, _ := BotCanOwn(t.s); !ok {
		t.toDefault(reason, r)
	}
}

// SetPresence changes an agent's presence and announces it.
func SetPresence(a Agent, p Presence, actor Actor, now time.Time, newID func(string) string) (Agent, []Event) {
	a.LastSeenTime = now
	if a.Presence == p {
		return a, nil
	}
	a.Presence = p
	a.UpdateTime = now
	snapshot := a
	return a, []Event{{
		ID: newID("ev"), Type: EventAgentPresenceChanged, Time: now,
		AgentID: a.ID, Actor: actor, Agent: &snapshot,
	}}
}

func reasonOr(reason, fallback string) string {
	if reason == "" {
		return fallback
	}
	return reason
}
