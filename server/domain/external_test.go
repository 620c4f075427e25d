package domain_test

import (
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// Times by the channel's clock: the inbox took the thread at t1, passed it back at t2.
var (
	t1 = time.Date(2025, time.March, 3, 10, 0, 1, 0, time.UTC)
	t2 = t1.Add(time.Second)
)

var inbox = domain.Actor{Kind: domain.ActorExternalHuman, ID: "263902037430900"}

// externallyOwned is the conversation the inbox took at t1 (epoch 4).
func externallyOwned() domain.Situation {
	s := botOwned()
	s.Conversation.Owner = domain.ExternalHumanOwner(inbox.ID)
	s.Conversation.Epoch = 4
	s.Conversation.ExternalOwnerTime = t1
	return s
}

// handedBack is the bot-owned conversation the inbox passed back at t2 (epoch 5).
func handedBack() domain.Situation {
	s := botOwned()
	s.Conversation.Epoch = 5
	s.Conversation.ExternalOwnerTime = t2
	return s
}

func TestExternalTakeoverInChannelOrder(t *testing.T) {
	t.Run("newer than the last report: the inbox owns", func(t *testing.T) {
		s := botOwned()
		got, ok := domain.ExternalTakeover(s, inbox, "", t1)
		if !ok {
			t.Fatal("refused")
		}
		assertChange(t, s, got, want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.LastActivityTime, c.ExternalOwnerTime = domain.ExternalHumanOwner(inbox.ID), 4, now, t1
			},
			events: []ev{ownerChanged(inbox, domain.BotOwner(botID), domain.ExternalHumanOwner(inbox.ID), 4, "a human took the conversation outside Baton", "")},
		})
	})
	t.Run("older than the pass that handed it back: nothing", func(t *testing.T) {
		if got, ok := domain.ExternalTakeover(handedBack(), inbox, "", t1); ok {
			t.Errorf("an older take moved the conversation: %+v", got)
		}
	})
	t.Run("without a time: taken, the last time kept", func(t *testing.T) {
		s := handedBack()
		got, ok := domain.ExternalTakeover(s, inbox, "", time.Time{})
		if !ok || got.Conversation.Owner != domain.ExternalHumanOwner(inbox.ID) || !got.Conversation.ExternalOwnerTime.Equal(t2) {
			t.Errorf("got %v %+v", ok, got.Conversation)
		}
	})
}

func TestExternalReleaseInChannelOrder(t *testing.T) {
	t.Run("newer than the take: the bot owns again", func(t *testing.T) {
		s := externallyOwned()
		got, ok := domain.ExternalRelease(s, "", t2)
		if !ok {
			t.Fatal("refused")
		}
		assertChange(t, s, got, want{
			conv: func(c *domain.Conversation) {
				c.Owner, c.Epoch, c.LastActivityTime, c.ExternalOwnerTime = domain.BotOwner(botID), 5, now, t2
			},
			events: []ev{ownerChanged(inbox, domain.ExternalHumanOwner(inbox.ID), domain.BotOwner(botID), 5, "handed back from outside Baton", "")},
		})
	})
	t.Run("older than the take: nothing", func(t *testing.T) {
		s := externallyOwned()
		s.Conversation.ExternalOwnerTime = t2
		if got, ok := domain.ExternalRelease(s, "", t1); ok {
			t.Errorf("an older pass moved the conversation: %+v", got)
		}
	})
	t.Run("at the same instant as the take: arrival order", func(t *testing.T) {
		if _, ok := domain.ExternalRelease(externallyOwned(), "", t1); !ok {
			t.Error("refused")
		}
	})
}

func TestExternalReplyInChannelOrder(t *testing.T) {
	reply := domain.Message{ID: "msg-1", ConversationID: convID, ChannelID: chID, Direction: domain.Outbound, ChannelMessageID: "m_1", Status: domain.DeliverySent, CreateTime: now}
	t.Run("newer: the human owns", func(t *testing.T) {
		got := domain.ExternalReply(botOwned(), inbox, reply, t1)
		if got.Conversation.Owner != domain.ExternalHumanOwner(inbox.ID) || !got.Conversation.ExternalOwnerTime.Equal(t1) {
			t.Errorf("conversation %+v", got.Conversation)
		}
	})
	t.Run("older than the pass that handed it back: recorded, nobody moves", func(t *testing.T) {
		s := handedBack()
		got := domain.ExternalReply(s, inbox, reply, t1)
		m := reply
		m.Sender, m.Epoch = inbox, 5
		assertChange(t, s, got, want{
			conv:   func(c *domain.Conversation) { c.LastOutboundTime, c.LastActivityTime = now, now },
			events: []ev{{Type: domain.EventMessageSent, Actor: inbox, Msg: &m}},
		})
	})
}

func TestNewerExternalTime(t *testing.T) {
	c := handedBack().Conversation
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t2.Add(time.Millisecond), true}, {t2, false}, {t1, false}, {time.Time{}, false}} {
		if got := domain.NewerExternalTime(c, tc.at); got != tc.want {
			t.Errorf("NewerExternalTime(last %v, %v) = %v", c.ExternalOwnerTime, tc.at, got)
		}
	}
	if !domain.NewerExternalTime(botOwned().Conversation, t1) {
		t.Error("a first report is not newer than none")
	}
}
