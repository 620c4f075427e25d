package events

// Live returns how many streams are on the live feed, for tests that wait for streams to join.
func (h *Hub) Live() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams)
}
