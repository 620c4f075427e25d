package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
)

func TestBotCanOwnAndDefaultOwner(t *testing.T) {
	queue := domain.QueueOwner(qDefault)
	tests := []struct {
		name      string
		edit      func(*domain.Situation)
		wantOK    bool
		wantWhy   string
		wantOwner domain.Owner
	}{
		{
			name:      "bound active bot owns",
			edit:      func(*domain.Situation) {},
			wantOK:    true,
			wantOwner: domain.BotOwner(botID),
		},
		{
			name:      "no bot record goes to the default queue",
			edit:      func(s *domain.Situation) { s.Bot = nil },
			wantWhy:   "no bot is bound to the channel",
			wantOwner: queue,
		},
		{
			name:      "botless channel goes to the default queue",
			edit:      func(s *domain.Situation) { *s = botless(*s) },
			wantWhy:   "no bot is bound to the channel",
			wantOwner: queue,
		},
		{
			name:      "bot not bound to the channel goes to the default queue",
			edit:      func(s *domain.Situation) { s.Channel.BotID = "bot-2" },
			wantWhy:   "no bot is bound to the channel",
			wantOwner: queue,
		},
		{
			name:      "deactivated bot goes to the default queue",
			edit:      func(s *domain.Situation) { s.Bot.Active = false },
			wantWhy:   "the bot is deactivated",
			wantOwner: queue,
		},
		{
			name:      "bot turned off for the conversation goes to the default queue",
			edit:      func(s *domain.Situation) { s.Conversation.BotEnabled = false },
			wantWhy:   "the bot is turned off for this conversation",
			wantOwner: queue,
		},
		{
			name:      "conversation mute in the future goes to the default queue",
			edit:      func(s *domain.Situation) { s.Conversation.BotMutedUntil = now.Add(time.Nanosecond) },
			wantWhy:   "the bot is muted",
			wantOwner: queue,
		},
		{
			name:      "contact mute in the future goes to the default queue",
			edit:      func(s *domain.Situation) { s.Contact.BotMutedUntil = now.Add(time.Hour) },
			wantWhy:   "the bot is muted",
			wantOwner: queue,
		},
		{
			name:      "conversation mute ending exactly now has expired",
			edit:      func(s *domain.Situation) { s.Conversation.BotMutedUntil = now },
			wantOK:    true,
			wantOwner: domain.BotOwner(botID),
		},
		{
			name:      "contact mute ending exactly now has expired",
			edit:      func(s *domain.Situation) { s.Contact.BotMutedUntil = now },
			wantOK:    true,
			wantOwner: domain.BotOwner(botID),
		},
		{
			name: "mutes in the past have expired",
			edit: func(s *domain.Situation) {
				s.Conversation.BotMutedUntil = now.Add(-time.Hour)
				s.Contact.BotMutedUntil = now.Add(-time.Minute)
			},
			wantOK:    true,
			wantOwner: domain.BotOwner(botID),
		},
		{
			name:      "the default queue is the channel's",
			edit:      func(s *domain.Situation) { s.Bot.Active = false; s.Channel.DefaultQueueID = qBilling },
			wantWhy:   "the bot is deactivated",
			wantOwner: domain.QueueOwner(qBilling),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := botOwned()
			tt.edit(&s)
			ok, why := domain.BotCanOwn(s)
			if ok != tt.wantOK || why != tt.wantWhy {
				t.Errorf("BotCanOwn = %v, %q; want %v, %q", ok, why, tt.wantOK, tt.wantWhy)
			}
			if got := domain.DefaultOwner(s); got != tt.wantOwner {
				t.Errorf("DefaultOwner = %s, want %s", got, tt.wantOwner)
			}
		})
	}
}

func TestBotMuted(t *testing.T) {
	tests := []struct {
		name         string
		conv, contct time.Time
		want         bool
	}{
		{"never muted", time.Time{}, time.Time{}, false},
		{"conversation muted", now.Add(time.Second), time.Time{}, true},
		{"contact muted", time.Time{}, now.Add(time.Second), true},
		{"conversation mute at now expired", now, time.Time{}, false},
		{"contact mute at now expired", time.Time{}, now, false},
		{"both expired", now.Add(-time.Second), now.Add(-time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := botOwned()
			s.Conversation.BotMutedUntil = tt.conv
			s.Contact.BotMutedUntil = tt.contct
			if got := domain.BotMuted(s); got != tt.want {
				t.Errorf("BotMuted = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckEpoch(t *testing.T) {
	c := botOwned().Conversation // epoch 3
	tests := []struct {
		name     string
		expected *uint64
		wantErr  bool
	}{
		{"no expectation", nil, false},
		{"current epoch", ptr[uint64](3), false},
		{"older epoch", ptr[uint64](2), true},
		{"newer epoch", ptr[uint64](4), true},
		{"zero epoch", ptr[uint64](0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.CheckEpoch(c, tt.expected)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckEpoch = %v, want nil", err)
				}
				return
			}
			isOwnership("epoch", domain.BotOwner(botID), 3)(t, err)
		})
	}
}

func TestOwnerString(t *testing.T) {
	tests := []struct {
		owner domain.Owner
		want  string
	}{
		{domain.Nobody, "nobody"},
		{domain.BotOwner("b"), "bot:b"},
		{domain.QueueOwner("q"), "queue:q"},
		{domain.AgentOwner("a"), "agent:a"},
	}
	for _, tt := range tests {
		if got := tt.owner.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.owner, got, tt.want)
		}
	}
}

func TestPrincipalActor(t *testing.T) {
	tests := []struct {
		p    domain.Principal
		want domain.Actor
	}{
		{domain.Principal{KeyID: "k1", Role: domain.PrincipalBot, SubjectID: "b1"}, domain.Actor{Kind: domain.ActorBot, ID: "b1"}},
		{domain.Principal{KeyID: "k2", Role: domain.PrincipalAgent, SubjectID: "a1"}, domain.Actor{Kind: domain.ActorAgent, ID: "a1"}},
		{domain.Principal{KeyID: "k3", Role: domain.PrincipalAdmin}, domain.Actor{Kind: domain.ActorAdmin, ID: "k3"}},
		{domain.Principal{KeyID: "k4", Role: domain.PrincipalService}, domain.Actor{Kind: domain.ActorAdmin, ID: "k4"}},
	}
	for _, tt := range tests {
		if got := tt.p.Actor(); got != tt.want {
			t.Errorf("%+v.Actor() = %+v, want %+v", tt.p, got, tt.want)
		}
	}
}

func TestHandoverStateWaitingLive(t *testing.T) {
	tests := []struct {
		state         domain.HandoverState
		waiting, live bool
	}{
		{domain.HandoverRequested, true, true},
		{domain.HandoverOffered, true, true},
		{domain.HandoverAccepted, false, true},
		{domain.HandoverReleased, false, false},
		{domain.HandoverDeclined, false, false},
		{domain.HandoverFailed, false, false},
		{domain.HandoverExpired, false, false},
		{domain.HandoverCanceled, false, false},
	}
	for _, tt := range tests {
		if got := tt.state.Waiting(); got != tt.waiting {
			t.Errorf("%s.Waiting() = %v", tt.state, got)
		}
		if got := tt.state.Live(); got != tt.live {
			t.Errorf("%s.Live() = %v", tt.state, got)
		}
	}
}

func TestTimeToAccept(t *testing.T) {
	h := domain.Handover{CreateTime: t0}
	if got := h.TimeToAccept(); got != 0 {
		t.Errorf("not accepted: TimeToAccept = %v, want 0", got)
	}
	h.AcceptTime = t0.Add(95 * time.Second)
	if got := h.TimeToAccept(); got != 95*time.Second {
		t.Errorf("TimeToAccept = %v, want 95s", got)
	}
}

func TestCredentialsIsZero(t *testing.T) {
	if !(domain.Credentials{}).IsZero() {
		t.Error("empty credentials are not zero")
	}
	if (domain.Credentials{VerifyToken: "x"}).IsZero() {
		t.Error("credentials with a verify token are zero")
	}
}

func TestChangeHandover(t *testing.T) {
	a := domain.Handover{ID: "a"}
	b := domain.Handover{ID: "b"}
	c := domain.Handover{ID: "c"}
	tests := []struct {
		name   string
		change domain.Change
		want   string
		ok     bool
	}{
		{"none", domain.Change{}, "", false},
		{"last created wins over updated", domain.Change{Created: []domain.Handover{a, b}, Updated: []domain.Handover{c}}, "b", true},
		{"last updated", domain.Change{Updated: []domain.Handover{a, c}}, "c", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := tt.change.Handover()
			if ok != tt.ok || h.ID != tt.want {
				t.Errorf("Handover() = %q, %v; want %q, %v", h.ID, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{domain.NotFound("conversation", "c1"), `conversation "c1" not found`},
		{&domain.OwnershipError{ConversationID: "c1", Owner: domain.AgentOwner("ann"), Epoch: 7, Subject: "epoch", Reason: "stale epoch 6"},
			"stale epoch 6 (conversation c1 is owned by agent:ann at epoch 7)"},
		{domain.Precondition("capacity", "agent %s is full", "ann"), "agent ann is full"},
		{domain.Forbidden("no %s", "way"), "no way"},
		{domain.Invalid("target", "is %d", 1), "target: is 1"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%T.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
	if d := cmp.Diff(&domain.NotFoundError{Kind: "bot", ID: "b"}, domain.NotFound("bot", "b")); d != "" {
		t.Errorf("NotFound: %s", d)
	}
	if d := cmp.Diff(&domain.PreconditionError{Subject: "s", Reason: "r 1"}, domain.Precondition("s", "r %d", 1)); d != "" {
		t.Errorf("Precondition: %s", d)
	}
	if d := cmp.Diff(&domain.InvalidError{Field: "f", Reason: "r"}, domain.Invalid("f", "r")); d != "" {
		t.Errorf("Invalid: %s", d)
	}
}
