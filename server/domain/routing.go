package domain

import (
	"slices"
	"sort"
)

// Eligible reports whether an agent may be offered, or accept, a handover waiting in queue q.
// The handover's target narrows who qualifies: one agent, a role, a skill, or the queue's
// members having all of the queue's skills.
func Eligible(a Agent, h Handover, q Queue) bool {
	switch {
	case h.Supervisors && a.Role == RoleSupervisor: // offered to supervisors too after an SLA breach
		return true
	case h.Target.AgentID != "":
		return a.ID == h.Target.AgentID
	case h.Target.Role != "":
		return a.Role == h.Target.Role
	case h.Target.Skill != "":
		return slices.Contains(a.Skills, h.Target.Skill)
	}
	if !slices.Contains(a.QueueIDs, q.ID) {
		return false
	}
	for _, s := range q.Skills {
		if !slices.Contains(a.Skills, s) {
			return false
		}
	}
	return true
}

// HasCapacity reports whether the agent can take one more conversation.
func HasCapacity(a Agent) bool { return a.Active < max(a.Capacity, 1) }

// PresenceCheck answers the handoff question "can a human take this now?": it returns "" when
// an eligible agent is online with free capacity, and otherwise why not.
func PresenceCheck(h Handover, q Queue, agents []Agent) FailureReason {
	online := false
	for _, a := range agents {
		if !Eligible(a, h, q) || a.Presence != PresenceOnline || slices.Contains(h.DeclinedAgentIDs, a.ID) {
			continue
		}
		if HasCapacity(a) {
			return ""
		}
		online = true
	}
	if online {
		return NoCapacity
	}
	return NoAgentOnline
}

// PickAgent chooses who to offer a waiting handover to: an eligible, online agent with free
// capacity who has not declined it and is not excluded, the least loaded first (ties by id, so
// the choice is reproducible). ok is false when nobody qualifies.
func PickAgent(h Handover, q Queue, agents []Agent, exclude ...string) (Agent, bool) {
	var candidates []Agent
	for _, a := range agents {
		if Eligible(a, h, q) && a.Presence == PresenceOnline && HasCapacity(a) &&
			!slices.Contains(h.DeclinedAgentIDs, a.ID) && !slices.Contains(exclude, a.ID) {
			candidates = append(candidates, a)
		}
	}
	if len(candidates) == 0 {
		return Agent{}, false
	}
	sort.Slice(candidates, func(i, j int) bool {
		li := float64(candidates[i].Active) / float64(max(candidates[i].Capacity, 1))
		lj := float64(candidates[j].Active) / float64(max(candidates[j].Capacity, 1))
		if li != lj {
			return li < lj
		}
		return candidates[i].ID < candidates[j].ID
	})
	return candidates[0], true
}
