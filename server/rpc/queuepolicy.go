package rpc

import (
	"fmt"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// Business hours and acknowledgements between the API and the domain. Times of day are
// "HH:MM" on the API and minutes since midnight in the domain; weekdays are Monday-first on
// the API and Go's Sunday-first in the domain.

func hoursToProto(h *domain.BusinessHours) *batonv1.BusinessHours {
	if h == nil {
		return nil
	}
	p := &batonv1.BusinessHours{
		TimeZone:          h.TimeZone,
		ClosedDates:       h.ClosedDates,
		OutOfHoursAction:  outOfHoursActions.toProto[h.OutOfHours.Action],
		OutOfHoursQueueId: h.OutOfHours.QueueID,
	}
	for _, iv := range h.Intervals {
		p.Intervals = append(p.Intervals, &batonv1.OpenInterval{
			Weekday: weekdayToProto(iv.Weekday), Start: clockText(iv.Start), End: clockText(iv.End),
		})
	}
	return p
}

func hoursToDomain(p *batonv1.BusinessHours) *domain.BusinessHours {
	if p == nil {
		return nil
	}
	h := &domain.BusinessHours{
		TimeZone:    p.GetTimeZone(),
		ClosedDates: p.GetClosedDates(),
		OutOfHours:  domain.OutOfHours{Action: outOfHoursActions.toDomain[p.GetOutOfHoursAction()], QueueID: p.GetOutOfHoursQueueId()},
	}
	for _, iv := range p.GetIntervals() {
		h.Intervals = append(h.Intervals, domain.OpenInterval{
			Weekday: weekdayToDomain(iv.GetWeekday()), Start: clockMinutes(iv.GetStart()), End: clockMinutes(iv.GetEnd()),
		})
	}
	return h
}

func weekdayToProto(d time.Weekday) batonv1.Weekday {
	if d == time.Sunday {
		return batonv1.Weekday_WEEKDAY_SUNDAY
	}
	return batonv1.Weekday(d)
}

// weekdayToDomain maps an unset weekday to -1, which the domain refuses.
func weekdayToDomain(d batonv1.Weekday) time.Weekday {
	switch {
	case d == batonv1.Weekday_WEEKDAY_SUNDAY:
		return time.Sunday
	case d >= batonv1.Weekday_WEEKDAY_MONDAY && d <= batonv1.Weekday_WEEKDAY_SATURDAY:
		return time.Weekday(d)
	}
	return -1
}

func clockText(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// clockMinutes reads "HH:MM" (validated by the proto's pattern); anything else is -1, which
// the domain refuses.
func clockMinutes(s string) int {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil {
		return -1
	}
	return h*60 + m
}

func acksToProto(a domain.Acknowledgements) *batonv1.CustomerAcknowledgements {
	p := &batonv1.CustomerAcknowledgements{Enabled: a.Enabled, DefaultLanguage: a.DefaultLanguage}
	for _, k := range a.Disabled {
		p.DisabledKinds = append(p.DisabledKinds, ackKinds.toProto[k])
	}
	for _, t := range a.Templates {
		p.Templates = append(p.Templates, &batonv1.AcknowledgementTemplate{Kind: ackKinds.toProto[t.Kind], Language: t.Language, Text: t.Text})
	}
	return p
}

func acksToDomain(p *batonv1.CustomerAcknowledgements) domain.Acknowledgements {
	a := domain.Acknowledgements{Enabled: p.GetEnabled(), DefaultLanguage: p.GetDefaultLanguage()}
	for _, k := range p.GetDisabledKinds() {
		a.Disabled = append(a.Disabled, ackKinds.toDomain[k])
	}
	for _, t := range p.GetTemplates() {
		a.Templates = append(a.Templates, domain.AckTemplate{Kind: ackKinds.toDomain[t.GetKind()], Language: t.GetLanguage(), Text: t.GetText()})
	}
	return a
}

var outOfHoursActions = newEnumTable(map[batonv1.OutOfHoursAction]domain.OutOfHoursAction{
	batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_QUEUE:         domain.OutOfHoursQueue,
	batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_STAY_WITH_BOT: domain.OutOfHoursStayWithBot,
	batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_OTHER_QUEUE:   domain.OutOfHoursOtherQueue,
})

var outOfHoursOutcomes = newEnumTable(map[batonv1.OutOfHoursOutcome]domain.OutOfHoursOutcome{
	batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_QUEUED:          domain.OutOfHoursQueued,
	batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_STAYED_WITH_BOT: domain.OutOfHoursStayedWithBot,
	batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_REDIRECTED:      domain.OutOfHoursRedirected,
})

var ackKinds = newEnumTable(map[batonv1.AcknowledgementKind]domain.AckKind{
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_QUEUED:           domain.AckQueued,
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_NOBODY_AVAILABLE: domain.AckNobodyAvailable,
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_OUT_OF_HOURS:     domain.AckOutOfHours,
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_AGENT_JOINED:     domain.AckAgentJoined,
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_TRANSFERRED:      domain.AckTransferred,
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_BACK_WITH_BOT:    domain.AckBackWithBot,
	batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_SLA_APOLOGY:      domain.AckSLAApology,
})
