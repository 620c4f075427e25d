package domain_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batonhq/baton/server/domain"
)

// Fixed instants: the conversation started at t0, the rules run at now.
var (
	t0  = time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)
	now = time.Date(2025, time.March, 3, 10, 30, 0, 0, time.UTC)
)

const (
	convID   = "conv-1"
	chID     = "ch-1"
	botID    = "bot-1"
	ctID     = "ct-1"
	qDefault = "q-default"
	qBilling = "q-billing"
)

var (
	botActor      = domain.Actor{Kind: domain.ActorBot, ID: botID}
	customerActor = domain.Actor{Kind: domain.ActorCustomer, ID: ctID}
	adminActor    = domain.Actor{Kind: domain.ActorAdmin, ID: "key-admin"}
)

func agentActor(id string) domain.Actor { return domain.Actor{Kind: domain.ActorAgent, ID: id} }

// seq is a deterministic NewID: "ev-1", "ho-2", ... one counter for every prefix.
func seq() func(string) string {
	n := 0
	return func(prefix string) string {
		n++
		return fmt.Sprintf("%s-%d", prefix, n)
	}
}

func ptr[T any](v T) *T { return &v }

func channel() domain.Channel {
	return domain.Channel{
		ID: chID, Kind: domain.ChannelMessenger, ExternalID: "page-1", DisplayName: "Support",
		BotID: botID, DefaultQueueID: qDefault, CreateTime: t0, UpdateTime: t0, Revision: 1,
	}
}

func bot() *domain.Bot {
	return &domain.Bot{ID: botID, DisplayName: "Helper", Active: true, ChannelIDs: []string{chID}}
}

func contact() domain.Contact {
	return domain.Contact{ID: ctID, ChannelID: chID, ExternalID: "psid-1", DisplayName: "Carla", CreateTime: t0}
}

// defaultQueue has no offer timeout of its own (so the default 60 s applies) and no skills.
func defaultQueue() domain.Queue { return domain.Queue{ID: qDefault, DisplayName: "Default"} }

// billingQueue requires the billing skill and offers for 30 s.
func billingQueue() domain.Queue {
	return domain.Queue{ID: qBilling, DisplayName: "Billing", Skills: []string{"billing"}, OfferTimeout: 30 * time.Second}
}

// The roster. On the default queue, bob and cat are both idle (load 0) and bob wins the tie
// by id; ann is half loaded; dan is offline; sue is a supervisor in no queue.
func ann() domain.Agent {
	return domain.Agent{ID: "ann", Role: domain.RoleAgent, Skills: []string{"billing", "french"}, Capacity: 2, Active: 1,
		QueueIDs: []string{qDefault, qBilling}, Presence: domain.PresenceOnline}
}

func bob() domain.Agent {
	return domain.Agent{ID: "bob", Role: domain.RoleAgent, Skills: []string{"english"}, Capacity: 2,
		QueueIDs: []string{qDefault}, Presence: domain.PresenceOnline}
}

func cat() domain.Agent {
	return domain.Agent{ID: "cat", Role: domain.RoleAgent, Skills: []string{"billing"}, Capacity: 1,
		QueueIDs: []string{qDefault, qBilling}, Presence: domain.PresenceOnline}
}

func dan() domain.Agent {
	return domain.Agent{ID: "dan", Role: domain.RoleAgent, Skills: []string{"billing"}, Capacity: 3,
		QueueIDs: []string{qDefault, qBilling}, Presence: domain.PresenceOffline}
}

func sue() domain.Agent {
	return domain.Agent{ID: "sue", Role: domain.RoleSupervisor, Capacity: 3, Presence: domain.PresenceOnline}
}

func roster() []domain.Agent { return []domain.Agent{ann(), bob(), cat(), dan(), sue()} }

func routing(q domain.Queue, agents ...domain.Agent) domain.Routing {
	return domain.Routing{Queue: q, Agents: agents}
}

func defaultRouting() domain.Routing { return routing(defaultQueue(), roster()...) }

// with returns a copy of a with f applied.
func with(a domain.Agent, f func(*domain.Agent)) domain.Agent { f(&a); return a }

// botOwned is an open conversation its bot owns at epoch 3.
func botOwned() domain.Situation {
	return domain.Situation{
		Now: now,
		Conversation: domain.Conversation{
			ID: convID, ChannelID: chID, ContactID: ctID, BotID: botID,
			Owner: domain.BotOwner(botID), Epoch: 3, State: domain.ConversationOpen, Status: domain.StatusOK,
			BotEnabled: true, LastActivityTime: t0, LastInboundTime: t0, CreateTime: t0, UpdateTime: t0, Revision: 7,
		},
		Channel: channel(),
		Bot:     bot(),
		Contact: contact(),
		NewID:   seq(),
	}
}

// waitingHO is handover ho-w, requested from the bot into the default queue at epoch 4.
func waitingHO() domain.Handover {
	return domain.Handover{
		ID: "ho-w", ConversationID: convID, From: domain.BotOwner(botID), Target: domain.Target{QueueID: qDefault},
		QueueID: qDefault, Reason: "wants a human", State: domain.HandoverRequested, RequestedBy: botActor,
		Epoch: 4, CreateTime: t0.Add(time.Hour),
	}
}

// offeredHO is ho-w offered to agentID, the offer running until 20 s after now.
func offeredHO(agentID string) domain.Handover {
	h := waitingHO()
	h.State = domain.HandoverOffered
	h.OfferedAgentID = agentID
	h.OfferExpireTime = now.Add(20 * time.Second)
	return h
}

// queued is the conversation waiting in h's queue at epoch 4 with h live.
func queued(h domain.Handover) domain.Situation {
	s := botOwned()
	s.Conversation.Owner = domain.QueueOwner(h.QueueID)
	s.Conversation.Epoch = 4
	s.Conversation.ActiveHandoverID = h.ID
	s.Active = &h
	return s
}

// engagedHO is ho-e, accepted by agentID at epoch 5.
func engagedHO(agentID string) domain.Handover {
	h := waitingHO()
	h.ID = "ho-e"
	h.State = domain.HandoverAccepted
	h.AgentID = agentID
	h.AcceptTime = t0.Add(time.Hour + time.Minute)
	return h
}

// engaged is the conversation owned by agentID at epoch 5 through ho-e.
func engaged(agentID string) domain.Situation {
	s := botOwned()
	h := engagedHO(agentID)
	s.Conversation.Owner = domain.AgentOwner(agentID)
	s.Conversation.Epoch = 5
	s.Conversation.ActiveHandoverID = h.ID
	s.Active = &h
	return s
}

// closedConv is a closed conversation at epoch 6.
func closedConv() domain.Situation {
	s := botOwned()
	s.Conversation.Owner = domain.Nobody
	s.Conversation.Epoch = 6
	s.Conversation.State = domain.ConversationClosed
	return s
}

// botless makes the situation's channel have no bot.
func botless(s domain.Situation) domain.Situation {
	s.Channel.BotID = ""
	s.Bot = nil
	return s
}

// ev is the part of an event a table asserts; the rest (ids, time, conversation snapshot,
// owner, epoch, handover snapshot) is asserted by checkInvariants.
type ev struct {
	Type    domain.EventType
	Actor   domain.Actor
	AgentID string
	HO      string // "id state" of the handover snapshot
	Change  *domain.OwnerChange
	Msg     *domain.Message
}

func summarize(events []domain.Event) []ev {
	out := make([]ev, 0, len(events))
	for _, e := range events {
		s := ev{Type: e.Type, Actor: e.Actor, AgentID: e.AgentID, Change: e.OwnerChange, Msg: e.Message}
		if e.Handover != nil {
			s.HO = e.Handover.ID + " " + string(e.Handover.State)
		}
		out = append(out, s)
	}
	return out
}

func ownerChanged(actor domain.Actor, from, to domain.Owner, epoch uint64, reason, handoverID string) ev {
	return ev{Type: domain.EventOwnerChanged, Actor: actor, Change: &domain.OwnerChange{
		From: from, To: to, Epoch: epoch, Reason: reason, HandoverID: handoverID,
	}}
}

func hoEvent(typ domain.EventType, actor domain.Actor, agentID, id string, state domain.HandoverState) ev {
	return ev{Type: typ, Actor: actor, AgentID: agentID, HO: id + " " + string(state)}
}

// want is the exact result of a successful transition.
type want struct {
	conv    func(*domain.Conversation) // applied to the situation's conversation with UpdateTime = Now
	created []domain.Handover
	updated []domain.Handover
	events  []ev
}

var equateEmpty = cmpopts.EquateEmpty()

// assertChange checks the invariants and that the change is exactly w.
func assertChange(t *testing.T, before domain.Situation, got domain.Change, w want) {
	t.Helper()
	checkInvariants(t, before, got)
	c := before.Conversation
	c.UpdateTime = before.Now
	if w.conv != nil {
		w.conv(&c)
	}
	if d := cmp.Diff(c, got.Conversation, equateEmpty); d != "" {
		t.Errorf("conversation (-want +got):\n%s", d)
	}
	if d := cmp.Diff(w.created, got.Created, equateEmpty); d != "" {
		t.Errorf("created handovers (-want +got):\n%s", d)
	}
	if d := cmp.Diff(w.updated, got.Updated, equateEmpty); d != "" {
		t.Errorf("updated handovers (-want +got):\n%s", d)
	}
	if d := cmp.Diff(w.events, summarize(got.Events), equateEmpty); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

// checkInvariants asserts what every successful Change must satisfy, whatever the transition.
func checkInvariants(t *testing.T, before domain.Situation, ch domain.Change) {
	t.Helper()
	conv := ch.Conversation
	if len(ch.Events) == 0 {
		t.Errorf("invariant: a change announces nothing")
	}

	// The epoch moves by exactly the owner changes, each one step, each starting where the
	// previous ended.
	var changes []domain.OwnerChange
	for _, e := range ch.Events {
		if (e.Type == domain.EventOwnerChanged) != (e.OwnerChange != nil) {
			t.Errorf("invariant: event %s %s: owner change %v", e.ID, e.Type, e.OwnerChange)
		}
		if e.OwnerChange != nil {
			changes = append(changes, *e.OwnerChange)
		}
	}
	if conv.Epoch < before.Conversation.Epoch || conv.Epoch-before.Conversation.Epoch != uint64(len(changes)) {
		t.Errorf("invariant: epoch %d -> %d with %d owner_changed events", before.Conversation.Epoch, conv.Epoch, len(changes))
	}
	prev := before.Conversation.Owner
	for i, oc := range changes {
		if want := before.Conversation.Epoch + uint64(i) + 1; oc.Epoch != want {
			t.Errorf("invariant: owner change %d has epoch %d, want %d", i, oc.Epoch, want)
		}
		if oc.From != prev {
			t.Errorf("invariant: owner change %d from %s, but the owner was %s", i, oc.From, prev)
		}
		if oc.From == oc.To {
			t.Errorf("invariant: owner change %d from %s to itself", i, oc.From)
		}
		prev = oc.To
	}
	if prev != conv.Owner {
		t.Errorf("invariant: the last owner change ends at %s, but the owner is %s", prev, conv.Owner)
	}

	// The stored handovers, latest version of each.
	stored := map[string]domain.Handover{}
	for _, h := range append(append([]domain.Handover(nil), ch.Created...), ch.Updated...) {
		stored[h.ID] = h
		if h.ConversationID != conv.ID {
			t.Errorf("invariant: handover %s belongs to conversation %q", h.ID, h.ConversationID)
		}
		switch h.State {
		case domain.HandoverReleased, domain.HandoverDeclined, domain.HandoverFailed, domain.HandoverExpired, domain.HandoverCanceled:
			if !h.EndTime.Equal(before.Now) {
				t.Errorf("invariant: handover %s ended (%s) with end time %v", h.ID, h.State, h.EndTime)
			}
		default:
			if !h.EndTime.IsZero() {
				t.Errorf("invariant: live handover %s (%s) has an end time", h.ID, h.State)
			}
		}
		if h.State == domain.HandoverOffered && (h.OfferedAgentID == "" || !h.OfferExpireTime.After(before.Now)) {
			t.Errorf("invariant: offered handover %s: offered to %q until %v", h.ID, h.OfferedAgentID, h.OfferExpireTime)
		}
		if h.State != domain.HandoverOffered && h.OfferedAgentID != "" {
			t.Errorf("invariant: %s handover %s is still offered to %s", h.State, h.ID, h.OfferedAgentID)
		}
	}
	if len(ch.Created) != len(uniqueIDs(ch.Created)) || len(ch.Updated) != len(uniqueIDs(ch.Updated)) {
		t.Errorf("invariant: a handover is listed twice in one change")
	}
	for _, h := range ch.Created {
		if before.Active != nil && h.ID == before.Active.ID {
			t.Errorf("invariant: handover %s created again", h.ID)
		}
	}
	lookup := func(id string) (domain.Handover, bool) {
		if h, ok := stored[id]; ok {
			return h, true
		}
		if before.Active != nil && before.Active.ID == id {
			return *before.Active, true
		}
		return domain.Handover{}, false
	}
	// At most one live handover, and it is the active one.
	for id, h := range stored {
		if h.State.Live() && id != conv.ActiveHandoverID {
			t.Errorf("invariant: live handover %s (%s) is not the active one %q", id, h.State, conv.ActiveHandoverID)
		}
	}
	if a := before.Active; a != nil && a.State.Live() && a.ID != conv.ActiveHandoverID {
		if h, ok := stored[a.ID]; !ok || h.State.Live() {
			t.Errorf("invariant: the previous live handover %s was left live and inactive", a.ID)
		}
	}

	// Owner kind and the active handover agree.
	active, hasActive := lookup(conv.ActiveHandoverID)
	if conv.ActiveHandoverID != "" && !hasActive {
		t.Errorf("invariant: active handover %s is unknown", conv.ActiveHandoverID)
	}
	switch conv.Owner.Kind {
	case domain.OwnerQueue:
		if !hasActive || !active.State.Waiting() || active.QueueID != conv.Owner.ID {
			t.Errorf("invariant: owner %s but active handover %q is %s in queue %q", conv.Owner, conv.ActiveHandoverID, active.State, active.QueueID)
		}
	case domain.OwnerAgent:
		if !hasActive || active.State != domain.HandoverAccepted || active.AgentID != conv.Owner.ID {
			t.Errorf("invariant: owner %s but active handover %q is %s by %q", conv.Owner, conv.ActiveHandoverID, active.State, active.AgentID)
		}
	case domain.OwnerBot:
		if conv.ActiveHandoverID != "" {
			t.Errorf("invariant: owner %s with active handover %s", conv.Owner, conv.ActiveHandoverID)
		}
		if conv.BotID != conv.Owner.ID {
			t.Errorf("invariant: owner %s but bot_id %q", conv.Owner, conv.BotID)
		}
	case domain.OwnerNobody, domain.OwnerExternalHuman:
		if conv.ActiveHandoverID != "" {
			t.Errorf("invariant: owner %s with active handover %s", conv.Owner, conv.ActiveHandoverID)
		}
	default:
		t.Errorf("invariant: unknown owner %q", conv.Owner)
	}
	if (conv.Owner.Kind == domain.OwnerNobody) != (conv.State == domain.ConversationClosed) {
		t.Errorf("invariant: owner %s in state %s", conv.Owner, conv.State)
	}
	if !conv.UpdateTime.Equal(before.Now) {
		t.Errorf("invariant: update time %v, want %v", conv.UpdateTime, before.Now)
	}

	// Every event has an id and the time of the change; conversation events carry the final
	// conversation; every stored handover is announced as stored.
	seen := map[string]bool{}
	lastSnapshot := map[string]domain.Handover{}
	for _, e := range ch.Events {
		if e.ID == "" || seen[e.ID] {
			t.Errorf("invariant: event %s has a missing or repeated id %q", e.Type, e.ID)
		}
		seen[e.ID] = true
		if !e.Time.Equal(before.Now) {
			t.Errorf("invariant: event %s %s at %v, want %v", e.ID, e.Type, e.Time, before.Now)
		}
		if e.ConversationID != conv.ID || e.ChannelID != conv.ChannelID || e.ContactID != conv.ContactID {
			t.Errorf("invariant: event %s %s about conversation %q channel %q contact %q", e.ID, e.Type, e.ConversationID, e.ChannelID, e.ContactID)
		}
		if e.Message != nil {
			if e.Conversation != nil {
				t.Errorf("invariant: message event %s %s carries the conversation too", e.ID, e.Type)
			}
			if e.Owner != conv.Owner || e.Epoch != conv.Epoch {
				t.Errorf("invariant: message event %s names owner %v at %d, want %v at %d", e.ID, e.Owner, e.Epoch, conv.Owner, conv.Epoch)
			}
		} else if e.Conversation == nil {
			t.Errorf("invariant: event %s %s carries no conversation", e.ID, e.Type)
		} else if d := cmp.Diff(conv, *e.Conversation, equateEmpty); d != "" {
			t.Errorf("invariant: event %s %s carries another conversation than the final one (-final +event):\n%s", e.ID, e.Type, d)
		}
		wantBot := "" // the channel's bot now, never one unbound since
		if before.Bot != nil {
			wantBot = before.Bot.ID
		}
		if e.BotID != wantBot {
			t.Errorf("invariant: event %s %s names bot %q, want %q", e.ID, e.Type, e.BotID, wantBot)
		}
		if e.Owner != conv.Owner || e.Epoch != conv.Epoch {
			t.Errorf("invariant: event %s %s says owner %s epoch %d, final is %s epoch %d", e.ID, e.Type, e.Owner, e.Epoch, conv.Owner, conv.Epoch)
		}
		if e.Handover != nil {
			lastSnapshot[e.Handover.ID] = *e.Handover
		}
	}
	for id, h := range stored {
		got, ok := lastSnapshot[id]
		if !ok {
			t.Errorf("invariant: handover %s was stored but never announced", id)
			continue
		}
		if d := cmp.Diff(h, got, equateEmpty); d != "" {
			t.Errorf("invariant: handover %s is announced otherwise than stored (-stored +announced):\n%s", id, d)
		}
	}
}

func uniqueIDs(hs []domain.Handover) map[string]bool {
	m := map[string]bool{}
	for _, h := range hs {
		m[h.ID] = true
	}
	return m
}

// Error expectations.

type errCheck func(t *testing.T, err error)

// isOwnership expects an *OwnershipError about subject, reporting the conversation's owner and
// epoch as they are now.
func isOwnership(subject string, owner domain.Owner, epoch uint64) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		var oe *domain.OwnershipError
		if !errors.As(err, &oe) {
			t.Fatalf("err = %v (%T), want *domain.OwnershipError", err, err)
		}
		want := domain.OwnershipError{ConversationID: convID, Owner: owner, Epoch: epoch, Subject: subject, Reason: oe.Reason}
		if d := cmp.Diff(want, *oe); d != "" {
			t.Errorf("ownership error (-want +got):\n%s", d)
		}
		if oe.Reason == "" {
			t.Errorf("ownership error without a reason")
		}
	}
}

func isPermission() errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		var pe *domain.PermissionError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v (%T), want *domain.PermissionError", err, err)
		}
		if pe.Reason == "" {
			t.Errorf("permission error without a reason")
		}
	}
}

func isPrecondition(subject string) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		var pe *domain.PreconditionError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v (%T), want *domain.PreconditionError", err, err)
		}
		if pe.Subject != subject || pe.Reason == "" {
			t.Errorf("precondition error %+v, want subject %q with a reason", *pe, subject)
		}
	}
}

func isInvalid(field string) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		var ie *domain.InvalidError
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v (%T), want *domain.InvalidError", err, err)
		}
		if ie.Field != field || ie.Reason == "" {
			t.Errorf("invalid error %+v, want field %q with a reason", *ie, field)
		}
	}
}

// assertRefused checks an error outcome: the expected error and no change at all.
func assertRefused(t *testing.T, got domain.Change, err error, check errCheck) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; change: %+v", got)
	}
	check(t, err)
	if d := cmp.Diff(domain.Change{}, got); d != "" {
		t.Errorf("a refused transition returned a change:\n%s", d)
	}
}

func ownerPtr(o domain.Owner) *domain.Owner { return &o }
