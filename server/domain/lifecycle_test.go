package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/server/domain"
)

// world plays the store: it keeps the situation a transition returned and feeds it to the next.
type world struct {
	t *testing.T
	s domain.Situation
}

// apply checks a change against the situation it came from and stores it.
func (w *world) apply(step string, ch domain.Change, err error) domain.Change {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", step, err)
	}
	checkInvariants(w.t, w.s, ch)
	w.s.Conversation = ch.Conversation
	var active *domain.Handover
	if id := ch.Conversation.ActiveHandoverID; id != "" {
		if w.s.Active != nil && w.s.Active.ID == id {
			active = w.s.Active
		}
		for _, h := range append(append([]domain.Handover(nil), ch.Created...), ch.Updated...) {
			if h.ID == id {
				active = &h
			}
		}
		if active == nil {
			w.t.Fatalf("%s: active handover %s not found", step, id)
		}
	}
	w.s.Active = active
	return ch
}

func (w *world) at(d time.Duration) { w.s.Now = now.Add(d) }

func (w *world) active() domain.Handover {
	w.t.Helper()
	if w.s.Active == nil {
		w.t.Fatalf("no active handover")
	}
	return *w.s.Active
}

func (w *world) expect(step string, owner domain.Owner, epoch uint64) {
	w.t.Helper()
	if c := w.s.Conversation; c.Owner != owner || c.Epoch != epoch {
		w.t.Fatalf("%s: owner %s at epoch %d, want %s at %d", step, c.Owner, c.Epoch, owner, epoch)
	}
}

// TestLifecycle runs one conversation through its life, feeding each change to the next
// transition as the store would, checking the invariants at every step.
func TestLifecycle(t *testing.T) {
	w := &world{t: t, s: beforeNew(newSituation())}
	agents := roster()
	r := domain.Routing{Queue: defaultQueue(), Agents: agents}

	w.apply("new", domain.NewConversation(w.s, convID, r), nil)
	w.expect("new", domain.BotOwner(botID), 1)

	w.at(time.Minute)
	w.apply("receive", domain.Receive(w.s, inbound(), r), nil)
	w.expect("receive", domain.BotOwner(botID), 1)

	w.at(2 * time.Minute)
	req := handoffRequest(domain.Target{QueueID: qDefault})
	req.Expected = ptr[uint64](1)
	ch, err := domain.Handoff(w.s, botActor, req, r)
	w.apply("handoff", ch, err)
	w.expect("handoff", domain.QueueOwner(qDefault), 2)
	if h := w.active(); h.State != domain.HandoverOffered || h.OfferedAgentID != "bob" || !h.OfferExpireTime.Equal(now.Add(3*time.Minute)) {
		t.Fatalf("handoff: %s offered to %q until %v", h.State, h.OfferedAgentID, h.OfferExpireTime)
	}
	handoverID := w.active().ID

	// The slow bot still believes in epoch 1.
	_, err = domain.Send(w.s, botActor, ptr[uint64](1), outbound())
	isOwnership("epoch", domain.QueueOwner(qDefault), 2)(t, err)

	// The offer is not due yet; then it is.
	w.at(2*time.Minute + 59*time.Second)
	_, err = domain.ExpireOffer(w.s, w.active(), r)
	isOwnership("handover", domain.QueueOwner(qDefault), 2)(t, err)
	w.at(3 * time.Minute)
	ch, err = domain.ExpireOffer(w.s, w.active(), r)
	w.apply("expire offer", ch, err)
	if h := w.active(); h.OfferedAgentID != "cat" || len(h.DeclinedAgentIDs) != 0 {
		t.Fatalf("expire offer: offered to %q, declined by %v; want cat, and bob not remembered as declining", h.OfferedAgentID, h.DeclinedAgentIDs)
	}

	// ann, not offered, declines: cat's offer stands.
	w.at(3*time.Minute + 10*time.Second)
	snapshot := w.active()
	ch, err = domain.Decline(w.s, w.active(), ann(), "lunch", r)
	w.apply("ann declines", ch, err)
	if d := cmp.Diff(snapshot, *w.s.Active, equateEmpty, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".DeclinedAgentIDs"
	}, cmp.Ignore())); d != "" {
		t.Fatalf("a non-offered agent's decline changed the offer:\n%s", d)
	}
	if len(snapshot.DeclinedAgentIDs) != 0 {
		t.Fatalf("Decline mutated the caller's handover: %v", snapshot.DeclinedAgentIDs)
	}

	// cat declines: it goes back to bob, whose offer only lapsed.
	w.at(3*time.Minute + 20*time.Second)
	ch, err = domain.Decline(w.s, w.active(), cat(), "busy", r)
	w.apply("cat declines", ch, err)
	if h := w.active(); h.OfferedAgentID != "bob" || !cmp.Equal(h.DeclinedAgentIDs, []string{"ann", "cat"}) {
		t.Fatalf("cat declines: offered to %q, declined by %v", h.OfferedAgentID, h.DeclinedAgentIDs)
	}

	// bob declines too: everyone online has declined and dan is offline, so it waits.
	w.at(3*time.Minute + 25*time.Second)
	ch, err = domain.Decline(w.s, w.active(), bob(), "busy", r)
	w.apply("bob declines", ch, err)
	if h := w.active(); h.State != domain.HandoverRequested || !cmp.Equal(h.DeclinedAgentIDs, []string{"ann", "cat", "bob"}) {
		t.Fatalf("bob declines: %s, declined by %v", h.State, h.DeclinedAgentIDs)
	}
	if _, ok := domain.Reoffer(w.s, w.active(), r); ok {
		t.Fatalf("reoffered with nobody left")
	}

	// dan comes online and is offered it.
	w.at(4 * time.Minute)
	d, events := domain.SetPresence(dan(), domain.PresenceOnline, agentActor("dan"), w.s.Now, w.s.NewID)
	if len(events) != 1 || d.Presence != domain.PresenceOnline {
		t.Fatalf("SetPresence: %v %v", d, events)
	}
	r.Agents = append(r.Agents[:3:3], d, sue())
	ch, ok := domain.Reoffer(w.s, w.active(), r)
	if !ok {
		t.Fatalf("Reoffer found nobody")
	}
	w.apply("reoffer", ch, nil)

	// bob (he declined earlier, but is still eligible) and dan accept at once: bob wins.
	w.at(4*time.Minute + 30*time.Second)
	raced := w.s
	ch, err = domain.Accept(w.s, w.active(), bob(), defaultQueue())
	w.apply("bob accepts", ch, err)
	w.expect("bob accepts", domain.AgentOwner("bob"), 3)
	if h := w.active(); h.ID != handoverID || h.TimeToAccept() != 150*time.Second {
		t.Fatalf("accepted %s after %v", h.ID, h.TimeToAccept())
	}
	_, err = domain.Accept(w.s, w.active(), d, defaultQueue())
	isOwnership("handover", domain.AgentOwner("bob"), 3)(t, err)
	if raced.Active.State != domain.HandoverOffered {
		t.Fatalf("Accept mutated the situation it was given")
	}

	// bob answers, the slow bot cannot.
	_, err = domain.Send(w.s, botActor, ptr[uint64](2), outbound())
	isOwnership("epoch", domain.AgentOwner("bob"), 3)(t, err)
	ch, err = domain.Send(w.s, agentActor("bob"), ptr[uint64](3), outbound())
	w.apply("bob sends", ch, err)

	// bob transfers to billing; cat takes it.
	w.at(10 * time.Minute)
	billing := domain.Routing{Queue: billingQueue(), Agents: roster()}
	ch, err = domain.Transfer(w.s, bob(), ptr[uint64](3), domain.Target{QueueID: qBilling}, "", "refund", domain.RouteMatch{}, billing)
	w.apply("transfer", ch, err)
	w.expect("transfer", domain.QueueOwner(qBilling), 4)
	if h := w.active(); h.ID == handoverID || h.OfferedAgentID != "cat" || len(h.DeclinedAgentIDs) != 0 {
		t.Fatalf("transfer: %s offered to %q, declined by %v", h.ID, h.OfferedAgentID, h.DeclinedAgentIDs)
	}
	ch, err = domain.Accept(w.s, w.active(), cat(), billingQueue())
	w.apply("cat accepts", ch, err)
	w.expect("cat accepts", domain.AgentOwner("cat"), 5)

	// A supervisor mutes the bot and lifts the mute: cat keeps it; cat hands back to the bot.
	ch = domain.Mute(w.s, agentActor("sue"), w.s.Now.Add(time.Hour), billing)
	w.apply("mute", ch, nil)
	w.expect("mute", domain.AgentOwner("cat"), 5)
	ch = domain.Unmute(w.s, agentActor("sue"))
	w.apply("unmute", ch, nil)
	ch, err = domain.Handback(w.s, cat(), ptr[uint64](5), domain.OutcomeResolved, "refunded")
	w.apply("handback", ch, err)
	w.expect("handback", domain.BotOwner(botID), 6)

	// A day of silence closes it; the customer writes again and the bot has it.
	if _, ok := domain.SessionTimeout(w.s); ok {
		t.Fatalf("session timeout due too early")
	}
	w.s.Now = w.s.Conversation.LastActivityTime.Add(domain.DefaultSessionTimeout)
	ch, ok = domain.SessionTimeout(w.s)
	if !ok {
		t.Fatalf("session timeout not due")
	}
	w.apply("session timeout", ch, nil)
	w.expect("session timeout", domain.Nobody, 7)
	w.at(48 * time.Hour)
	w.apply("receive again", domain.Receive(w.s, inbound(), r), nil)
	w.expect("receive again", domain.BotOwner(botID), 8)
	if w.s.Conversation.State != domain.ConversationOpen {
		t.Fatalf("not reopened")
	}
}
