// Package metrics holds Baton's own instruments, named under "baton.": counters and histograms
// recorded from the events each transaction commits and from webhook attempts, and gauges read
// from the store (cached, so a scrape costs at most one cheap read per GaugeTTL).
// docs/observability.md lists them with their units and attributes.
package metrics

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// DefaultGaugeTTL is how long gauges read from the store are reused.
const DefaultGaugeTTL = 5 * time.Second

// Config says where the instruments report and where the gauges read.
type Config struct {
	MeterProvider metric.MeterProvider
	// ChannelKind finds a channel's kind, for the messages' attributes. A kind never changes,
	// so each is looked up once.
	ChannelKind func(ctx context.Context, channelID string) (domain.ChannelKind, error)
	// Gauges reads the store's gauges, at most once per GaugeTTL (at every collection when
	// GaugeTTL is zero).
	Gauges   func(ctx context.Context) (store.Gauges, error)
	GaugeTTL time.Duration
	// Pools reads the database connection pools' figures; none when nil.
	Pools func() []store.PoolStats
	// Streams counts the event streams open on this server; none when nil.
	Streams func() int
	// Now is the clock the oldest waits are measured with.
	Now func() time.Time
}

// Metrics records Baton's instruments.
type Metrics struct {
	cfg          Config
	messages     metric.Int64Counter
	handoffs     metric.Int64Counter
	ended        metric.Int64Counter
	timeToAccept metric.Float64Histogram
	attempts     metric.Float64Histogram
	kinds        sync.Map // channel id → domain.ChannelKind

	mu       sync.Mutex
	gauges   store.Gauges
	readTime time.Time
}

// New creates the instruments and registers the gauges' callback.
func New(cfg Config) (*Metrics, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	meter := cfg.MeterProvider.Meter("github.com/batonhq/baton/server/metrics")
	m := &Metrics{cfg: cfg}
	var err error
	counter := func(name, unit, desc string) metric.Int64Counter {
		var c metric.Int64Counter
		if err == nil {
			c, err = meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return c
	}
	histogram := func(name, desc string, bounds ...float64) metric.Float64Histogram {
		var h metric.Float64Histogram
		if err == nil {
			h, err = meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(bounds...))
		}
		return h
	}
	m.messages = counter("baton.messages", "{message}", "Messages in (received) and out (each delivery status an outbound message reaches), by direction, channel kind and status.")
	m.handoffs = counter("baton.handoffs", "{handoff}", "Handoffs requested, by outcome: the handover's state right after the request (requested, offered, accepted, failed), with the failure reason.")
	m.ended = counter("baton.handovers.ended", "{handover}", "Handovers that left the live states, by final state (released, failed, expired, canceled, declined).")
	m.timeToAccept = histogram("baton.handover.time_to_accept", "Time from a handoff to an agent's accept.",
		1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
	m.attempts = histogram("baton.webhook.attempt.duration", "Duration of one webhook delivery attempt, by result (success, failure).",
		0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
	if err != nil {
		return nil, err
	}
	return m, m.observe(meter)
}

// Committed records what the events of one committed transaction say.
func (m *Metrics) Committed(ctx context.Context, events []domain.Event) {
	last := map[string]domain.Handover{} // each handover's last snapshot in the transaction
	requested := map[string]bool{}
	for _, e := range events {
		switch {
		case e.Message != nil && (e.Type == domain.EventMessageReceived || e.Type == domain.EventMessageSent || e.Type == domain.EventMessageStatusChanged):
			m.message(ctx, *e.Message)
		case e.Handover != nil:
			last[e.Handover.ID] = *e.Handover
			if e.Type == domain.EventHandoverRequested {
				requested[e.Handover.ID] = true
			}
			if e.Type == domain.EventHandoverAccepted {
				m.timeToAccept.Record(ctx, e.Handover.TimeToAccept().Seconds())
			}
		}
	}
	for id, h := range last {
		if requested[id] {
			kv := []attribute.KeyValue{attribute.String("outcome", string(h.State))}
			if h.FailureReason != "" {
				kv = append(kv, attribute.String("failure.reason", string(h.FailureReason)))
			}
			m.handoffs.Add(ctx, 1, metric.WithAttributes(kv...))
		}
		if !h.State.Live() {
			m.ended.Add(ctx, 1, metric.WithAttributes(attribute.String("state", string(h.State))))
		}
	}
}

func (m *Metrics) message(ctx context.Context, msg domain.Message) {
	if msg.Direction != domain.Inbound && msg.Direction != domain.Outbound {
		return // a note stays inside Baton
	}
	status := string(msg.Status)
	if msg.Direction == domain.Inbound {
		status = "received"
	}
	m.messages.Add(ctx, 1, metric.WithAttributes(
		attribute.String("direction", string(msg.Direction)),
		attribute.String("channel.kind", string(m.kind(ctx, msg.ChannelID))),
		attribute.String("status", status)))
}

// kind is the kind of channel id, "" when it cannot be read.
func (m *Metrics) kind(ctx context.Context, id string) domain.ChannelKind {
	if k, ok := m.kinds.Load(id); ok {
		return k.(domain.ChannelKind)
	}
	if m.cfg.ChannelKind == nil {
		return ""
	}
	k, err := m.cfg.ChannelKind(ctx, id)
	if err != nil {
		return ""
	}
	m.kinds.Store(id, k)
	return k
}

// WebhookAttempt records one webhook delivery attempt.
func (m *Metrics) WebhookAttempt(ctx context.Context, r domain.AttemptResult) {
	result := "success"
	if !r.OK() {
		result = "failure"
	}
	m.attempts.Record(ctx, r.Latency.Seconds(), metric.WithAttributes(attribute.String("result", result)))
}

// observe registers the gauges, read in one callback.
func (m *Metrics) observe(meter metric.Meter) error {
	var err error
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		var g metric.Int64ObservableGauge
		if err == nil {
			g, err = meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
		return g
	}
	waiting := gauge("baton.queue.waiting", "{conversation}", "Conversations waiting for an agent, by queue.")
	var oldest metric.Float64ObservableGauge
	if err == nil {
		oldest, err = meter.Float64ObservableGauge("baton.queue.oldest_wait", metric.WithUnit("s"),
			metric.WithDescription("How long the longest-waiting conversation of each queue has waited."))
	}
	agents := gauge("baton.agents", "{agent}", "Agents by presence.")
	capacity := gauge("baton.agents.capacity", "{conversation}", "Conversations the online agents can take at once.")
	engaged := gauge("baton.agents.engaged", "{conversation}", "Conversations agents are answering (accepted handovers): their load.")
	deliveries := gauge("baton.webhook.deliveries", "{delivery}", "Webhook deliveries by state; state=dead counts the dead letters.")
	outbox := gauge("baton.outbox.backlog", "{message}", "Outbound messages waiting to be sent through their channel.")
	var outboxAge metric.Float64ObservableGauge
	if err == nil {
		outboxAge, err = meter.Float64ObservableGauge("baton.outbox.oldest_wait", metric.WithUnit("s"),
			metric.WithDescription("How long the oldest outbound message waiting to be sent has waited."))
	}
	streams := gauge("baton.streams.open", "{stream}", "Event streams open on this server (bots, consoles, web chats, internal systems).")
	poolConns := gauge("baton.db.pool.connections", "{connection}", "Database connections by pool and state (in_use, idle).")
	poolMax := gauge("baton.db.pool.max_connections", "{connection}", "The most connections each pool opens.")
	var poolWaits metric.Int64ObservableCounter
	var poolWaitTime metric.Float64ObservableCounter
	if err == nil {
		poolWaits, err = meter.Int64ObservableCounter("baton.db.pool.waits", metric.WithUnit("{wait}"),
			metric.WithDescription("Times a transaction waited for a free connection, by pool."))
	}
	if err == nil {
		poolWaitTime, err = meter.Float64ObservableCounter("baton.db.pool.wait_time", metric.WithUnit("s"),
			metric.WithDescription("Time spent waiting for a free connection, by pool."))
	}
	if err != nil {
		return err
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if m.cfg.Streams != nil {
			o.ObserveInt64(streams, int64(m.cfg.Streams()))
		}
		if m.cfg.Pools != nil {
			for _, p := range m.cfg.Pools() {
				pool := attribute.String("pool", p.Pool)
				o.ObserveInt64(poolConns, int64(p.InUse), metric.WithAttributes(pool, attribute.String("state", "in_use")))
				o.ObserveInt64(poolConns, int64(p.Idle), metric.WithAttributes(pool, attribute.String("state", "idle")))
				o.ObserveInt64(poolMax, int64(p.Max), metric.WithAttributes(pool))
				o.ObserveInt64(poolWaits, p.Waits, metric.WithAttributes(pool))
				o.ObserveFloat64(poolWaitTime, p.WaitTime.Seconds(), metric.WithAttributes(pool))
			}
		}
		g, ok := m.readGauges(ctx)
		if !ok {
			return nil // the store did not answer: no figures rather than wrong ones
		}
		now := m.cfg.Now()
		for _, q := range g.Queues {
			queue := metric.WithAttributes(attribute.String("queue", q.QueueID))
			o.ObserveInt64(waiting, int64(q.Waiting), queue)
			o.ObserveFloat64(oldest, since(now, q.Oldest), queue)
		}
		for _, p := range []domain.Presence{domain.PresenceOnline, domain.PresenceAway, domain.PresenceOffline} {
			o.ObserveInt64(agents, int64(g.Agents[p]), metric.WithAttributes(attribute.String("presence", string(p))))
		}
		o.ObserveInt64(capacity, int64(g.OnlineCapacity))
		o.ObserveInt64(engaged, int64(g.Engaged))
		for _, s := range []domain.DeliveryState{domain.DeliveryStatePending, domain.DeliveryStateDelivered, domain.DeliveryStateDead} {
			o.ObserveInt64(deliveries, int64(g.Deliveries[s]), metric.WithAttributes(attribute.String("state", string(s))))
		}
		o.ObserveInt64(outbox, int64(g.Outbox))
		o.ObserveFloat64(outboxAge, since(now, g.OutboxOldest))
		return nil
	}, waiting, oldest, agents, capacity, engaged, deliveries, outbox, outboxAge, streams, poolConns, poolMax, poolWaits, poolWaitTime)
	return err
}

// readGauges returns the store's gauges, read again once GaugeTTL has passed.
func (m *Metrics) readGauges(ctx context.Context) (store.Gauges, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.Gauges == nil {
		return store.Gauges{}, false
	}
	if !m.readTime.IsZero() && time.Since(m.readTime) < m.cfg.GaugeTTL {
		return m.gauges, true
	}
	g, err := m.cfg.Gauges(ctx)
	if err != nil {
		return store.Gauges{}, false
	}
	m.gauges, m.readTime = g, time.Now()
	return g, true
}

// since is how many seconds have passed from t to now; 0 when t is zero (nothing waits).
func since(now, t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return now.Sub(t).Seconds()
}
