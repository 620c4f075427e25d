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
