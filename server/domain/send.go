package domain

import "time"

// SendResult is what a channel's send API did with an outbound message.
type SendResult struct {
	// ChannelMessageID is the channel's id for the message it accepted.
	ChannelMessageID string
	// Error is the channel's refusal; empty when it accepted the message.
	Error string
	// Transient says trying again later may work (a rate limit, the channel's own failure).
	Transient bool
	// RetryAfter is how long the channel asked to wait.
	RetryAfter time.Duration
}

// RecordSend applies the result of an attempt to send m at now: the message is sent; or due
// again later on the retry schedule (no sooner than the channel asked); or failed, when the
// channel refused it for good or the schedule is spent. changed says its status changed, which
// is announced.
func RecordSend(m Message, r SendResult, p RetryPolicy, now time.Time) (out Message, changed bool) {
	m.Attempts++
	m.LeaseExpireTime = time.Time{}
	switch {
	case r.Error == "":
		m.Status, m.ChannelMessageID, m.Error = DeliverySent, r.ChannelMessageID, ""
		return m, true
	case r.Transient && m.Attempts <= len(p.Schedule):
		m.Error = r.Error // the latest reason it is still pending
		m.NextAttemptTime = now.Add(p.wait(m.Attempts, r.RetryAfter))
		return m, false
	default:
		m.Status, m.Error = DeliveryFailed, r.Error
		return m, true
	}
}
