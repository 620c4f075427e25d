package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
)

// movedToQueue is the tail of a change that moves the bot-owned conversation (epoch 3) to the
// default queue through handover id, offered to bob.
func movedToQueue(actor domain.Actor, id, reason string) ([]domain.Handover, []ev) {
	h := domain.Handover{
		ID: id, ConversationID: convID, From: domain.BotOwner(botID), Target: domain.Target{QueueID: qDefault},
		QueueID: qDefault, Reason: reason, State: domain.HandoverOffered, OfferedAgentID: "bob",
		OfferExpireTime: now.Add(60 * time.Second), RequestedBy: actor, Epoch: 4, CreateTime: now,
	}
	return []domain.Handover{h}, []ev{
		hoEvent(domain.EventHandoverRequested, actor, "", id, domain.HandoverRequested),
		ownerChanged(actor, domain.BotOwner(botID), domain.QueueOwner(qDefault), 4, reason, id),
		hoEvent(domain.EventHandoverOffered, actor, "bob", id, domain.HandoverOffered),
	}
}

func queuedAs(id string, edit func(*domain.Conversation)) func(*domain.Conversation) {
	return func(c *domain.Conversation) {
		c.Owner, c.Epoch, c.ActiveHandoverID, c.LastActivityTime = domain.QueueOwner(qDefault), 4, id, now
		edit(c)
	}
}

func TestMute(t *testing.T) {
	sueActor := agentActor("sue")
	until := now.Add(domain.DefaultMuteDuration)
	muted := func(c *domain.Conversation) { c.BotMutedUntil = until }
	mutedEv := ev{Type: domain.EventBotMuted, Actor: sueActor}
	created, tail := movedToQueue(sueActor, "ho-2", "bot muted")
	tests := []struct {
		name  string
		s     domain.Situation
		until time.Time
		want  want
	}{
		{
			name: "bot-owned: moves to the default queue", s: botOwned(), until: until,
			want: want{conv: queuedAs("ho-2", muted), created: created, events: append([]ev{mutedEv}, tail...)},
		},
		{
			name: "agent-owned: unchanged", s: engaged("bob"), until: until,
			want: want{conv: muted, events: []ev{mutedEv}},
		},
		{
			name: "queue-owned: unchanged", s: queued(offeredHO("ann")), until: until,
			want: want{conv: muted, events: []ev{mutedEv}},
		},
		{
			name: "closed: stays closed", s: closedConv(), until: until,
			want: want{conv: muted, events: []ev{mutedEv}},
		},
		{
			name: "a mute ending now has no effect on ownership", s: botOwned(), until: now,
			want: want{conv: func(c *domain.Conversation) { c.BotMutedUntil = now }, events: []ev{mutedEv}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Mute(tt.s, sueActor, tt.until, defaultRouting())
			assertChange(t, tt.s, got, tt.want)
		})
	}
}

func TestContactMuted(t *testing.T) {
	sueActor := agentActor("sue")
	contactMuted := func(s domain.Situation) domain.Situation {
		s.Contact.BotMutedUntil = now.Add(time.Hour)
		return s
	}
	created, tail := movedToQueue(sueActor, "ho-1", "bot muted for contact")
	tests := []struct {
		name   string
		s      domain.Situation
		wantOK bool
		want   want
	}{
		{
			name: "bot-owned: moves to the default queue", s: contactMuted(botOwned()), wantOK: true,
			want: want{conv: queuedAs("ho-1", func(*domain.Conversation) {}), created: created, events: tail},
		},
		{name: "agent-owned: nothing to do", s: contactMuted(engaged("bob"))},
		{name: "queue-owned: nothing to do", s: contactMuted(queued(waitingHO()))},
		{name: "closed: nothing to do", s: contactMuted(closedConv())},
		{name: "the mute already expired: nothing to do", s: func() domain.Situation {
			s := botOwned()
			s.Contact.BotMutedUntil = now
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.ContactMuted(tt.s, sueActor, defaultRouting())
			if ok != tt.wantOK {
				t.Fatalf("ContactMuted ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if len(got.Events) != 0 || got.Conversation.ID != "" {
					t.Errorf("ContactMuted returned a change with ok false: %+v", got)
				}
				return
			}
			assertChange(t, tt.s, got, tt.want)
		})
	}
}

func TestUnmute(t *testing.T) {
	sueActor := agentActor("sue")
	unmuted := func(c *domain.Conversation) { c.BotMutedUntil = time.Time{} }
	mutedQueued := queued(offeredHO("ann"))
	mutedQueued.Conversation.BotMutedUntil = now.Add(time.Hour)
	mutedEngaged := engaged("bob")
	mutedEngaged.Conversation.BotMutedUntil = now.Add(time.Hour)
	tests := []struct {
		name string
		s    domain.Situation
	}{
		{"queue-owned stays queued", mutedQueued},
		{"agent-owned stays with the agent", mutedEngaged},
		{"bot-owned, never muted", botOwned()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Unmute(tt.s, sueActor)
			assertChange(t, tt.s, got, want{conv: unmuted, events: []ev{{Type: domain.EventBotUnmuted, Actor: sueActor}}})
		})
	}
}

func TestExpireMute(t *testing.T) {
	tests := []struct {
		name   string
		until  time.Time
		wantOK bool
	}{
		{"never muted", time.Time{}, false},
		{"not yet", now.Add(time.Nanosecond), false},
		{"exactly now", now, true},
		{"overdue", now.Add(-time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := engaged("bob")
			s.Conversation.BotMutedUntil = tt.until
			got, ok := domain.ExpireMute(s)
			if ok != tt.wantOK {
				t.Fatalf("ExpireMute ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if len(got.Events) != 0 || got.Conversation.ID != "" {
					t.Errorf("ExpireMute returned a change with ok false: %+v", got)
				}
				return
			}
			assertChange(t, s, got, want{
				conv:   func(c *domain.Conversation) { c.BotMutedUntil = time.Time{} },
				events: []ev{{Type: domain.EventBotUnmuted, Actor: domain.System}},
			})
		})
	}
}

func TestSetBotEnabled(t *testing.T) {
	updatedEv := ev{Type: domain.EventConversationUpdated, Actor: adminActor}
	off := func(c *domain.Conversation) { c.BotEnabled = false }
	on := func(c *domain.Conversation) { c.BotEnabled = true }
	created, tail := movedToQueue(adminActor, "ho-2", "bot turned off for the conversation")
	disabled := func(s domain.Situation) domain.Situation {
		s.Conversation.BotEnabled = false
		return s
	}
	tests := []struct {
		name    string
		s       domain.Situation
		enabled bool
		want    want
	}{
		{
			name: "off while the bot owns: moves to the default queue", s: botOwned(),
			want: want{conv: queuedAs("ho-2", off), created: created, events: append([]ev{updatedEv}, tail...)},
		},
		{name: "off while an agent owns: unchanged", s: engaged("bob"), want: want{conv: off, events: []ev{updatedEv}}},
		{name: "off while closed: stays closed", s: closedConv(), want: want{conv: off, events: []ev{updatedEv}}},
		{name: "on while queued: stays queued", s: disabled(queued(waitingHO())), enabled: true, want: want{conv: on, events: []ev{updatedEv}}},
		{name: "on while the bot owns: unchanged", s: botOwned(), enabled: true, want: want{events: []ev{updatedEv}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.SetBotEnabled(tt.s, adminActor, tt.enabled, defaultRouting())
			assertChange(t, tt.s, got, tt.want)
		})
	}
}

func TestSetPresence(t *testing.T) {
	actor := agentActor("ann")
	later := now.Add(time.Minute)
	a := ann()
	a.UpdateTime = t0

	got, events := domain.SetPresence(a, domain.PresenceAway, actor, now, seq())
	wantAgent := a
	wantAgent.Presence, wantAgent.LastSeenTime, wantAgent.UpdateTime = domain.PresenceAway, now, now
	wantEvents := []domain.Event{{
		ID: "ev-1", Type: domain.EventAgentPresenceChanged, Time: now, AgentID: "ann", Actor: actor, Agent: &wantAgent,
	}}
	if d := cmp.Diff(wantAgent, got); d != "" {
		t.Errorf("agent (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantEvents, events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}

	// The same presence again: seen, but nothing to announce.
	again, events := domain.SetPresence(got, domain.PresenceAway, actor, later, seq())
	wantAgain := wantAgent
	wantAgain.LastSeenTime = later
	if d := cmp.Diff(wantAgain, again); d != "" {
		t.Errorf("unchanged presence: agent (-want +got):\n%s", d)
	}
	if len(events) != 0 {
		t.Errorf("unchanged presence announced %v", events)
	}
	if a.Presence != domain.PresenceOnline {
		t.Errorf("SetPresence changed its argument")
	}
}

func TestContactMuteEvent(t *testing.T) {
	c := contact()
	c.BotMutedUntil = now.Add(domain.DefaultMuteDuration)
	actor := agentActor("sue")
	for _, typ := range []domain.EventType{domain.EventBotMuted, domain.EventBotUnmuted} {
		got := domain.ContactMuteEvent(c, channel(), typ, actor, now, seq())
		snapshot := c
		want := domain.Event{ID: "ev-1", Type: typ, Time: now, ChannelID: chID, ContactID: ctID, Actor: actor, Contact: &snapshot,
			Audience: &domain.Audience{ChannelQueueID: qDefault}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", typ, d)
		}
		if got.Contact == &c {
			t.Errorf("the event aliases the caller's contact")
		}
	}
}
