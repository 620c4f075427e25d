package metrics_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/metrics"
	"github.com/batonhq/baton/server/store"
)

// TestCommittedEvents checks what the events of committed transactions count: messages in and
// out by channel kind and status (notes not at all), each handoff once by its outcome, ended
// handovers by state, and time to accept.
func TestCommittedEvents(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	lookups := 0
	m, err := metrics.New(metrics.Config{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		ChannelKind: func(_ context.Context, id string) (domain.ChannelKind, error) {
			lookups++
			return domain.ChannelTelegram, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	msg := func(typ domain.EventType, dir domain.Direction, status domain.DeliveryStatus) domain.Event {
		return domain.Event{Type: typ, Message: &domain.Message{ChannelID: "ch-1", Direction: dir, Status: status}}
	}
	ho := func(typ domain.EventType, id string, state domain.HandoverState, mod func(*domain.Handover)) domain.Event {
		h := domain.Handover{ID: id, State: state, CreateTime: t0}
		if mod != nil {
			mod(&h)
		}
		return domain.Event{Type: typ, Handover: &h}
	}
	failed := func(h *domain.Handover) { h.FailureReason = domain.NoAgentOnline }
	m.Committed(ctx, []domain.Event{msg(domain.EventMessageReceived, domain.Inbound, domain.DeliveryPending)})
	m.Committed(ctx, []domain.Event{
		ho(domain.EventHandoverRequested, "h-1", domain.HandoverRequested, nil),
		ho(domain.EventHandoverOffered, "h-1", domain.HandoverOffered, nil),
	})
	m.Committed(ctx, []domain.Event{
		ho(domain.EventHandoverRequested, "h-2", domain.HandoverRequested, failed),
		ho(domain.EventHandoverFailed, "h-2", domain.HandoverFailed, failed),
	})
	m.Committed(ctx, []domain.Event{ho(domain.EventHandoverAccepted, "h-1", domain.HandoverAccepted, func(h *domain.Handover) {
		h.AcceptTime = t0.Add(42 * time.Second)
	})})
	m.Committed(ctx, []domain.Event{
		msg(domain.EventMessageSent, domain.Outbound, domain.DeliveryPending),
		msg(domain.EventMessageStatusChanged, domain.Outbound, domain.DeliverySent),
		msg(domain.EventNoteCreated, domain.Internal, ""),
	})
	m.Committed(ctx, []domain.Event{ho(domain.EventHandoverReleased, "h-1", domain.HandoverReleased, nil)})

	got := collect(t, reader)
	want := map[string]int64{
		"baton.messages{channel.kind=telegram,direction=inbound,status=received}": 1,
		"baton.messages{channel.kind=telegram,direction=outbound,status=pending}": 1,
		"baton.messages{channel.kind=telegram,direction=outbound,status=sent}":    1,
		"baton.handoffs{outcome=offered}":                                         1,
		"baton.handoffs{failure.reason=no_agent_online,outcome=failed}":           1,
		"baton.handovers.ended{state=failed}":                                     1,
		"baton.handovers.ended{state=released}":                                   1,
	}
	for k, v := range want {
		if got.sums[k] != v {
			t.Errorf("%s = %d, want %d", k, got.sums[k], v)
		}
	}
	for k := range got.sums {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %d", k, got.sums[k])
		}
	}
	if got.acceptCount != 1 || got.acceptSum != 42 {
		t.Errorf("time to accept: %d recorded, sum %vs; want 1 of 42s", got.acceptCount, got.acceptSum)
	}
	if lookups != 1 {
		t.Errorf("channel kind read %d times, want once", lookups)
	}
}

// TestGaugesCached checks gauges read the store at most once per GaugeTTL.
func TestGaugesCached(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	reads := 0
	_, err := metrics.New(metrics.Config{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Gauges: func(context.Context) (store.Gauges, error) {
			reads++
			return store.Gauges{Queues: []store.QueueGauge{{QueueID: "q", Waiting: reads}}}, nil
		},
		GaugeTTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := collect(t, reader).gauges["baton.queue.waiting{queue=q}"]; got != 1 {
			t.Fatalf("waiting = %d, want the first read's 1", got)
		}
	}
	if reads != 1 {
		t.Fatalf("%d reads, want 1", reads)
	}
}

type collected struct {
	sums, gauges map[string]int64
	acceptCount  uint64
	acceptSum    float64
}

func collect(t *testing.T, r *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	c := collected{sums: map[string]int64{}, gauges: map[string]int64{}}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					c.sums[series(m.Name, p.Attributes)] += p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					c.gauges[series(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				if m.Name == "baton.handover.time_to_accept" {
					for _, p := range d.DataPoints {
						c.acceptCount += p.Count
						c.acceptSum += p.Sum
					}
				}
			}
		}
	}
	return c
}

func series(name string, attrs attribute.Set) string {
	s := name + "{"
	for i, kv := range attrs.ToSlice() {
		if i > 0 {
			s += ","
		}
		s += string(kv.Key) + "=" + kv.Value.Emit()
	}
	return s + "}"
}
