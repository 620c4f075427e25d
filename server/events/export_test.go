package events

import "time"

// Live returns how many streams are on the live feed, for tests that wait for streams to join.
func (h *Hub) Live() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams)
}

// SetGatherTimer replaces the timer the hub waits on between reads; call it before Run.
func (h *Hub) SetGatherTimer(after func(time.Duration) <-chan time.Time) { h.after = after }

// GatherStreams is how many streams make the hub wait all of Gather.
const GatherStreams = gatherStreams
