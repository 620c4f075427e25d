package serve_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// An agent's capacity holds across replicas on PostgreSQL: more concurrent accepts of different
// conversations than the agent has seats, sent to two servers on one database, leave exactly
// capacity winners; the others are refused FAILED_PRECONDITION with a capacity violation.
func TestCapacityRaceAcrossReplicas(t *testing.T) {
	const capacity, conversations = 2, 8
	hs := replicas(t, 2)
	w := hs[0].world(0)
	ctx := context.Background()
	ag := need(hs[0].admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Ada", QueueIds: []string{domain.DefaultQueueID}, Capacity: capacity,
	}))(t).GetAgent()
	key := secret(t, hs[0], batonv1.Role_ROLE_AGENT, ag.GetId())
	need(hs[0].client(key).Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	var handovers []string
	for i := range conversations {
		conv := hs[0].ingest(w.channel.GetId(), fmt.Sprintf("c%d", i), fmt.Sprintf("m%d", i), "help").GetConversation()
		ho := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), QueueAnyway: true, Reason: "help"}))(t).GetHandover()
		handovers = append(handovers, ho.GetId())
	}

	start := make(chan struct{})
	errs := make([]error, conversations)
	var wg sync.WaitGroup
	for i, id := range handovers {
		api := hs[i%2].client(key)
		wg.Go(func() {
			<-start
			_, errs[i] = api.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: id})
		})
	}
	close(start)
	wg.Wait()

	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		if code(err) != connect.CodeFailedPrecondition || !capacityViolation(err) {
			t.Errorf("accept %d: %v, want FAILED_PRECONDITION with a capacity violation", i, err)
		}
	}
	if won != capacity {
		t.Fatalf("%d accepts won, want exactly the agent's capacity %d", won, capacity)
	}
}

// capacityViolation reports whether err carries a PreconditionFailure about capacity.
func capacityViolation(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if pf, ok := v.(*errdetails.PreconditionFailure); ok && err == nil {
			for _, violation := range pf.GetViolations() {
				if violation.GetSubject() == "capacity" {
					return true
				}
			}
		}
	}
	return false
}
