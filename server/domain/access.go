package domain

import "slices"

// CanSeeConversation decides whether a principal may see (and so act on) a conversation:
// admins and services see everything; a bot sees the conversations of channels it is bound
// to; a supervisor sees everything; an agent sees what it owns or was offered, what waits in
// or belongs to its queues, and the bot's (or closed) conversations of channels whose default
// queue it serves, so it can take over from their bot. agent is the calling agent's record, for agents.
func CanSeeConversation(p Principal, c Conversation, ch Channel, active *Handover, agent *Agent) bool {
	switch p.Role {
	case PrincipalAdmin, PrincipalService:
		return true
	case PrincipalBot:
		return ch.BotID != "" && ch.BotID == p.SubjectID
	case PrincipalAgent:
		if agent == nil {
			return false
		}
		if agent.Role == RoleSupervisor || c.Owner == AgentOwner(agent.ID) {
			return true
		}
		if active != nil && active.OfferedAgentID == agent.ID {
			return true
		}
		if c.Owner.Kind == OwnerQueue && slices.Contains(agent.QueueIDs, c.Owner.ID) {
			return true
		}
		// The team of the queue a conversation came through sees it while one of them holds
		// it (and an agent who lost an accept race learns who won).
		if active != nil && slices.Contains(agent.QueueIDs, active.QueueID) {
			return true
		}
		// The agents of a channel's default queue may take over from its bot (or reopen a
		// closed conversation), so they see those; not what other humans hold.
		botSide := c.Owner.Kind == OwnerBot || c.Owner.Kind == OwnerNobody
		return botSide && slices.Contains(agent.QueueIDs, ch.DefaultQueueID)
	}
	return false
}

// CanSeeChannel decides whether a principal may see a channel and its contacts: admins and
// services all; a bot the channels bound to it; a supervisor all; an agent the channels whose
// default queue it serves.
func CanSeeChannel(p Principal, ch Channel, agent *Agent) bool {
	switch p.Role {
	case PrincipalAdmin, PrincipalService:
		return true
	case PrincipalBot:
		return ch.BotID != "" && ch.BotID == p.SubjectID
	case PrincipalAgent:
		return agent != nil && (agent.Role == RoleSupervisor || slices.Contains(agent.QueueIDs, ch.DefaultQueueID))
	}
	return false
}

// CanAdminister reports whether the principal may manage configuration: channels, bots,
// agents, queues and API keys.
func CanAdminister(p Principal) bool { return p.Role == PrincipalAdmin }

// CanIngest reports whether the principal may inject inbound customer messages on a channel:
// admins, services, and the bot bound to the channel (for sources it bridges itself).
func CanIngest(p Principal, ch Channel) bool {
	switch p.Role {
	case PrincipalAdmin, PrincipalService:
		return true
	case PrincipalBot:
		return ch.BotID != "" && ch.BotID == p.SubjectID
	}
	return false
}

// CanSupervise reports whether the principal may mute or switch off the bot, close, or cancel
// on behalf of others: admins, supervisors, and the agent or bot that owns the conversation.
func CanSupervise(p Principal, c Conversation, agent *Agent) bool {
	switch p.Role {
	case PrincipalAdmin:
		return true
	case PrincipalAgent:
		return agent != nil && (agent.Role == RoleSupervisor || c.Owner == AgentOwner(agent.ID))
	case PrincipalBot:
		return c.Owner == BotOwner(p.SubjectID)
	}
	return false
}

// FormerParty reports whether a principal who may no longer see a conversation once had a part
// in it: a bot that owned it, or an agent that held it, was offered or asked for it, or whose
// queue it waited in. owners are who owned the conversation, in turn; handovers are its
// handovers. Such a caller lost the conversation, and is told who owns it now; anyone else is
// told it does not exist.
func FormerParty(p Principal, owners []Owner, handovers []Handover, agent *Agent) bool {
	switch p.Role {
	case PrincipalBot:
		return slices.Contains(owners, BotOwner(p.SubjectID))
	case PrincipalAgent:
		// Every stretch with an agent or in a queue has its handover.
		return agent != nil && slices.ContainsFunc(handovers, func(h Handover) bool { return hadPart(*agent, h) })
	}
	return false
}

// hadPart reports whether agent had a part in a handover: it held it, was offered it, declined
// it, or the handover was addressed to it (by id, skill or role) or waited in one of its queues.
func hadPart(agent Agent, h Handover) bool {
	switch {
	case h.AgentID == agent.ID, h.OfferedAgentID == agent.ID, h.Target.AgentID == agent.ID:
		return true
	case slices.Contains(h.DeclinedAgentIDs, agent.ID), slices.Contains(agent.QueueIDs, h.QueueID):
		return true
	case h.Target.Skill != "" && slices.Contains(agent.Skills, h.Target.Skill):
		return true
	}
	return h.Target.Role != "" && h.Target.Role == agent.Role
}

// Lost is the refusal for a former party's call on a conversation it no longer has: it names who
// owns the conversation now and at which epoch, so a desk can tell "you lost this conversation"
// from "your key is wrong".
func Lost(c Conversation) error {
	return ownership(c, "owner", "this key no longer has the conversation")
}

// NotOwner is the refusal for a call only the owner (or a supervisor) may make, by a bot or
// agent that sees the conversation but does not own it.
func NotOwner(c Conversation, format string, args ...any) error {
	return ownership(c, "owner", format, args...)
}

// ChannelView is what a principal may read of a channel: agents see what a desk shows (kind,
// names, default queue, bot), never its credentials, not even those that are not secret (a send
// URL may carry a token of the customer's system); others see it whole.
func ChannelView(p Principal, ch Channel) Channel {
	if p.Role == PrincipalAgent {
		ch.Credentials = Credentials{}
	}
	return ch
}

// CanSeeBot decides whether a principal may read a bot: admins and services all; a bot itself;
// an agent a bot bound to a channel it may see (to show who had the conversation).
func CanSeeBot(p Principal, b Bot, visibleChannel func(id string) bool) bool {
	switch p.Role {
	case PrincipalAdmin, PrincipalService:
		return true
	case PrincipalBot:
		return p.SubjectID == b.ID
	case PrincipalAgent:
		return slices.ContainsFunc(b.ChannelIDs, visibleChannel)
	}
	return false
}

// Audience records on an event what CanSeeConversation reads besides the owner, as it was right
// after the change: the channel's default queue, and the live handover's queue and offered
// agent. An agent's stream decides from the event alone, with no read, and so decides as the
// agent's reads of the conversation did at that instant.
type Audience struct {
	ChannelQueueID string `json:"channel_queue_id,omitempty"`
	QueueID        string `json:"queue_id,omitempty"`
	OfferedAgentID string `json:"offered_agent_id,omitempty"`
}

// AudienceOf is the audience of an event of channel ch whose conversation's live handover is
// live (nil when none).
func AudienceOf(ch Channel, live *Handover) *Audience {
	a := &Audience{ChannelQueueID: ch.DefaultQueueID}
	if live != nil {
		a.QueueID, a.OfferedAgentID = live.QueueID, live.OfferedAgentID
	}
	return a
}

// CanReadEvent decides whether a principal may read an event, by the rules of its reads: admins
// and services every event; a bot the events of the channels bound to it; a supervisor every
// event; an agent the events about itself (its presence, its offers and engagements), those of a
// conversation it could see right after the change (CanSeeConversation on the event's owner and
// audience) or lost in that change, and a contact's events when it may see the contact's channel.
// agent is the calling agent's record, for agents.
func CanReadEvent(p Principal, e Event, agent *Agent) bool {
	switch p.Role {
	case PrincipalAdmin, PrincipalService:
		return true
	case PrincipalBot:
		return e.BotID != "" && e.BotID == p.SubjectID
	case PrincipalAgent:
		switch {
		case agent == nil:
			return false
		case agent.Role == RoleSupervisor, e.AgentID == agent.ID:
			return true
		case e.OwnerBefore != nil && *e.OwnerBefore == AgentOwner(agent.ID):
			return true // the change in which it lost the conversation
		case e.Audience == nil:
			return false
		}
		ch := Channel{ID: e.ChannelID, DefaultQueueID: e.Audience.ChannelQueueID}
		if e.ConversationID == "" {
			return e.ContactID != "" && CanSeeChannel(p, ch, agent)
		}
		var live *Handover
		if e.Audience.QueueID != "" || e.Audience.OfferedAgentID != "" {
			live = &Handover{QueueID: e.Audience.QueueID, OfferedAgentID: e.Audience.OfferedAgentID}
		}
		return CanSeeConversation(p, Conversation{Owner: e.Owner}, ch, live, agent)
	}
	return false
}
