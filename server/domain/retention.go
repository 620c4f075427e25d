package domain

import (
	"fmt"
	"time"
)

// Retention says how long a channel keeps its messages, events and webhook delivery log. A
// zero field follows the server's default; Forever keeps that data however old it is.
type Retention struct {
	Messages   time.Duration `json:"messages,omitempty"`
	Events     time.Duration `json:"events,omitempty"`
	Deliveries time.Duration `json:"deliveries,omitempty"`
}

// Forever is a retention that keeps data forever.
const Forever time.Duration = -1

// MinRetention is the shortest retention: anything shorter could sweep what a live stream, a
// send or a delivery being retried still needs.
const MinRetention = time.Hour

// Or fills the fields r leaves to the default with def's.
func (r Retention) Or(def Retention) Retention {
	pick := func(own, def time.Duration) time.Duration {
		if own == 0 {
			return def
		}
		return own
	}
	return Retention{pick(r.Messages, def.Messages), pick(r.Events, def.Events), pick(r.Deliveries, def.Deliveries)}
}

// Horizon is the time before which data kept for d is deleted at now, and false when d keeps
// it forever (Forever, or 0 once the defaults are applied: the server keeps forever by default).
func Horizon(now time.Time, d time.Duration) (time.Time, bool) {
	if d <= 0 {
		return time.Time{}, false
	}
	return now.Add(-d), true
}

// Check tells whether each field is the default, Forever, or at least MinRetention.
func (r Retention) Check() error {
	for field, d := range map[string]time.Duration{
		"retention.messages": r.Messages, "retention.events": r.Events, "retention.deliveries": r.Deliveries,
	} {
		if d != 0 && d != Forever && d < MinRetention {
			return Invalid(field, "must be zero (forever) or at least %s", MinRetention)
		}
	}
	return nil
}

// EventsGoneError says that events the caller asked for (those after After) were deleted by
// retention: the first sequence it can read on from without a gap is Earliest.
type EventsGoneError struct {
	After    uint64
	Earliest uint64
}

func (e *EventsGoneError) Error() string {
	return fmt.Sprintf("events after sequence %d were deleted by retention: the earliest sequence still available is %d", e.After, e.Earliest)
}
