package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

func TestHandoffStartsTheQueueSLA(t *testing.T) {
	q := defaultQueue()
	q.SLA = domain.QueueSLA{WaitTarget: 2 * time.Minute, FirstReplyTarget: 5 * time.Minute}
	change, err := domain.Handoff(botOwned(), botActor, domain.HandoffRequest{QueueAnyway: true}, routing(q))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := change.Handover()
	if !h.SLAWaitDeadline.Equal(now.Add(2*time.Minute)) || !h.SLAReplyDeadline.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("deadlines %v, %v", h.SLAWaitDeadline, h.SLAReplyDeadline)
	}
}

func TestBreachSLA(t *testing.T) {
	sla := domain.QueueSLA{WaitTarget: time.Minute, FirstReplyTarget: 3 * time.Minute, RaisePriority: 5}
	q := defaultQueue()
	q.SLA = sla
	past, future := now.Add(-time.Second), now.Add(time.Second)
	withDeadlines := func(h domain.Handover, wait, reply time.Time) domain.Handover {
		h.SLAWaitDeadline, h.SLAReplyDeadline = wait, reply
		return h
	}
	tests := []struct {
		name     string
		s        domain.Situation
		breached []domain.SLATarget
	}{
		{"waiting past its wait target", queued(withDeadlines(waitingHO(), past, future)), []domain.SLATarget{domain.SLAWait}},
		{"waiting at its wait target", queued(withDeadlines(waitingHO(), now, future)), []domain.SLATarget{domain.SLAWait}},
		{"waiting before its targets", queued(withDeadlines(waitingHO(), future, future)), nil},
		{"waiting past both", queued(withDeadlines(waitingHO(), past, past)), []domain.SLATarget{domain.SLAWait, domain.SLAFirstReply}},
		{"engaged past the wait target counts only the reply", engagedSituation(withDeadlines(engagedHO("bob"), past, past)), []domain.SLATarget{domain.SLAFirstReply}},
		{"engaged and replied", engagedSituation(withDeadlines(engagedHO("bob"), time.Time{}, time.Time{})), nil},
		{"already breached (deadline cleared)", queued(withDeadlines(waitingHO(), time.Time{}, future)), nil},
		{"no live handover", botOwned(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			change, ok := domain.BreachSLA(tt.s, q, routing(q))
			if ok != (len(tt.breached) > 0) {
				t.Fatalf("breached %v, want %v", ok, tt.breached)
			}
			if !ok {
				return
			}
			var got []domain.SLATarget
			for _, e := range change.Events {
				if e.Type == domain.EventSLABreached {
					got = append(got, e.SLABreach.Target)
				}
			}
			if !slices.Equal(got, tt.breached) {
				t.Fatalf("events for %v, want %v", got, tt.breached)
			}
			h := change.Updated[0]
			if !slices.Equal(h.SLABreaches, tt.breached) || h.Priority != 5*len(tt.breached) {
				t.Fatalf("handover breaches %v priority %d", h.SLABreaches, h.Priority)
			}
			if change.Conversation.SLABreachTime != now {
				t.Fatalf("conversation breach time %v", change.Conversation.SLABreachTime)
			}
			again := tt.s
			again.Active = &h
			again.Conversation = change.Conversation
			if _, twice := domain.BreachSLA(again, q, routing(q)); twice && len(tt.breached) == 2 {
				t.Fatal("breached twice")
			}
		})
	}
}

// engagedSituation is engaged("bob") with h as its engagement.
func engagedSituation(h domain.Handover) domain.Situation {
	s := engaged(h.AgentID)
	s.Active = &h
	return s
}

func TestBreachOffersToSupervisors(t *testing.T) {
	q := defaultQueue()
	q.SLA = domain.QueueSLA{WaitTarget: time.Minute, OfferSupervisors: true}
	h := waitingHO()
	h.SLAWaitDeadline = now
	// Only sue, a supervisor in no queue, is free: before the breach she is not eligible.
	r := routing(q, sue())
	if _, ok := domain.PickAgent(h, q, r.Agents); ok {
		t.Fatal("a supervisor outside the queue was eligible before the breach")
	}
	change, ok := domain.BreachSLA(queued(h), q, r)
	if !ok {
		t.Fatal("no breach")
	}
	got, _ := change.Handover()
	if !got.Supervisors || got.State != domain.HandoverOffered || got.OfferedAgentID != "sue" {
		t.Fatalf("handover %s offered to %q (supervisors %v), want offered to sue", got.State, got.OfferedAgentID, got.Supervisors)
	}
}

func TestAgentReplyMeetsTheFirstReplyTarget(t *testing.T) {
	h := engagedHO("bob")
	h.SLAReplyDeadline = now.Add(time.Minute)
	change, err := domain.Send(engagedSituation(h), agentActor("bob"), nil, domain.Message{ID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if len(change.Updated) != 1 || !change.Updated[0].SLAReplyDeadline.IsZero() {
		t.Fatalf("the first reply left the deadline: %+v", change.Updated)
	}
}

func TestAcceptMeetsTheWaitTarget(t *testing.T) {
	h := offeredHO("bob")
	h.SLAWaitDeadline = now.Add(time.Minute)
	h.SLAReplyDeadline = now.Add(2 * time.Minute)
	change, err := domain.Accept(queued(h), h, bob(), defaultQueue())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := change.Handover()
	if !got.SLAWaitDeadline.IsZero() || !got.SLAReplyDeadline.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("after accept: wait %v, reply %v; want the wait target met, the reply one running", got.SLAWaitDeadline, got.SLAReplyDeadline)
	}
}
