package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

func TestAsksForHuman(t *testing.T) {
	custom := domain.AutoHandoffPolicy{HumanWordsOn: true, HumanWords: map[string][]string{
		"en": {"talk to someone"}, "*": {"humano"},
	}}
	tests := []struct {
		name   string
		policy domain.AutoHandoffPolicy
		lang   string
		text   string
		want   string
	}{
		{"default english word", domain.AutoHandoffPolicy{}, "en", "Can I speak to a HUMAN please?", "human"},
		{"whole words only", domain.AutoHandoffPolicy{}, "en", "my agentless setup broke", ""},
		{"phrase", domain.AutoHandoffPolicy{}, "en", "a real, person!", "real person"},
		{"other language's word does not count", domain.AutoHandoffPolicy{}, "en", "ein Mensch bitte", ""},
		{"own language", domain.AutoHandoffPolicy{}, "de", "ein Mensch bitte", "mensch"},
		{"unknown language: every language", domain.AutoHandoffPolicy{}, "", "ein Mensch bitte", "mensch"},
		{"custom words replace the defaults", custom, "en", "I want a human", ""},
		{"custom phrase across punctuation", custom, "en", "Talk to... someone!", "talk to someone"},
		{"words for every language", custom, "en", "un humano", "humano"},
		{"nothing asked", domain.AutoHandoffPolicy{}, "en", "where is my order?", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.AsksForHuman(tt.policy, tt.lang, tt.text)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("AsksForHuman = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestAutoHandoff(t *testing.T) {
	notUnderstood := func(n int) func(*domain.Situation) {
		return func(s *domain.Situation) { s.Conversation.NotUnderstoodCount = n }
	}
	deadline := func(d time.Time) func(*domain.Situation) {
		return func(s *domain.Situation) { s.Conversation.UnansweredDeadline = d }
	}
	policy := domain.AutoHandoffPolicy{NotUnderstoodLimit: 2, HumanWordsOn: true, UnansweredTimeout: 5 * time.Minute, QueueAnyway: true}
	tests := []struct {
		name   string
		setup  func(*domain.Situation)
		rule   func(domain.Situation) (domain.Change, bool)
		reason string // "" when nothing happens
	}{
		{"one not understood is not enough", notUnderstood(1),
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffOnStatus(s, policy, defaultRouting())
			}, ""},
		{"two in a row hand off", notUnderstood(2),
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffOnStatus(s, policy, defaultRouting())
			}, domain.ReasonNotUnderstood},
		{"a limit of 0 is off", notUnderstood(9),
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffOnStatus(s, domain.AutoHandoffPolicy{}, defaultRouting())
			}, ""},
		{"asked for a human", nil,
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffOnMessage(s, policy, "agent please", defaultRouting())
			}, domain.ReasonAskedForHuman},
		{"human words off", nil,
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffOnMessage(s, domain.AutoHandoffPolicy{NotUnderstoodLimit: 2}, "agent please", defaultRouting())
			}, ""},
		{"unanswered past the deadline", deadline(now.Add(-time.Second)),
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffUnanswered(s, policy, defaultRouting())
			}, domain.ReasonUnanswered},
		{"unanswered at the deadline", deadline(now),
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffUnanswered(s, policy, defaultRouting())
			}, domain.ReasonUnanswered},
		{"unanswered before the deadline", deadline(now.Add(time.Second)),
			func(s domain.Situation) (domain.Change, bool) {
				return domain.AutoHandoffUnanswered(s, policy, defaultRouting())
			}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := botOwned()
			if tt.setup != nil {
				tt.setup(&s)
			}
			change, ok := tt.rule(s)
			if tt.reason == "" {
				if ok {
					t.Fatalf("handed off: %+v", change)
				}
				return
			}
			if !ok {
				t.Fatal("did not hand off")
			}
			h, _ := change.Handover()
			if !strings.HasPrefix(h.Reason, tt.reason) || h.RequestedBy != domain.System {
				t.Fatalf("handover reason %q by %v, want %s… by the system", h.Reason, h.RequestedBy, tt.reason)
			}
			if change.Conversation.Owner != domain.QueueOwner(qDefault) {
				t.Fatalf("owner %v, want the default queue", change.Conversation.Owner)
			}
			var timeline string
			for _, e := range change.Events {
				if e.OwnerChange != nil {
					timeline = e.OwnerChange.Reason
				}
			}
			if timeline != h.Reason {
				t.Fatalf("owner change reason %q, want the handover's %q", timeline, h.Reason)
			}
			if c := change.Conversation; c.NotUnderstoodCount != 0 || !c.UnansweredDeadline.IsZero() {
				t.Fatalf("the run and deadline are not reset: %d, %v", c.NotUnderstoodCount, c.UnansweredDeadline)
			}
		})
	}
}

func TestAutoHandoffOnlyFromTheBot(t *testing.T) {
	policy := domain.AutoHandoffPolicy{NotUnderstoodLimit: 1}
	s := engaged("bob")
	s.Conversation.NotUnderstoodCount = 3
	if _, ok := domain.AutoHandoffOnStatus(s, policy, defaultRouting()); ok {
		t.Fatal("an agent's conversation was handed off")
	}
}

func TestAutoHandoffWithNobodyAvailableKeepsTheBot(t *testing.T) {
	s := botOwned()
	s.Conversation.NotUnderstoodCount = 2
	change, ok := domain.AutoHandoffOnStatus(s, domain.AutoHandoffPolicy{NotUnderstoodLimit: 2}, routing(defaultQueue()))
	if !ok {
		t.Fatal("no attempt recorded")
	}
	h, _ := change.Handover()
	if h.State != domain.HandoverFailed || change.Conversation.Owner != domain.BotOwner(botID) || change.Conversation.NotUnderstoodCount != 0 {
		t.Fatalf("handover %s, owner %v, run %d; want failed, the bot, 0", h.State, change.Conversation.Owner, change.Conversation.NotUnderstoodCount)
	}
}

func TestReportStatus(t *testing.T) {
	c := domain.Conversation{}
	for _, st := range []domain.ConversationStatus{domain.StatusNotUnderstood, domain.StatusNotUnderstood} {
		c = domain.ReportStatus(c, st)
	}
	if c.NotUnderstoodCount != 2 {
		t.Fatalf("run %d, want 2", c.NotUnderstoodCount)
	}
	if c = domain.ReportStatus(c, domain.StatusOK); c.NotUnderstoodCount != 0 {
		t.Fatalf("run %d after ok, want 0", c.NotUnderstoodCount)
	}
}

func TestUnansweredDeadline(t *testing.T) {
	p := domain.AutoHandoffPolicy{UnansweredTimeout: time.Minute}
	s := botOwned()
	s.Bot.AutoHandoff = p
	first := domain.Receive(s, domain.Message{ID: "m1"}, defaultRouting())
	if got := first.Conversation.UnansweredDeadline; !got.Equal(now.Add(time.Minute)) {
		t.Fatalf("deadline %v, want a minute after the first message", got)
	}
	s.Conversation = first.Conversation
	s.Now = now.Add(30 * time.Second)
	second := domain.Receive(s, domain.Message{ID: "m2"}, defaultRouting())
	if got := second.Conversation.UnansweredDeadline; !got.Equal(now.Add(time.Minute)) {
		t.Fatalf("deadline %v moved with a second message", got)
	}
	s.Conversation = second.Conversation
	sent, err := domain.Send(s, botActor, nil, domain.Message{ID: "m3"})
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Conversation.UnansweredDeadline.IsZero() {
		t.Fatal("the bot's answer left the deadline")
	}
	s.Conversation = sent.Conversation
	s.Channel.AutoHandoff = domain.AutoHandoffPolicy{NotUnderstoodLimit: 3} // the channel's policy wins
	if got := domain.Receive(s, domain.Message{ID: "m4"}, defaultRouting()).Conversation.UnansweredDeadline; !got.IsZero() {
		t.Fatalf("deadline %v under a channel policy without a timeout", got)
	}
}

func TestUnansweredDeadlineCleared(t *testing.T) {
	s := botOwned()
	s.Conversation.UnansweredDeadline = now.Add(-time.Minute)
	// A policy turned off since the message arrived: the deadline goes, nothing else happens.
	change, ok := domain.AutoHandoffUnanswered(s, domain.AutoHandoffPolicy{}, defaultRouting())
	if !ok || !change.Conversation.UnansweredDeadline.IsZero() || len(change.Events) != 0 || change.Conversation.Owner != s.Conversation.Owner {
		t.Fatalf("policy off: ok %v, %+v", ok, change)
	}
	// The bot handing off itself ends its silence's clock.
	handoff, err := domain.Handoff(s, botActor, domain.HandoffRequest{QueueAnyway: true}, defaultRouting())
	if err != nil {
		t.Fatal(err)
	}
	if !handoff.Conversation.UnansweredDeadline.IsZero() {
		t.Fatalf("deadline %v after the bot's handoff", handoff.Conversation.UnansweredDeadline)
	}
}
