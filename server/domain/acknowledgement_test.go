package domain_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// acking makes q send every acknowledgement, with a French template for some kinds.
func acking(q domain.Queue) domain.Queue {
	q.Policy.Acknowledgements = domain.Acknowledgements{
		Enabled: true,
		Templates: []domain.AckTemplate{
			{Kind: domain.AckQueued, Language: "fr", Text: "Vous êtes le numéro {position}, attente {wait}."},
			{Kind: domain.AckAgentJoined, Language: "fr", Text: "{agent} vous répond."},
		},
	}
	return q
}

// closedQueue is q with hours that are never open, and the given out-of-hours action.
func closedQueue(q domain.Queue, action domain.OutOfHoursAction, other string) domain.Queue {
	q.Policy.Hours = &domain.BusinessHours{TimeZone: "UTC", OutOfHours: domain.OutOfHours{Action: action, QueueID: other}}
	return q
}

// acks returns the texts of the acknowledgements a change sends, checking each is a pending
// outbound message from Baton announced by a message.sent event of the same change.
func acks(t *testing.T, ch domain.Change) []string {
	t.Helper()
	var texts []string
	for _, m := range ch.Messages {
		if m.Direction != domain.Outbound || m.Sender != domain.BatonSender || m.Status != domain.DeliveryPending ||
			m.ConversationID != convID || m.Epoch != ch.Conversation.Epoch || !m.NextAttemptTime.Equal(now) {
			t.Errorf("acknowledgement %+v: want a pending outbound message from Baton at epoch %d", m, ch.Conversation.Epoch)
		}
		announced := slices.ContainsFunc(ch.Events, func(e domain.Event) bool {
			return e.Type == domain.EventMessageSent && e.Message != nil && e.Message.ID == m.ID && e.Actor == domain.BatonSender
		})
		if !announced {
			t.Errorf("acknowledgement %s is not announced by a message.sent event", m.ID)
		}
		var c struct{ Text struct{ Text string } }
		if err := json.Unmarshal(m.Content, &c); err != nil {
			t.Fatalf("content %s: %v", m.Content, err)
		}
		texts = append(texts, c.Text.Text)
	}
	return texts
}

func TestAcknowledgementsOnEveryPath(t *testing.T) {
	def := domain.DefaultAckTexts
	withQueue := func(s domain.Situation, q domain.Queue) domain.Situation { s.Queue = &q; return s }
	tests := []struct {
		name string
		run  func() (domain.Change, error)
		want []string
	}{
		{"handoff queued: position and wait", func() (domain.Change, error) {
			r := routing(acking(defaultQueue()), roster()...)
			r.Queue.Waiting, r.EstimatedWait = 2, 150*time.Second
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), r)
		}, []string{"Thanks for your patience: you are number 3 in line. The estimated wait is about 3 minutes."}},
		{"handoff queued in French, from the contact's locale", func() (domain.Change, error) {
			s := botOwned()
			s.Contact.Locale = "fr_FR"
			return domain.Handoff(s, botActor, handoffRequest(domain.Target{}), routing(acking(defaultQueue()), roster()...))
		}, []string{"Vous êtes le numéro 1, attente a few minutes."}},
		{"the conversation's language wins over the locale", func() (domain.Change, error) {
			s := botOwned()
			s.Contact.Locale, s.Conversation.Language = "fr_FR", "de"
			q := acking(defaultQueue())
			q.Policy.Acknowledgements.Templates = append(q.Policy.Acknowledgements.Templates,
				domain.AckTemplate{Kind: domain.AckQueued, Language: "de", Text: "Nummer {position}."})
			return domain.Handoff(s, botActor, handoffRequest(domain.Target{}), routing(q, roster()...))
		}, []string{"Nummer 1."}},
		{"handoff with nobody online: the bot keeps it", func() (domain.Change, error) {
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), routing(acking(defaultQueue()), dan()))
		}, []string{def[domain.AckNobodyAvailable]}},
		{"out of hours, stay with the bot", func() (domain.Change, error) {
			q := closedQueue(acking(defaultQueue()), domain.OutOfHoursStayWithBot, "")
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), routing(q, roster()...))
		}, []string{def[domain.AckOutOfHours]}},
		{"out of hours, queue anyway", func() (domain.Change, error) {
			q := closedQueue(acking(defaultQueue()), domain.OutOfHoursQueue, "")
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), routing(q, dan()))
		}, []string{def[domain.AckOutOfHours]}},
		{"out of hours, to another queue that is open", func() (domain.Change, error) {
			r := routing(closedQueue(acking(defaultQueue()), domain.OutOfHoursOtherQueue, qBilling), roster()...)
			r.Redirect = ptr(routing(acking(billingQueue()), roster()...))
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), r)
		}, []string{"Thanks for your patience: you are number 1 in line. The estimated wait is a few minutes."}},
		{"accept: the agent joined, by name", func() (domain.Change, error) {
			return domain.Accept(queued(offeredHO("bob")), offeredHO("bob"), with(bob(), func(a *domain.Agent) { a.DisplayName = "Bob" }), acking(defaultQueue()))
		}, []string{"Bob has joined the conversation."}},
		{"takeover from the bot: the agent joined", func() (domain.Change, error) {
			s := withQueue(botOwned(), acking(defaultQueue()))
			s.Contact.Locale = "fr"
			return domain.Takeover(s, with(bob(), func(a *domain.Agent) { a.DisplayName = "Bob" }), nil, "")
		}, []string{"Bob vous répond."}},
		{"transfer", func() (domain.Change, error) {
			return domain.Transfer(engaged("bob"), bob(), nil, domain.Target{QueueID: qBilling}, "", "", domain.RouteMatch{}, routing(acking(billingQueue()), roster()...))
		}, []string{def[domain.AckTransferred]}},
		{"handback: back with the bot", func() (domain.Change, error) {
			return domain.Handback(withQueue(engaged("bob"), acking(defaultQueue())), bob(), nil, domain.OutcomeResolved, "")
		}, []string{def[domain.AckBackWithBot]}},
		{"cancel: back with the bot", func() (domain.Change, error) {
			return domain.Cancel(withQueue(queued(waitingHO()), acking(defaultQueue())), botActor, waitingHO(), "")
		}, []string{def[domain.AckBackWithBot]}},
		{"decline of a handover for one agent: back with the bot", func() (domain.Change, error) {
			h := offeredHO("bob")
			h.Target = domain.Target{AgentID: "bob"}
			return domain.Decline(queued(h), h, bob(), "busy", routing(acking(defaultQueue()), roster()...))
		}, []string{def[domain.AckBackWithBot]}},
		{"a new conversation with no bot: queued", func() (domain.Change, error) {
			s := botless(botOwned())
			return domain.NewConversation(s, convID, routing(acking(defaultQueue()), roster()...)), nil
		}, []string{"Thanks for your patience: you are number 1 in line. The estimated wait is a few minutes."}},
		{"handback with no bot closes: nothing to say", func() (domain.Change, error) {
			return domain.Handback(withQueue(botless(engaged("bob")), acking(defaultQueue())), bob(), nil, domain.OutcomeResolved, "")
		}, nil},
		{"acknowledgements off: nothing", func() (domain.Change, error) {
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), defaultRouting())
		}, nil},
		{"one kind switched off: nothing for it", func() (domain.Change, error) {
			q := acking(defaultQueue())
			q.Policy.Acknowledgements.Disabled = []domain.AckKind{domain.AckQueued}
			return domain.Handoff(botOwned(), botActor, handoffRequest(domain.Target{}), routing(q, roster()...))
		}, nil},
		{"no queue loaded: nothing", func() (domain.Change, error) {
			return domain.Handback(engaged("bob"), bob(), nil, domain.OutcomeResolved, "")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			if got := acks(t, ch); !slices.Equal(got, tt.want) {
				t.Errorf("acknowledgements = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAcknowledgementAtSessionTimeout(t *testing.T) {
	s := engaged("bob")
	q := acking(defaultQueue())
	s.Queue = &q
	s.Conversation.LastActivityTime = now.Add(-domain.DefaultSessionTimeout)
	ch, ok := domain.SessionTimeout(s)
	if !ok {
		t.Fatal("no session timeout")
	}
	if got := acks(t, ch); !slices.Equal(got, []string{domain.DefaultAckTexts[domain.AckBackWithBot]}) {
		t.Errorf("acknowledgements = %q", got)
	}
}

func TestOutOfHoursHandoff(t *testing.T) {
	billing := routing(acking(billingQueue()), roster()...)
	tests := []struct {
		name      string
		routing   func() domain.Routing
		state     domain.HandoverState
		failure   domain.FailureReason
		outcome   domain.OutOfHoursOutcome
		owner     domain.Owner
		queueID   string
		queueOpen bool
	}{
		{"stay with the bot", func() domain.Routing {
			return routing(closedQueue(defaultQueue(), domain.OutOfHoursStayWithBot, ""), roster()...)
		}, domain.HandoverFailed, domain.ClosedOutOfHours, domain.OutOfHoursStayedWithBot, domain.BotOwner(botID), qDefault, false},
		{"queue anyway, with nobody online", func() domain.Routing {
			return routing(closedQueue(defaultQueue(), domain.OutOfHoursQueue, ""), dan())
		}, domain.HandoverRequested, "", domain.OutOfHoursQueued, domain.QueueOwner(qDefault), qDefault, false},
		{"to another queue", func() domain.Routing {
			r := routing(closedQueue(defaultQueue(), domain.OutOfHoursOtherQueue, qBilling), roster()...)
			r.Redirect = &billing
			return r
		}, domain.HandoverOffered, "", domain.OutOfHoursRedirected, domain.QueueOwner(qBilling), qBilling, true},
		{"to another queue, closed too and redirecting: stays with the bot", func() domain.Routing {
			r := routing(closedQueue(defaultQueue(), domain.OutOfHoursOtherQueue, qBilling), roster()...)
			other := routing(closedQueue(billingQueue(), domain.OutOfHoursOtherQueue, qDefault), roster()...)
			other.Redirect = ptr(r)
			r.Redirect = &other
			return r
		}, domain.HandoverFailed, domain.ClosedOutOfHours, domain.OutOfHoursStayedWithBot, domain.BotOwner(botID), qBilling, false},
		{"open hours: nothing out of hours", func() domain.Routing {
			q := defaultQueue()
			q.Policy.Hours = &domain.BusinessHours{TimeZone: "UTC", Intervals: []domain.OpenInterval{{Weekday: now.Weekday(), Start: 0, End: domain.MinutesPerDay}},
				OutOfHours: domain.OutOfHours{Action: domain.OutOfHoursStayWithBot}}
			return routing(q, roster()...)
		}, domain.HandoverOffered, "", "", domain.QueueOwner(qDefault), qDefault, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := botOwned()
			ch, err := domain.Handoff(s, botActor, handoffRequest(domain.Target{}), tt.routing())
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, s, ch)
			h, _ := ch.Handover()
			if h.State != tt.state || h.FailureReason != tt.failure || h.OutOfHours != tt.outcome || h.QueueID != tt.queueID {
				t.Errorf("handover = %s %q %q in %s, want %s %q %q in %s", h.State, h.FailureReason, h.OutOfHours, h.QueueID,
					tt.state, tt.failure, tt.outcome, tt.queueID)
			}
			if ch.Conversation.Owner != tt.owner {
				t.Errorf("owner = %s, want %s", ch.Conversation.Owner, tt.owner)
			}
			// The events carry the handover as stored: the bot reads why from them.
			last := ch.Events[0]
			if last.Handover == nil || last.Handover.OutOfHours != tt.outcome {
				t.Errorf("first event %s carries %+v, want the out-of-hours outcome %q", last.Type, last.Handover, tt.outcome)
			}
		})
	}
}

func TestAckTemplateLanguage(t *testing.T) {
	a := domain.Acknowledgements{
		Enabled:         true,
		DefaultLanguage: "es",
		Templates: []domain.AckTemplate{
			{Kind: domain.AckBackWithBot, Language: "pt-BR", Text: "br"},
			{Kind: domain.AckBackWithBot, Language: "pt", Text: "pt"},
			{Kind: domain.AckBackWithBot, Language: "es", Text: "es"},
			{Kind: domain.AckAgentJoined, Language: "pt", Text: "pt joined"},
		},
	}
	tests := []struct {
		kind  domain.AckKind
		langs []string
		want  string
	}{
		{domain.AckBackWithBot, []string{"pt_BR"}, "br"},
		{domain.AckBackWithBot, []string{"pt-PT"}, "pt"},
		{domain.AckBackWithBot, []string{"", "PT"}, "pt"},
		{domain.AckBackWithBot, []string{"de", "fr"}, "es"},
		{domain.AckAgentJoined, []string{"pt-BR"}, "pt joined"},
		{domain.AckAgentJoined, []string{"de"}, domain.DefaultAckTexts[domain.AckAgentJoined]},
	}
	for _, tt := range tests {
		if got := a.Template(tt.kind, tt.langs...); got != tt.want {
			t.Errorf("Template(%s, %q) = %q, want %q", tt.kind, tt.langs, got, tt.want)
		}
	}
}

func TestAckValuesRender(t *testing.T) {
	tests := []struct {
		v    domain.AckValues
		text string
		want string
	}{
		{domain.AckValues{Position: 4, Wait: 0}, "#{position}, {wait}", "#4, a few minutes"},
		{domain.AckValues{Wait: 30 * time.Second}, "{wait}", "about 1 minute"},
		{domain.AckValues{Wait: 61 * time.Second}, "{wait}", "about 2 minutes"},
		{domain.AckValues{Wait: 3 * time.Hour}, "{wait}", "about 3 hours"},
		{domain.AckValues{Agent: "Ann", Queue: "Billing"}, "{agent} from {queue}", "Ann from Billing"},
		{domain.AckValues{}, "{agent} joined", "An agent joined"},
	}
	for _, tt := range tests {
		if got := tt.v.Render(tt.text); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestAcknowledgementsCheck(t *testing.T) {
	ok := domain.Acknowledgements{Templates: []domain.AckTemplate{{Kind: domain.AckQueued, Language: "en", Text: "x"}}}
	if err := ok.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
	dup := ok
	dup.Templates = append(slices.Clone(ok.Templates), domain.AckTemplate{Kind: domain.AckQueued, Language: "EN", Text: "y"})
	if err := dup.Check(); err == nil {
		t.Errorf("two queued templates in English: Check() = nil")
	}
	bad := domain.Acknowledgements{Disabled: []domain.AckKind{"nonsense"}}
	if err := bad.Check(); err == nil {
		t.Errorf("unknown kind: Check() = nil")
	}
}

// TestSLABreachApologizes: a breach tells the customer, in the breach's own change, when the
// queue sends the apology; nothing when it does not.
func TestSLABreachApologizes(t *testing.T) {
	h := waitingHO()
	h.SLAWaitDeadline = now
	q := acking(defaultQueue())
	q.SLA = domain.QueueSLA{WaitTarget: time.Minute}
	got, ok := domain.BreachSLA(queued(h), q, routing(q))
	if !ok {
		t.Fatal("no breach")
	}
	if texts := acks(t, got); !slices.Equal(texts, []string{domain.DefaultAckTexts[domain.AckSLAApology]}) {
		t.Errorf("acknowledgements = %q", texts)
	}
	q.Policy.Acknowledgements = domain.Acknowledgements{}
	if got, _ := domain.BreachSLA(queued(h), q, routing(q)); len(got.Messages) != 0 {
		t.Errorf("acknowledgements off: %d messages", len(got.Messages))
	}
}
