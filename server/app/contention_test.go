package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// The contention tests run on PostgreSQL, where Writes run concurrently and lock rows.

// testClock is a clock only the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sendWorld is an App on a PostgreSQL store of its own, with a generic channel whose bot owns
// conversations.
type sendWorld struct {
	t     *testing.T
	app   *App
	store *postgres.Store
	clock *testClock
	logs  *pgtest.Logs // what the store logs: the transactions it ran again
	url   string       // the database's, for connections of the test's own
	ch    domain.Channel
	bot   domain.Principal
}

// newSendWorld opens the store with the test's name as its connections' application name.
func newSendWorld(t *testing.T) *sendWorld {
	t.Helper()
	url := pgtest.URL(t)
	st, err := postgres.Open(t.Context(), pgtest.WithParam(t, url, "application_name", t.Name()), postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &sendWorld{t: t, store: st, clock: &testClock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, url: url}
	w.logs = pgtest.RecordLogs(st)
	w.app = New(Config{Store: st, Clock: w.clock})
	ctx := t.Context()
	if err := w.app.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if w.ch, err = w.app.CreateChannel(ctx, chatAdmin, domain.Channel{Kind: domain.ChannelGeneric, ExternalID: "crm", DisplayName: "CRM"}, ""); err != nil {
		t.Fatal(err)
	}
	bot, err := w.app.CreateBot(ctx, chatAdmin, domain.Bot{DisplayName: "Bot"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.BindChannel(ctx, chatAdmin, bot.ID, w.ch.ID, true); err != nil {
		t.Fatal(err)
	}
	w.bot = domain.Principal{Role: domain.PrincipalBot, SubjectID: bot.ID, KeyID: "bot-key"}
	return w
}

// ingest stores a customer's message and returns its conversation.
func (w *sendWorld) ingest(ctx context.Context, customer, id string) (domain.Conversation, error) {
	out, err := w.app.Ingest(ctx, chatAdmin, Inbound{
		ChannelID: w.ch.ID, Contact: domain.Contact{ExternalID: customer}, ChannelMessageID: id,
		Content: json.RawMessage(`{"text":{"text":"hi"}}`),
	})
	return out.Conversation, err
}

// send has the bot send a text to the conversation.
func (w *sendWorld) send(ctx context.Context, conversationID string) (domain.Message, error) {
	return w.app.Send(ctx, w.bot, Outbound{ConversationID: conversationID, Render: func(domain.ChannelKind) (json.RawMessage, error) {
		return json.RawMessage(`{"text":{"text":"hello"}}`), nil
	}})
}

// hold runs a Write that does first, then waits, holding the locks it took, until the returned
// function is called; the Write then does last, and the function returns its error.
func (w *sendWorld) hold(first, last func(store.Tx) error) (finish func() error) {
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- w.store.Write(w.t.Context(), func(tx store.Tx) error {
			if err := first(tx); err != nil {
				return err
			}
			close(held)
			<-release
			return last(tx)
		})
	}()
	select {
	case <-held:
	case err := <-done:
		w.t.Fatalf("the holding Write failed: %v", err)
	}
	return func() error {
		close(release)
		return <-done
	}
}

// TestClaimSendsTakesNoConversationLock claims a message while a request holds its
// conversation: the claim must not wait for it (a claim that waits there, holding the messages
// it leased, deadlocks with a request that then updates one of them).
func TestClaimSendsTakesNoConversationLock(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t)
	ctx := t.Context()
	conv, err := w.ingest(ctx, "ada", "in-1")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := w.send(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	finish := w.hold(func(tx store.Tx) error {
		_, err := tx.GetConversation(ctx, conv.ID)
		return err
	}, func(store.Tx) error { return nil })
	// The bound only ends a claim that waits; one that does not returns at once.
	claimCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	jobs, err := w.app.ClaimSends(claimCtx, 10)
	cancel()
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	if err != nil || len(jobs) != 1 {
		t.Fatalf("ClaimSends while the conversation is locked: %v, %d jobs; want the message at once", err, len(jobs))
	}
	if j := jobs[0]; j.Message.ID != sent.ID || j.Channel.ID != w.ch.ID || j.Contact.ExternalID != "ada" {
		t.Errorf("job: message %s on %s to %q; want %s on %s to ada", j.Message.ID, j.Channel.ID, j.Contact.ExternalID, sent.ID, w.ch.ID)
	}
}

// TestSendsRaceRequests runs claims of outbound messages, their senders recording results,
// bots sending and customers writing, all at once on a few conversations, with leases running
// out so that messages are claimed again while their first sender records them: every call
// succeeds, and no transaction deadlocks (the store would run it again, and log it).
func TestSendsRaceRequests(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t)
	ctx := t.Context()
	const conversations, claimers, rounds = 2, 4, 40
	convs := make([]domain.Conversation, conversations)
	for i := range convs {
		var err error
		if convs[i], err = w.ingest(ctx, fmt.Sprint("customer-", i), fmt.Sprint("first-", i)); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 1000)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			for range rounds {
				jobs, err := w.app.ClaimSends(ctx, 10)
				if err != nil {
					errs <- fmt.Errorf("claim: %w", err)
					return
				}
				w.clock.Advance(2 * sendLease) // the leases run out: other claimers may take them
				for _, j := range jobs {
					r := domain.SendResult{ChannelMessageID: fmt.Sprint(j.Message.ID, "-", c)}
					if err := w.app.RecordSend(ctx, j.Message.ID, r); err != nil {
						errs <- fmt.Errorf("record send: %w", err)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := range rounds * 2 {
			if _, err := w.send(ctx, convs[i%conversations].ID); err != nil {
				errs <- fmt.Errorf("send: %w", err)
			}
		}
	})
	wg.Go(func() {
		for i := range rounds {
			if _, err := w.ingest(ctx, fmt.Sprint("customer-", i%conversations), fmt.Sprint("in-", i)); err != nil {
				errs <- fmt.Errorf("ingest: %w", err)
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if logs := w.logs.String(); strings.Contains(logs, "40P01") {
		t.Errorf("transactions deadlocked:\n%s", logs)
	}
}

// TestWithdrawOffersLockInIDOrder has an agent with two offers go away while a transaction of
// the test's own holds the conversation of the first (by id): withdrawing them waits for it
// without holding the other, as Writes that lock several conversations take them in id order.
func TestWithdrawOffersLockInIDOrder(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t)
	ctx := t.Context()
	ag, err := w.app.CreateAgent(ctx, chatAdmin, domain.Agent{DisplayName: "Ann", QueueIDs: []string{domain.DefaultQueueID}, Capacity: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	agent := domain.Principal{Role: domain.PrincipalAgent, SubjectID: ag.ID, KeyID: "agent-key"}
	if _, err := w.app.SetPresence(ctx, agent, "", domain.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, customer := range []string{"a", "b"} {
		conv, err := w.ingest(ctx, customer, "in-"+customer)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, conv.ID)
	}
	slices.Sort(ids)
	for _, id := range ids { // the later conversation's offer is the newer
		w.clock.Advance(time.Second)
		out, err := w.app.Handoff(ctx, w.bot, id, domain.HandoffRequest{Target: domain.Target{QueueID: domain.DefaultQueueID}})
		if err != nil || out.Handover.State != domain.HandoverOffered || out.Handover.OfferedAgentID != ag.ID {
			t.Fatalf("Handoff of %s: %+v, %v; want it offered to %s", id, out.Handover, err, ag.ID)
		}
	}

	conn, tx := pgtest.HoldRow(t, w.url, "conversations", ids[0])
	away := make(chan error, 1)
	go func() { _, err := w.app.SetPresence(ctx, agent, "", domain.PresenceAway); away <- err }()
	if err := pgtest.WaitBlocked(ctx, conn, t.Name()); err != nil {
		t.Fatal(err)
	}
	pgtest.MustNotHold(t, tx, "conversations", ids[1], "conversations are locked in id order")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-away; err != nil {
		t.Errorf("SetPresence away: %v", err)
	}
}

// TestMuteExpiryQueuesBehindIngest lets a contact's mute expire while an inbound write holds
// the contact's conversation, having read the contact it goes on to update: the expiry waits
// for the conversation, then reads the contact anew, and both changes are kept.
func TestMuteExpiryQueuesBehindIngest(t *testing.T) {
	t.Parallel()
	w := newSendWorld(t)
	ctx := t.Context()
	conv, err := w.ingest(ctx, "ada", "in-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.MuteContact(ctx, chatAdmin, conv.ContactID, time.Minute, true); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Minute)

	var in store.Inbound
	finish := w.hold(func(tx store.Tx) error {
		var err error
		in, err = tx.LoadInbound(ctx, store.InboundQuery{ChannelID: w.ch.ID, ContactExternalID: "ada", ChannelMessageID: "in-2"})
		return err
	}, func(tx store.Tx) error {
		c := *in.Contact
		c.DisplayName = "Ada L."
		return tx.UpdateContact(ctx, c)
	})
	conn, err := pgx.Connect(ctx, w.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	timers := make(chan error, 1)
	go func() { timers <- w.app.RunTimers(ctx) }()
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	blocked := make(chan error, 1)
	go func() { blocked <- pgtest.WaitBlocked(pollCtx, conn, t.Name()) }()
	select {
	case err := <-blocked:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-timers: // the expiry did not wait for the conversation
		timers <- err
	}
	if err := finish(); err != nil {
		t.Errorf("inbound write: %v", err)
	}
	if err := <-timers; err != nil {
		t.Errorf("RunTimers: %v", err)
	}
	c, err := w.app.GetContact(ctx, chatAdmin, conv.ContactID)
	if err != nil || c.DisplayName != "Ada L." || !c.BotMutedUntil.IsZero() {
		t.Errorf("contact: %q muted until %v (%v); want Ada L., unmuted", c.DisplayName, c.BotMutedUntil, err)
	}
}
