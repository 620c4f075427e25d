package app

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// An agent's capacity is a hard limit across replicas: more concurrent accepts of different
// conversations than the agent has seats, spread over two stores on one database, leave exactly
// capacity winners, and every other accept is refused as a failed precondition on capacity.
func TestCapacityHoldsAcrossReplicasOnPostgres(t *testing.T) {
	const capacity, conversations = 2, 8
	w := newSendWorld(t)
	ctx := t.Context()
	other, err := postgres.Open(ctx, pgtest.WithParam(t, w.url, "application_name", t.Name()+"-replica"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	replicas := []*App{w.app, New(Config{Store: other, Clock: w.clock})}

	ag, err := w.app.CreateAgent(ctx, chatAdmin, domain.Agent{DisplayName: "Ada", Capacity: capacity, QueueIDs: []string{domain.DefaultQueueID}}, "")
	if err != nil {
		t.Fatal(err)
	}
	agent := domain.Principal{Role: domain.PrincipalAgent, SubjectID: ag.ID, KeyID: "agent-key"}
	if _, err := w.app.SetPresence(ctx, agent, ag.ID, domain.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	var handovers []string
	for i := range conversations {
		conv, err := w.ingest(ctx, fmt.Sprintf("customer-%d", i), fmt.Sprintf("m-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		out, err := w.app.Handoff(ctx, w.bot, conv.ID, domain.HandoffRequest{Reason: "help", QueueAnyway: true})
		if err != nil {
			t.Fatal(err)
		}
		handovers = append(handovers, out.Handover.ID)
	}

	start := make(chan struct{})
	errs := make([]error, conversations)
	var wg sync.WaitGroup
	for i, id := range handovers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = replicas[i%2].Accept(ctx, agent, id)
		}()
	}
	close(start)
	wg.Wait()

	won := 0
	for i, err := range errs {
		var pre *domain.PreconditionError
		switch {
		case err == nil:
			won++
		case errors.As(err, &pre):
			if pre.Subject != "capacity" {
				t.Errorf("accept %d: refused on %q, want capacity: %v", i, pre.Subject, err)
			}
		default:
			t.Errorf("accept %d: %v, want a capacity refusal", i, err)
		}
	}
	if won != capacity {
		t.Fatalf("%d accepts won, want exactly the agent's capacity %d", won, capacity)
	}
	got, err := w.app.GetAgent(ctx, chatAdmin, ag.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active != capacity {
		t.Fatalf("agent holds %d conversations, want %d", got.Active, capacity)
	}
}
