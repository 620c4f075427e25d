package domain

import (
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // business hours name IANA zones: the binary carries them, hosts may not
)

// QueuePolicy is what a queue says about when it is open and what the customer is told.
type QueuePolicy struct {
	// Hours is when agents answer; nil means always open.
	Hours *BusinessHours `json:"hours,omitempty"`
	// Acknowledgements are the messages Baton sends the customer on the way.
	Acknowledgements Acknowledgements `json:"acknowledgements,omitzero"`
}

// BusinessHours is a queue's weekly schedule in its time zone, with closed dates, and what a
// handoff does outside it.
type BusinessHours struct {
	// TimeZone is an IANA zone ("Europe/Paris"); the schedule is in its wall-clock time.
	TimeZone string `json:"time_zone"`
	// Intervals are the open intervals of the week.
	Intervals []OpenInterval `json:"intervals,omitempty"`
	// ClosedDates are local dates ("2025-12-25") closed all day.
	ClosedDates []string `json:"closed_dates,omitempty"`
	// OutOfHours is what a handoff does when the queue is closed.
	OutOfHours OutOfHours `json:"out_of_hours"`
}

// OpenInterval is one open stretch of a weekday, in minutes since local midnight: [Start, End).
// End may be 1440 (midnight at the end of the day).
type OpenInterval struct {
	Weekday time.Weekday `json:"weekday"`
	Start   int          `json:"start"`
	End     int          `json:"end"`
}

// MinutesPerDay bounds an interval's minutes.
const MinutesPerDay = 24 * 60

// OutOfHoursAction is what a handoff does when its queue is closed.
type OutOfHoursAction string

// Out-of-hours actions.
const (
	// OutOfHoursQueue queues the conversation anyway, for when agents come back.
	OutOfHoursQueue OutOfHoursAction = "queue"
	// OutOfHoursStayWithBot leaves the conversation with the bot.
	OutOfHoursStayWithBot OutOfHoursAction = "stay_with_bot"
	// OutOfHoursOtherQueue sends the conversation to another queue (QueueID).
	OutOfHoursOtherQueue OutOfHoursAction = "other_queue"
)

// OutOfHours is a queue's out-of-hours action.
type OutOfHours struct {
	Action  OutOfHoursAction `json:"action"`
	QueueID string           `json:"queue_id,omitempty"`
}

// OutOfHoursOutcome says what a handoff did because its queue was closed; empty when it was open.
type OutOfHoursOutcome string

// Out-of-hours outcomes, as recorded on the handover.
const (
	OutOfHoursQueued        OutOfHoursOutcome = "queued"
	OutOfHoursStayedWithBot OutOfHoursOutcome = "stayed_with_bot"
	OutOfHoursRedirected    OutOfHoursOutcome = "redirected"
)

// dateLayout is how closed dates are written.
const dateLayout = time.DateOnly

// Location is the hours' time zone.
func (b BusinessHours) Location() (*time.Location, error) {
	if b.TimeZone == "" {
		return nil, fmt.Errorf("no time zone")
	}
	return time.LoadLocation(b.TimeZone)
}

// Open reports whether t falls in an open interval of its local weekday and not on a closed
// date. The schedule is wall-clock time: across a DST change an interval keeps its local
// hours (a 09:00–17:00 day stays 09:00–17:00), a local time skipped by the change is never
// reached, and a repeated one is open both times. Hours whose zone does not load (checked on
// input, so only a zone removed from the database since) count as always open: a queue that
// cannot tell is not closed to everyone.
func (b BusinessHours) Open(t time.Time) bool {
	loc, err := b.Location()
	if err != nil {
		return true
	}
	local := t.In(loc)
	if slices.Contains(b.ClosedDates, local.Format(dateLayout)) {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	for _, iv := range b.Intervals {
		if iv.Weekday == local.Weekday() && iv.Start <= minute && minute < iv.End {
			return true
		}
	}
	return false
}

// Check validates the hours; field names are relative to the hours.
func (b BusinessHours) Check() error {
	if _, err := b.Location(); err != nil {
		return Invalid("time_zone", "%q is not an IANA time zone", b.TimeZone)
	}
	for i, iv := range b.Intervals {
		field := fmt.Sprintf("intervals[%d]", i)
		switch {
		case iv.Weekday < time.Sunday || iv.Weekday > time.Saturday:
			return Invalid(field+".weekday", "weekday must be set")
		case iv.Start < 0 || iv.End > MinutesPerDay || iv.Start >= iv.End:
			return Invalid(field, "an interval must start before it ends, within the day")
		}
		if i > 0 {
			prev := b.Intervals[i-1]
			if prev.Weekday > iv.Weekday || prev.Weekday == iv.Weekday && prev.End > iv.Start {
				return Invalid(field, "intervals must be in weekday and time order, without overlap")
			}
		}
	}
	for i, d := range b.ClosedDates {
		if _, err := time.Parse(dateLayout, d); err != nil {
			return Invalid(fmt.Sprintf("closed_dates[%d]", i), "%q is not a date (YYYY-MM-DD)", d)
		}
	}
	switch b.OutOfHours.Action {
	case OutOfHoursQueue, OutOfHoursStayWithBot:
		if b.OutOfHours.QueueID != "" {
			return Invalid("out_of_hours.queue_id", "only the other-queue action names a queue")
		}
	case OutOfHoursOtherQueue:
		if b.OutOfHours.QueueID == "" {
			return Invalid("out_of_hours.queue_id", "the other-queue action needs a queue")
		}
	default:
		return Invalid("out_of_hours.action", "an out-of-hours action is required")
	}
	return nil
}

// ClosedNow says whether q is closed at now, and if so what a handoff to it does.
func (q Queue) ClosedNow(now time.Time) (OutOfHours, bool) {
	h := q.Policy.Hours
	if h == nil || h.Open(now) {
		return OutOfHours{}, false
	}
	return h.OutOfHours, true
}
