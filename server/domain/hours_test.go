package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// weekdays9to17 is a Paris office: Monday to Friday 09:00–12:00 and 13:00–17:00, Saturday
// 10:00–14:00, Sunday 22:00–24:00 (a late shift), closed on Christmas 2025.
func weekdays9to17() domain.BusinessHours {
	h := domain.BusinessHours{
		TimeZone:    "Europe/Paris",
		ClosedDates: []string{"2025-12-25"},
		OutOfHours:  domain.OutOfHours{Action: domain.OutOfHoursStayWithBot},
	}
	h.Intervals = append(h.Intervals, domain.OpenInterval{Weekday: time.Sunday, Start: 22 * 60, End: domain.MinutesPerDay})
	for d := time.Monday; d <= time.Friday; d++ {
		h.Intervals = append(h.Intervals,
			domain.OpenInterval{Weekday: d, Start: 9 * 60, End: 12 * 60},
			domain.OpenInterval{Weekday: d, Start: 13 * 60, End: 17 * 60})
	}
	h.Intervals = append(h.Intervals, domain.OpenInterval{Weekday: time.Saturday, Start: 10 * 60, End: 14 * 60})
	return h
}

func TestBusinessHoursOpen(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, paris) }
	tests := []struct {
		name string
		t    time.Time
		open bool
	}{
		{"Monday 08:59, before opening", at(2025, time.March, 3, 8, 59), false},
		{"Monday 09:00, opening minute", at(2025, time.March, 3, 9, 0), true},
		{"Monday 11:59", at(2025, time.March, 3, 11, 59), true},
		{"Monday 12:00, lunch: the end is exclusive", at(2025, time.March, 3, 12, 0), false},
		{"Monday 13:00, after lunch", at(2025, time.March, 3, 13, 0), true},
		{"Monday 17:00, closed", at(2025, time.March, 3, 17, 0), false},
		{"Saturday 13:59", at(2025, time.March, 8, 13, 59), true},
		{"Sunday 21:59", at(2025, time.March, 9, 21, 59), false},
		{"Sunday 23:59, the interval that ends at midnight", at(2025, time.March, 9, 23, 59), true},
		{"Monday 00:00 after the late shift", at(2025, time.March, 10, 0, 0), false},
		// The same instant, written in UTC, is judged on Paris's wall clock.
		{"08:30 UTC is 09:30 in Paris in winter", time.Date(2025, time.March, 3, 8, 30, 0, 0, time.UTC), true},
		{"07:30 UTC is 09:30 in Paris in summer", time.Date(2025, time.July, 7, 7, 30, 0, 0, time.UTC), true},
		{"07:30 UTC is 08:30 in Paris in winter", time.Date(2025, time.March, 3, 7, 30, 0, 0, time.UTC), false},
		// Spring forward: Sunday 30 March 2025, 02:00 becomes 03:00; Monday keeps 09:00 local.
		{"Monday after spring forward, 09:00 local = 07:00 UTC", time.Date(2025, time.March, 31, 7, 0, 0, 0, time.UTC), true},
		{"Monday after spring forward, 08:00 UTC = 10:00 local", time.Date(2025, time.March, 31, 8, 0, 0, 0, time.UTC), true},
		{"Monday before spring forward, 07:00 UTC = 08:00 local", time.Date(2025, time.March, 24, 7, 0, 0, 0, time.UTC), false},
		{"the Sunday of spring forward, 23:30 local (21:30 UTC)", time.Date(2025, time.March, 30, 21, 30, 0, 0, time.UTC), true},
		// Fall back: Sunday 26 October 2025, 03:00 becomes 02:00.
		{"Monday after fall back, 08:00 UTC = 09:00 local", time.Date(2025, time.October, 27, 8, 0, 0, 0, time.UTC), true},
		{"Monday after fall back, 07:30 UTC = 08:30 local", time.Date(2025, time.October, 27, 7, 30, 0, 0, time.UTC), false},
		{"Friday before fall back, 07:30 UTC = 09:30 local", time.Date(2025, time.October, 24, 7, 30, 0, 0, time.UTC), true},
		// Closed dates are local dates, whatever the weekday's hours.
		{"Christmas, a Thursday, 10:00", at(2025, time.December, 25, 10, 0), false},
		{"Christmas Eve 10:00", at(2025, time.December, 24, 10, 0), true},
		{"Boxing Day 10:00", at(2025, time.December, 26, 10, 0), true},
		{"Christmas 10:00 local written in UTC", time.Date(2025, time.December, 25, 9, 0, 0, 0, time.UTC), false},
	}
	h := weekdays9to17()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Open(tt.t); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.t.In(paris), got, tt.open)
			}
		})
	}
}

// A closed date is the local date: late evening in New York on the 24th is already the 25th
// in UTC, and still open there.
func TestBusinessHoursClosedDateIsLocal(t *testing.T) {
	h := domain.BusinessHours{
		TimeZone:    "America/New_York",
		Intervals:   []domain.OpenInterval{{Weekday: time.Wednesday, Start: 0, End: domain.MinutesPerDay}},
		ClosedDates: []string{"2025-12-25"},
		OutOfHours:  domain.OutOfHours{Action: domain.OutOfHoursQueue},
	}
	eve := time.Date(2025, time.December, 25, 3, 0, 0, 0, time.UTC) // Wednesday 22:00 in New York
	if !h.Open(eve) {
		t.Errorf("Open(Christmas Eve 22:00 New York) = false, want true")
	}
}

// The spring-forward hour does not exist locally: an interval inside it is never open, and the
// hours around it keep their wall-clock meaning.
func TestBusinessHoursSkippedHour(t *testing.T) {
	h := domain.BusinessHours{
		TimeZone:   "Europe/Paris",
		Intervals:  []domain.OpenInterval{{Weekday: time.Sunday, Start: 2 * 60, End: 3 * 60}},
		OutOfHours: domain.OutOfHours{Action: domain.OutOfHoursQueue},
	}
	for m := 0; m < 24*60; m += 15 { // every quarter of the DST Sunday, in UTC
		at := time.Date(2025, time.March, 29, 22, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)
		if h.Open(at) {
			t.Errorf("Open(%s) = true: 02:00–03:00 does not exist that day", at)
		}
	}
	// The repeated hour of fall back is open both times.
	h.Intervals = []domain.OpenInterval{{Weekday: time.Sunday, Start: 2 * 60, End: 3 * 60}}
	first := time.Date(2025, time.October, 26, 0, 30, 0, 0, time.UTC)  // 02:30 CEST
	second := time.Date(2025, time.October, 26, 1, 30, 0, 0, time.UTC) // 02:30 CET
	if !h.Open(first) || !h.Open(second) {
		t.Errorf("Open(02:30 twice) = %v, %v, want true twice", h.Open(first), h.Open(second))
	}
}

func TestBusinessHoursCheck(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*domain.BusinessHours)
		field string // "" when valid
	}{
		{"valid", func(*domain.BusinessHours) {}, ""},
		{"unknown zone", func(h *domain.BusinessHours) { h.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"empty zone", func(h *domain.BusinessHours) { h.TimeZone = "" }, "time_zone"},
		{"end before start", func(h *domain.BusinessHours) { h.Intervals[0].End = 21 * 60 }, "intervals[0]"},
		{"empty interval", func(h *domain.BusinessHours) { h.Intervals[1].End = h.Intervals[1].Start }, "intervals[1]"},
		{"past midnight", func(h *domain.BusinessHours) { h.Intervals[0].End = domain.MinutesPerDay + 1 }, "intervals[0]"},
		{"overlap", func(h *domain.BusinessHours) { h.Intervals[2].Start = 11 * 60 }, "intervals[2]"},
		{"out of order", func(h *domain.BusinessHours) { h.Intervals[1], h.Intervals[3] = h.Intervals[3], h.Intervals[1] }, "intervals[2]"},
		{"bad weekday", func(h *domain.BusinessHours) { h.Intervals[len(h.Intervals)-1].Weekday = 7 }, "intervals[11].weekday"},
		{"bad date", func(h *domain.BusinessHours) { h.ClosedDates = []string{"25/12/2025"} }, "closed_dates[0]"},
		{"no action", func(h *domain.BusinessHours) { h.OutOfHours = domain.OutOfHours{} }, "out_of_hours.action"},
		{"other queue without queue", func(h *domain.BusinessHours) { h.OutOfHours.Action = domain.OutOfHoursOtherQueue }, "out_of_hours.queue_id"},
		{"queue with a queue", func(h *domain.BusinessHours) { h.OutOfHours.QueueID = "q-x" }, "out_of_hours.queue_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := weekdays9to17()
			tt.edit(&h)
			err := h.Check()
			var inv *domain.InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field):
				t.Errorf("Check() = %v, want an invalid %s", err, tt.field)
			}
		})
	}
}

func TestQueueClosedNow(t *testing.T) {
	q := defaultQueue()
	monday := time.Date(2025, time.March, 3, 10, 0, 0, 0, time.UTC) // 11:00 in Paris
	if _, closed := q.ClosedNow(monday); closed {
		t.Errorf("a queue without hours is closed")
	}
	h := weekdays9to17()
	q.Policy.Hours = &h
	if _, closed := q.ClosedNow(monday); closed {
		t.Errorf("closed on Monday 11:00")
	}
	ooh, closed := q.ClosedNow(monday.Add(10 * time.Hour))
	if !closed || ooh.Action != domain.OutOfHoursStayWithBot {
		t.Errorf("ClosedNow(Monday 21:00) = %v, %v, want stay with bot", ooh, closed)
	}
}
