package domain_test

import (
	"testing"

	"github.com/batonhq/baton/server/domain"
)

// TestNote: agents (owner or not) and admins write notes; the conversation is untouched; the one
// event carries the internal message and names no bot, so no bot is given it.
func TestNote(t *testing.T) {
	for name, tc := range map[string]struct {
		s      domain.Situation
		author domain.Actor
	}{
		"the owning agent":                      {engaged("ann"), agentActor("ann")},
		"another agent while the bot owns":      {botOwned(), agentActor("bob")},
		"an admin on a conversation in a queue": {queued(waitingHO()), adminActor},
	} {
		t.Run(name, func(t *testing.T) {
			m := domain.Message{ID: "msg-1", ConversationID: convID, ChannelID: chID, Content: []byte(`{"text":{"text":"VIP"}}`), Status: domain.DeliveryPending}
			got, err := domain.Note(tc.s, tc.author, m)
			if err != nil {
				t.Fatal(err)
			}
			if got.Conversation.Revision != tc.s.Conversation.Revision || got.Conversation.UpdateTime != tc.s.Conversation.UpdateTime ||
				got.Conversation.Epoch != tc.s.Conversation.Epoch || got.Conversation.LastActivityTime != tc.s.Conversation.LastActivityTime {
				t.Errorf("a note changed the conversation: %+v", got.Conversation)
			}
			if len(got.Events) != 1 || len(got.Created)+len(got.Updated) != 0 {
				t.Fatalf("change %+v, want one event and no handover", got)
			}
			e := got.Events[0]
			if e.Type != domain.EventNoteCreated || e.BotID != "" || e.Message == nil || e.Owner != tc.s.Conversation.Owner {
				t.Errorf("event %+v, want note.created with the message, the owner, and no bot", e)
			}
			n := *e.Message
			if n.Direction != domain.Internal || n.Sender != tc.author || n.Status != "" || n.Epoch != tc.s.Conversation.Epoch {
				t.Errorf("note %+v, want internal, by %v, no delivery status, at epoch %d", n, tc.author, tc.s.Conversation.Epoch)
			}
		})
	}
}

func TestNoteRefusesBots(t *testing.T) {
	got, err := domain.Note(botOwned(), botActor, domain.Message{ID: "msg-1"})
	assertRefused(t, got, err, isPermission())
}

func TestNotesAreHiddenFromBotsOnly(t *testing.T) {
	note := domain.Message{Direction: domain.Internal}
	reply := domain.Message{Direction: domain.Outbound}
	for _, role := range []domain.Role{domain.PrincipalAdmin, domain.PrincipalService, domain.PrincipalAgent, domain.PrincipalBot} {
		p := domain.Principal{Role: role}
		if !reply.VisibleTo(p) {
			t.Errorf("%s cannot see an outbound message", role)
		}
		if want := role != domain.PrincipalBot; note.VisibleTo(p) != want {
			t.Errorf("%s sees a note: %v, want %v", role, !want, want)
		}
	}
}
