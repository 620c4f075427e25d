package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

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

// syncBuffer is a buffer a logger and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sendWorld is an App on a PostgreSQL store of its own, with a generic channel whose bot owns
// conversations.
type sendWorld struct {
	t     *testing.T
	app   *App
	store *postgres.Store
	clock *testClock
	logs  *syncBuffer // what the store logs: the transactions it ran again
	ch    domain.Channel
	bot   domain.Principal
}

func newSendWorld(t *testing.T) *sendWorld {
	t.Helper()
	st, err := postgres.Open(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &sendWorld{t: t, store: st, clock: &testClock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, logs: &syncBuffer{}}
	st.Logger = slog.New(slog.NewTextHandler(w.logs, nil))
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
	holding, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- w.store.Write(ctx, func(tx store.Tx) error {
			if _, err := tx.GetConversation(ctx, conv.ID); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	// The bound only ends a claim that waits; one that does not returns at once.
	claimCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	jobs, err := w.app.ClaimSends(claimCtx, 10)
	cancel()
	close(release)
	if err := <-held; err != nil {
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
