package serve_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// BenchmarkHandoffToOffer measures, at a steady handoff rate, the time from a bot's Handoff call
// to the offer arriving on the offered agent's event stream, next to the Handoff call's own
// latency in the same run: p50 and p99 of each, in milliseconds. Four agents of the channel's
// queue hold a stream each.
//
//	go test ./server/serve -run '^$' -bench HandoffToOffer -benchtime 400x
func BenchmarkHandoffToOffer(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkHandoffToOffer(b, start(b)) })
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(b.Context(), pgtest.URL(b), postgres.WithKeys(pgtest.Keys))
		if err != nil {
			b.Fatal(err)
		}
		benchmarkHandoffToOffer(b, startOn(b, st, &clock{now: time.Now()}))
	})
}

// handoffRate is the steady rate handoffs are made at.
const handoffRate = 100 // per second

func benchmarkHandoffToOffer(b *testing.B, h *harness) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := h.world(0)
	var mu sync.Mutex
	arrived := map[string]time.Time{} // handover id → when its offer reached a stream
	all := make(chan struct{})
	var allOnce sync.Once
	for i := range 4 {
		ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
			DisplayName: fmt.Sprint("agent ", i), QueueIds: []string{domain.DefaultQueueID}, Capacity: 1000,
		}))(b).GetAgent()
		api := h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
		need(api.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(b)
		stream, err := api.Events.Subscribe(ctx, &batonv1.SubscribeRequest{Filter: &batonv1.EventFilter{Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_HANDOVER_OFFERED}}})
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			defer stream.Close()
			for stream.Receive() {
				now := time.Now()
				mu.Lock()
				for _, e := range stream.Msg().GetEvents() {
					id := e.GetEvent().GetHandover().GetId()
					if _, seen := arrived[id]; !seen && e.GetEvent().GetAgentId() == ag.GetId() {
						arrived[id] = now
					}
				}
				if len(arrived) >= b.N {
					allOnce.Do(func() { close(all) })
				}
				mu.Unlock()
			}
		}()
	}
	convs := make([]string, b.N)
	for i := range convs {
		convs[i] = h.ingest(w.channel.GetId(), fmt.Sprint("c", i), fmt.Sprint("m", i), "a human, please").GetConversation().GetId()
	}

	type call struct {
		id         string
		start, end time.Time
	}
	calls := make([]call, b.N)
	tick := time.NewTicker(time.Second / handoffRate)
	defer tick.Stop()
	var wg sync.WaitGroup
	b.ResetTimer()
	for i, conv := range convs {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			res, err := w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv, Reason: "asked for a human"})
			if err != nil {
				b.Error(err)
				return
			}
			calls[i] = call{id: res.GetHandover().GetId(), start: start, end: time.Now()}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		b.Fatalf("%d of %d offers arrived", len(arrived), b.N)
	}
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	rpc := make([]time.Duration, 0, b.N)
	offer := make([]time.Duration, 0, b.N)
	for _, c := range calls {
		rpc = append(rpc, c.end.Sub(c.start))
		offer = append(offer, arrived[c.id].Sub(c.start))
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(rpc, 50)), "handoff-p50-ms")
	b.ReportMetric(ms(percentile(rpc, 99)), "handoff-p99-ms")
	b.ReportMetric(ms(percentile(offer, 50)), "offer-p50-ms")
	b.ReportMetric(ms(percentile(offer, 99)), "offer-p99-ms")
}

// percentile returns the p-th percentile of ds (which it sorts).
func percentile(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)]
}
