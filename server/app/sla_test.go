package app

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// An SLA breach raises a waiting handover's priority, and the timers offer by priority, then
// by wait: with offers holding seats, an agent with one free seat is offered the younger,
// breached conversation, and the older one waits.
func TestBreachedHandoverIsOfferedFirst(t *testing.T) {
	for _, hold := range []bool{true, false} {
		t.Run(map[bool]string{true: "offers hold seats", false: "offers hold no seat"}[hold], func(t *testing.T) {
			ctx := t.Context()
			clock := &testClock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
			a := New(Config{Store: testStore(t), Clock: clock, OffersHoldSeats: hold})
			if err := a.Bootstrap(ctx); err != nil {
				t.Fatal(err)
			}
			plain, err := a.CreateQueue(ctx, chatAdmin, domain.Queue{DisplayName: "Plain"}, "")
			if err != nil {
				t.Fatal(err)
			}
			strict, err := a.CreateQueue(ctx, chatAdmin, domain.Queue{DisplayName: "Strict", SLA: domain.QueueSLA{WaitTarget: time.Minute, RaisePriority: 5}}, "")
			if err != nil {
				t.Fatal(err)
			}
			ag, err := a.CreateAgent(ctx, chatAdmin, domain.Agent{DisplayName: "Ada", Capacity: 1, QueueIDs: []string{plain.ID, strict.ID}}, "")
			if err != nil {
				t.Fatal(err)
			}
			ch := chatChannel(t, a, domain.ChannelGeneric, "whsec_x")
			bot, err := a.CreateBot(ctx, chatAdmin, domain.Bot{DisplayName: "Bot"}, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.BindChannel(ctx, chatAdmin, bot.ID, ch.ID, true); err != nil {
				t.Fatal(err)
			}
			waiting := func(customer, queueID string) domain.Handover {
				in, err := a.Ingest(ctx, chatAdmin, Inbound{ChannelID: ch.ID, Contact: domain.Contact{ExternalID: customer},
					ChannelMessageID: customer, Content: json.RawMessage(`{"text":{"text":"hi"}}`)})
				if err != nil {
					t.Fatal(err)
				}
				out, err := a.Handoff(ctx, domain.Principal{Role: domain.PrincipalBot, SubjectID: bot.ID}, in.Conversation.ID,
					domain.HandoffRequest{Target: domain.Target{QueueID: queueID}, Reason: "help", QueueAnyway: true})
				if err != nil {
					t.Fatal(err)
				}
				return out.Handover
			}
			older := waiting("older", plain.ID)
			clock.Advance(10 * time.Second)
			younger := waiting("younger", strict.ID)
			clock.Advance(time.Minute)
			if err := a.RunTimers(ctx); err != nil { // the breach; the agent is offline
				t.Fatal(err)
			}
			agent := domain.Principal{Role: domain.PrincipalAgent, SubjectID: ag.ID}
			if _, err := a.SetPresence(ctx, agent, ag.ID, domain.PresenceOnline); err != nil {
				t.Fatal(err)
			}
			if err := a.RunTimers(ctx); err != nil {
				t.Fatal(err)
			}
			o, y := a.mustHandover(t, older.ID), a.mustHandover(t, younger.ID)
			if y.Priority != 5 || y.State != domain.HandoverOffered || y.OfferedAgentID != ag.ID {
				t.Fatalf("breached handover: priority %d, %s to %q; want 5, offered to %s", y.Priority, y.State, y.OfferedAgentID, ag.ID)
			}
			if want := map[bool]domain.HandoverState{true: domain.HandoverRequested, false: domain.HandoverOffered}[hold]; o.State != want {
				t.Fatalf("older handover %s, want %s", o.State, want)
			}
		})
	}
}

func (a *App) mustHandover(t *testing.T, id string) domain.Handover {
	t.Helper()
	h, err := a.GetHandover(t.Context(), chatAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
