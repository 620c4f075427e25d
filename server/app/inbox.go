package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Inbox is an agent's inbox: what is offered to it, what it owns, what waits in its queues,
// and the event sequence to follow it from.
type Inbox struct {
	Offers, Owned, Waiting []InboxItem
	Counts                 InboxCounts
	// Cursor is the last sequence committed before the inbox was read: a desk that follows the
	// events after it misses no change (and may see again some the inbox already shows).
	Cursor uint64
}

// InboxCounts counts each list of an inbox, beyond the page it lists.
type InboxCounts struct{ Offers, Owned, Waiting int }

// InboxItem is one row of an inbox: a conversation with its live handover and what a list row
// shows of it.
type InboxItem struct {
	Conversation domain.Conversation
	Handover     domain.Handover
	Contact      domain.Contact
	Channel      domain.Channel // as the caller may read it: without credentials for agents
	LastMessage  *domain.Message
	// WaitTime is how long the customer has waited: since the handover was requested for
	// offers and waiting ones; since the last inbound message for owned ones, 0 if answered.
	WaitTime time.Duration
}

var waitingStates = []domain.HandoverState{domain.HandoverRequested, domain.HandoverOffered}

// GetInbox reads the inbox of agentID ("" for the calling agent's own), at most size items a
// list. Agents read their own; supervisors, admins and services anyone's.
func (a *App) GetInbox(ctx context.Context, p domain.Principal, agentID string, size int) (Inbox, error) {
	// The cursor is read first: whatever commits after it is in the events that follow it,
	// whether or not the snapshot below already shows it.
	cursor, err := a.store.LastSequence(ctx)
	if err != nil {
		return Inbox{}, err
	}
	out := Inbox{Cursor: cursor}
	err = a.read(ctx, func(tx store.Tx) error {
		caller, err := a.callingAgent(ctx, tx, p)
		if err != nil {
			return err
		}
		agent, err := inboxAgent(ctx, tx, p, caller, agentID)
		if err != nil {
			return err
		}
		lists := []struct {
			q     store.HandoverQuery
			items *[]InboxItem
			count *int
		}{
			{offersOf(agent), &out.Offers, &out.Counts.Offers},
			{ownedBy(agent), &out.Owned, &out.Counts.Owned},
			{waitingFor(agent), &out.Waiting, &out.Counts.Waiting},
		}
		r := inboxReader{a: a, tx: tx, p: p, caller: caller, now: a.Now(), channels: map[string]domain.Channel{}}
		for _, l := range lists {
			if *l.items, err = r.items(ctx, l.q, size); err != nil {
				return err
			}
			if *l.count, err = tx.CountHandovers(ctx, l.q); err != nil {
				return err
			}
		}
		return r.lastMessages(ctx, out.Offers, out.Owned, out.Waiting)
	})
	return out, err
}

// inboxAgent is the agent whose inbox p asks for: an agent its own, unless it is a
// supervisor; admins and services must name one.
func inboxAgent(ctx context.Context, tx store.Tx, p domain.Principal, caller *domain.Agent, agentID string) (domain.Agent, error) {
	switch p.Role {
	case domain.PrincipalAgent:
		if agentID == "" || agentID == caller.ID {
			return *caller, nil
		}
		if caller.Role != domain.RoleSupervisor {
			return domain.Agent{}, domain.Forbidden("agents read their own inbox; only a supervisor may read another agent's")
		}
	case domain.PrincipalAdmin, domain.PrincipalService:
		if agentID == "" {
			return domain.Agent{}, domain.Invalid("agent_id", "name the agent whose inbox to read")
		}
	default:
		return domain.Agent{}, domain.Forbidden("only agents, supervisors, admins and services read inboxes")
	}
	return tx.GetAgent(ctx, agentID)
}

// offersOf selects the handovers offered to the agent, oldest first.
func offersOf(agent domain.Agent) store.HandoverQuery {
	return store.HandoverQuery{AgentID: agent.ID, States: []domain.HandoverState{domain.HandoverOffered}, OldestFirst: true}
}

// ownedBy selects the agent's engagements: an accepted handover is live exactly while its
// agent owns the conversation.
func ownedBy(agent domain.Agent) store.HandoverQuery {
	return store.HandoverQuery{AgentID: agent.ID, States: []domain.HandoverState{domain.HandoverAccepted}, OldestFirst: true}
}

// waitingFor selects what waits in the agent's queues (every queue for a supervisor) and is
// not offered to the agent itself, as they are offered: the highest priority first, then the
// longest waiting.
func waitingFor(agent domain.Agent) store.HandoverQuery {
	q := store.HandoverQuery{NotOfferedTo: agent.ID, States: waitingStates, ByPriority: true}
	if agent.Role != domain.RoleSupervisor {
		q.QueueIDs = append([]string{}, agent.QueueIDs...) // non-nil: no queue selects nothing
	}
	return q
}

// inboxReader builds inbox items in one read transaction.
type inboxReader struct {
	a        *App
	tx       store.Tx
	p        domain.Principal
	caller   *domain.Agent
	now      time.Time
	channels map[string]domain.Channel
}

// items lists the handovers q selects and builds their rows, keeping only conversations the
// caller may see (which, by the access rules, is all of them).
func (r *inboxReader) items(ctx context.Context, q store.HandoverQuery, size int) ([]InboxItem, error) {
	hs, _, err := r.tx.ListHandovers(ctx, q, store.Page{Size: size})
	if err != nil {
		return nil, err
	}
	out := make([]InboxItem, 0, len(hs))
	for _, h := range hs {
		item, err := r.item(ctx, h)
		if err != nil {
			return nil, err
		}
		if domain.CanSeeConversation(r.p, item.Conversation, item.Channel, &h, r.caller) {
			item.Channel = domain.ChannelView(r.p, item.Channel)
			out = append(out, item)
		}
	}
	return out, nil
}

func (r *inboxReader) item(ctx context.Context, h domain.Handover) (InboxItem, error) {
	conv, err := r.tx.GetConversation(ctx, h.ConversationID)
	if err != nil {
		return InboxItem{}, err
	}
	contact, err := r.tx.GetContact(ctx, conv.ContactID)
	if err != nil {
		return InboxItem{}, err
	}
	ch, ok := r.channels[conv.ChannelID]
	if !ok {
		if ch, err = r.tx.GetChannel(ctx, conv.ChannelID); err != nil {
			return InboxItem{}, err
		}
		r.channels[ch.ID] = ch
	}
	return InboxItem{Conversation: conv, Handover: h, Contact: contact, Channel: ch, WaitTime: r.waitTime(conv, h)}, nil
}

// waitTime is how long the customer has waited: since the handover was requested while it
// waits for an agent; once engaged, since the customer's last message if nobody answered it.
func (r *inboxReader) waitTime(c domain.Conversation, h domain.Handover) time.Duration {
	since := h.CreateTime
	if h.State == domain.HandoverAccepted {
		if !c.LastInboundTime.After(c.LastOutboundTime) {
			return 0
		}
		since = c.LastInboundTime
	}
	return max(r.now.Sub(since), 0)
}

// lastMessages fills the items' last messages with one read.
func (r *inboxReader) lastMessages(ctx context.Context, lists ...[]InboxItem) error {
	var ids []string
	for _, l := range lists {
		for _, item := range l {
			ids = append(ids, item.Conversation.ID)
		}
	}
	last, err := r.tx.LastMessages(ctx, ids)
	if err != nil {
		return err
	}
	for _, l := range lists {
		for i := range l {
			if m, ok := last[l[i].Conversation.ID]; ok {
				l[i].LastMessage = &m
			}
		}
	}
	return nil
}

// QueueStatus is a queue now: what waits in it and who can take it.
type QueueStatus struct {
	Queue      domain.Queue // Waiting counts what waits in it
	OldestWait time.Duration
	// Agents are the agents serving the queue who are online or away, by id.
	Agents []domain.Agent
}

// maxPresentAgents bounds how many online or away agents a queue view reads.
const maxPresentAgents = 10000

// ListQueueStatuses is the supervisor's view of queues. Admins, services and supervisors page
// through every queue; an agent gets its own queues, on one page.
func (a *App) ListQueueStatuses(ctx context.Context, p domain.Principal, page store.Page) ([]QueueStatus, string, error) {
	if p.Role == domain.PrincipalBot {
		return nil, "", domain.Forbidden("bots may not read queues")
	}
	var out []QueueStatus
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		queues, n, err := a.visibleQueues(ctx, tx, p, page)
		if err != nil {
			return err
		}
		next = n
		present, err := presentAgents(ctx, tx)
		if err != nil {
			return err
		}
		now := a.Now()
		for _, q := range queues {
			s, err := queueStatus(ctx, tx, q, present, now)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	return out, next, err
}

// visibleQueues is the page of queues p may watch: every queue, or an agent's own.
func (a *App) visibleQueues(ctx context.Context, tx store.Tx, p domain.Principal, page store.Page) ([]domain.Queue, string, error) {
	agent, err := a.callingAgent(ctx, tx, p)
	if err != nil {
		return nil, "", err
	}
	if agent == nil || agent.Role == domain.RoleSupervisor {
		return tx.ListQueues(ctx, page)
	}
	ids := slices.Sorted(slices.Values(agent.QueueIDs))
	var out []domain.Queue
	for _, id := range ids {
		q, err := tx.GetQueue(ctx, id)
		if isNotFound(err) { // deleted since the agent was given it
			continue
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, q)
	}
	return out, "", nil
}

// presentAgents reads every agent online or away, by id.
func presentAgents(ctx context.Context, tx store.Tx) ([]domain.Agent, error) {
	var out []domain.Agent
	for _, presence := range []domain.Presence{domain.PresenceOnline, domain.PresenceAway} {
		p := store.Page{Size: 1000}
		for {
			list, next, err := tx.ListAgents(ctx, store.AgentQuery{Presence: presence}, p)
			if err != nil {
				return nil, err
			}
			out = append(out, list...)
			if next == "" || len(out) >= maxPresentAgents {
				break
			}
			p.Cursor = next
		}
	}
	slices.SortFunc(out, func(a, b domain.Agent) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func queueStatus(ctx context.Context, tx store.Tx, q domain.Queue, present []domain.Agent, now time.Time) (QueueStatus, error) {
	s := QueueStatus{Queue: q}
	oldest, _, err := tx.ListHandovers(ctx, store.HandoverQuery{QueueID: q.ID, States: waitingStates, OldestFirst: true}, store.Page{Size: 1})
	if err != nil {
		return s, err
	}
	if len(oldest) > 0 {
		s.OldestWait = max(now.Sub(oldest[0].CreateTime), 0)
	}
	for _, ag := range present {
		if slices.Contains(ag.QueueIDs, q.ID) {
			s.Agents = append(s.Agents, ag)
		}
	}
	return s, nil
}
