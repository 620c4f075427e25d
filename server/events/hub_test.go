package events_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/events"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
	"github.com/batonhq/baton/server/store/sqlite"
)

// A server is a hub over a store, and how its writers wake it: SQLite's writers kick it after
// commit; on PostgreSQL every replica hears every commit through LISTEN, its own included.
type server struct {
	store store.Store
	hub   *events.Hub
	kick  func() // what a writer calls after its commit
}

// options configure the servers of a test.
type options struct {
	replicas int // PostgreSQL servers on one database (SQLite has one)
	sends    int // the hubs' send slots
	buffer   int // the hubs' per-stream buffers
	// wrap, when set, wraps each server's store (the hub and the streams use the wrapper).
	wrap func(store.Store) store.Store
	// onEvents, when set, is each hub's OnEvents.
	onEvents func()
	// gather, when set, is the hubs' Gather, and gatherTimer the timer they wait on for it.
	gather      time.Duration
	gatherTimer func(time.Duration) <-chan time.Time
}

// servers starts servers sharing one database: SQLite has one (a file has one writer process);
// PostgreSQL ones each have their own pool, hub and listener.
func servers(t *testing.T, backend string, o options) []*server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var opened []store.Store
	switch backend {
	case "sqlite":
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"))
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, st)
	case "postgres":
		url := pgtest.URL(t)
		for range max(o.replicas, 1) {
			st, err := postgres.Open(ctx, url, postgres.WithKeys(pgtest.Keys))
			if err != nil {
				t.Fatal(err)
			}
			opened = append(opened, st)
		}
	}
	var out []*server
	for _, st := range opened {
		t.Cleanup(func() { st.Close() })
		s := &server{store: st, kick: func() {}}
		if o.wrap != nil {
			s.store = o.wrap(st)
		}
		s.hub = events.NewHub(s.store, o.sends)
		s.hub.Interval = time.Hour // nothing arrives by polling: only wake-ups count
		s.hub.Buffer = cmp.Or(o.buffer, events.DefaultBuffer)
		s.hub.OnEvents = o.onEvents
		s.hub.Gather = cmp.Or(o.gather, events.DefaultGather)
		if o.gatherTimer != nil {
			s.hub.SetGatherTimer(o.gatherTimer)
		}
		wg.Go(func() { s.hub.Run(ctx) })
		if l, ok := st.(*postgres.Store); ok {
			wg.Go(func() { l.Listen(ctx, s.hub.Kick) })
		} else {
			s.kick = s.hub.Kick
		}
		out = append(out, s)
	}
	return out
}

var backends = []string{"sqlite", "postgres"}

// write commits n events in one transaction; conversation i%4 of each.
func (s *server) write(t *testing.T, n int, i int) {
	evs := make([]domain.Event, n)
	for j := range evs {
		typ := domain.EventMessageReceived
		if (i+j)%3 == 0 {
			typ = domain.EventMessageSent
		}
		evs[j] = domain.Event{Type: typ, Time: time.Now(), ConversationID: fmt.Sprintf("conv-%d", (i+j)%4), ChannelID: "ch"}
	}
	err := s.store.Write(context.Background(), func(tx store.Tx) error {
		_, err := tx.AppendEvents(context.Background(), evs)
		return err
	})
	if err != nil {
		t.Error(err)
		return
	}
	s.kick()
}

// collector is a stream's client: it records every event sent, from the store or the live feed.
type collector struct {
	mu       sync.Mutex
	got      []uint64
	sent     [][]uint64 // the sequences of each call of send
	catchUps atomic.Int64
	sends    atomic.Int64  // calls of Send (live writes)
	arrived  chan struct{} // a token per send
	// When block is set, the first live send of events after blockAfter waits for it to close;
	// blocked closes when it starts waiting.
	block      chan struct{}
	blockAfter uint64
	blocked    chan struct{}
}

func newCollector() *collector {
	return &collector{arrived: make(chan struct{}, 1<<16), blocked: make(chan struct{})}
}

func (c *collector) send(items []*events.Item) error {
	c.mu.Lock()
	var batch []uint64
	for _, it := range items {
		batch = append(batch, it.Sequence)
	}
	c.got = append(c.got, batch...)
	c.sent = append(c.sent, batch)
	c.mu.Unlock()
	c.arrived <- struct{}{}
	return nil
}

func (c *collector) batches() [][]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

func (c *collector) sequences() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// follow runs a stream of f's events after after on s until ctx ends.
func (c *collector) follow(ctx context.Context, s *server, after uint64, f store.EventFilter) error {
	catchUp := events.FromStore(s.store, f, nil, c.send)
	return s.hub.Follow(ctx, events.Stream{
		After: after,
		CatchUp: func(ctx context.Context, after uint64) (uint64, bool, error) {
			c.catchUps.Add(1)
			return catchUp(ctx, after)
		},
		Selects: f.Selects,
		Send: func(items []*events.Item) error {
			c.sends.Add(1)
			if c.block != nil && items[len(items)-1].Sequence > c.blockAfter && !isClosed(c.blocked) {
				close(c.blocked)
				select {
				case <-c.block:
				case <-ctx.Done():
				}
			}
			return c.send(items)
		},
	})
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// want is what a stream of f after after should have got: every such event in the store.
func want(t *testing.T, st store.Store, after uint64, f store.EventFilter) []uint64 {
	t.Helper()
	var out []uint64
	err := st.Read(context.Background(), func(tx store.Tx) error {
		for {
			list, err := tx.ListEvents(context.Background(), after, f, 1000)
			if err != nil || len(list) == 0 {
				return err
			}
			for _, e := range list {
				out = append(out, e.Sequence)
			}
			after = list[len(list)-1].Sequence
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// await waits until c got n events, failing after a generous bound (a guard against hanging,
// not a synchronisation).
func (c *collector) await(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for len(c.sequences()) < n {
		select {
		case <-c.arrived:
		case <-timeout:
			t.Fatalf("got %d of %d events", len(c.sequences()), n)
		}
	}
}

// awaitLive waits until n streams are on s's live feed. Nothing signals a stream joining: it
// polls, failing after a generous bound.
func awaitLive(t *testing.T, s *server, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); s.hub.Live() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d streams joined the live feed", s.hub.Live(), n)
		}
		runtime.Gosched()
	}
}

func head(t *testing.T, st store.Store) uint64 {
	t.Helper()
	var seq uint64
	err := st.Read(context.Background(), func(tx store.Tx) error {
		var err error
		seq, err = tx.LastSequence(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

var filters = []store.EventFilter{
	{},
	{ConversationID: "conv-1"},
	{Types: []domain.EventType{domain.EventMessageSent}},
	{ConversationID: "conv-2", Types: []domain.EventType{domain.EventMessageReceived}},
	{ConversationID: "nobody"},
}

// TestFollowWhileWriting has writers commit on every server while streams open, on every server,
// from cursors anywhere in the log, and while each stream is cut off midway and resumed from the
// last event it got (on another server when there are several). Buffers are small, so that live
// streams also fall behind and catch up. Every stream gets every event its filter selects after
// its cursor, once, in order.
func TestFollowWhileWriting(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			srvs := servers(t, backend, options{replicas: 2, buffer: 4})
			const writers, commits, streams = 4, 40, 24
			var wg sync.WaitGroup
			for w := range writers {
				s := srvs[w%len(srvs)]
				wg.Go(func() {
					for i := range commits {
						s.write(t, 1+i%3, w*commits+i)
					}
				})
			}
			type result struct {
				after  uint64
				filter store.EventFilter
				first  *collector // cut off midway
				second *collector // resumed from the first's last event
			}
			results := make([]*result, streams)
			var streamsWG sync.WaitGroup
			for i := range streams {
				s, other := srvs[i%len(srvs)], srvs[(i+1)%len(srvs)]
				r := &result{filter: filters[i%len(filters)], first: newCollector(), second: newCollector()}
				r.after = uint64(rand.IntN(int(head(t, s.store)) + 1))
				results[i] = r
				streamsWG.Go(func() {
					ctx, cutOff := context.WithCancel(context.Background())
					done := make(chan error, 1)
					go func() { done <- r.first.follow(ctx, s, r.after, r.filter) }()
					// Cut it off after a few sends: mid catch-up or mid live feed.
					for range 1 + i%3 {
						select {
						case <-r.first.arrived:
						case <-time.After(500 * time.Millisecond): // it may select nothing more
						}
					}
					cutOff()
					if err := <-done; err != nil {
						t.Error(err)
					}
					resume := r.after
					if got := r.first.sequences(); len(got) > 0 {
						resume = got[len(got)-1]
					}
					ctx, stop := context.WithCancel(context.Background())
					t.Cleanup(stop)
					go r.second.follow(ctx, other, resume, r.filter)
				})
			}
			wg.Wait()
			streamsWG.Wait()
			fellBehind := 0
			for i, r := range results {
				all := want(t, srvs[0].store, r.after, r.filter)
				first := r.first.sequences()
				r.second.await(t, len(all)-len(first))
				got := append(first, r.second.sequences()...)
				if !slices.Equal(got, all) {
					t.Fatalf("stream %d (after %d, %+v) got %v\nwant %v", i, r.after, r.filter, got, all)
				}
				if r.second.catchUps.Load() > 1 {
					fellBehind++
				}
			}
			t.Logf("%d of %d resumed streams fell behind and caught up again", fellBehind, streams)
		})
	}
}

// TestStalledStreamHoldsNothingUp has a stream's client stop reading (its send blocks) while a
// writer commits event after event: the writer and another stream go on as if it were not there,
// even with one send allowed at a time. The stalled stream falls behind, and once it reads again
// it gets every event, once, in order, through the store.
func TestStalledStreamHoldsNothingUp(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			// One send at a time: the stalled send must give its place back.
			s := servers(t, backend, options{sends: 1, buffer: 4})[0]
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			after := head(t, s.store)
			stalled, other := newCollector(), newCollector()
			// Once a stream has the first event, it reads the store only if it falls behind.
			stalled.block, stalled.blockAfter = make(chan struct{}), after+1
			wg.Go(func() { stalled.follow(ctx, s, after, store.EventFilter{}) })
			wg.Go(func() { other.follow(ctx, s, after, store.EventFilter{}) })
			// Both on the live feed first: a stream still catching up would read the writes
			// below from the store, past its blocking send.
			awaitLive(t, s, 2)
			s.write(t, 1, 0)
			stalled.await(t, 1)
			other.await(t, 1)
			readsBefore := stalled.catchUps.Load()
			const n = 60
			for i := 1; i < n; i++ {
				s.write(t, 1, i) // the first is the stalled stream's next: its send blocks
			}
			other.await(t, n)
			if got := len(stalled.sequences()); got != 1 {
				t.Fatalf("the stalled stream sent %d events", got)
			}
			close(stalled.block)
			stalled.await(t, n)
			all := want(t, s.store, after, store.EventFilter{})
			for name, c := range map[string]*collector{"stalled": stalled, "other": other} {
				if got := c.sequences(); !slices.Equal(got, all) {
					t.Errorf("%s stream got %v, want %v", name, got, all)
				}
			}
			if stalled.catchUps.Load() == readsBefore {
				t.Errorf("the stalled stream never read the store once live, want it to have fallen behind and caught up")
			}

		})
	}
}

// TestLiveEventsAreNotReadPerStream: once streams are live, the events reach them all from one
// read per batch, whatever their number: a store that counts reads sees no more reads with a
// hundred streams than with one.
func TestLiveEventsAreNotReadPerStream(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			var counting *countingStore
			s := servers(t, backend, options{wrap: func(st store.Store) store.Store {
				counting = &countingStore{Store: st}
				return counting
			}})[0]
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			after := head(t, s.store)
			var cs []*collector
			for range 100 {
				c := newCollector()
				cs = append(cs, c)
				wg.Go(func() { c.follow(ctx, s, after, store.EventFilter{}) })
			}
			// Once a stream has the first event, it has read the store for the last time: it
			// got the event live, or from its catch-up and then joined the live feed.
			s.write(t, 1, 0)
			for _, c := range cs {
				c.await(t, 1)
			}
			before := counting.reads.Load()
			const n = 20
			for i := range n {
				s.write(t, 1, i)
			}
			for _, c := range cs {
				c.await(t, n+1)
			}
			if reads := counting.reads.Load() - before; reads > n+1 {
				t.Fatalf("%d reads for %d commits to 100 live streams, want at most one per commit", reads, n)
			}
		})
	}
}

// TestStreamsFromNowReadNothing: streams that start at the hub's head, as a subscription "from
// now" does, join the live feed without reading the store, and get every event after it.
func TestStreamsFromNowReadNothing(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			s := servers(t, backend, options{})[0]
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			// Once a stream got an event live, the hub has started and dispatched up to it.
			first, start := newCollector(), head(t, s.store)
			wg.Go(func() { first.follow(ctx, s, start, store.EventFilter{}) })
			for i := 0; first.sends.Load() == 0; i++ {
				s.write(t, 1, i)
				first.await(t, i+1)
			}
			from, err := s.hub.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var cs []*collector
			for range 50 {
				c := newCollector()
				cs = append(cs, c)
				wg.Go(func() { c.follow(ctx, s, from, store.EventFilter{}) })
			}
			// A write before all 51 are on the feed would move the hub's head past a stream
			// still to join.
			awaitLive(t, s, len(cs)+1)
			const n = 5
			for i := range n {
				s.write(t, 1, i)
			}
			all := want(t, s.store, from, store.EventFilter{})
			for i, c := range cs {
				c.await(t, n)
				if got := c.sequences(); !slices.Equal(got, all) {
					t.Fatalf("stream %d got %v, want %v", i, got, all)
				}
				if reads := c.catchUps.Load(); reads != 0 {
					t.Fatalf("stream %d read the store %d times, want none", i, reads)
				}
			}
		})
	}
}

// TestIdleHubReadsNothing: with no stream following, a commit costs the hub no read of the
// store, though it still passes the wake-up on (OnEvents: webhook deliveries may be due); a
// stream that follows afterwards, from before those commits, gets every event, once, in order,
// and the events committed after it follows as well.
func TestIdleHubReadsNothing(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			var counting *countingStore
			kicks := make(chan struct{}, 1024)
			s := servers(t, backend, options{
				wrap: func(st store.Store) store.Store {
					counting = &countingStore{Store: st}
					return counting
				},
				onEvents: func() { kicks <- struct{}{} },
			})[0]
			after := head(t, s.store)
			// A wake-up may be lost while PostgreSQL's listener connects: write until one
			// arrives (bounded), then count.
			written := 0
			for kicked := false; !kicked; written++ {
				if written == 20 {
					t.Fatalf("%d commits: the hub passed no wake-up on", written)
				}
				s.write(t, 1, written)
				select {
				case <-kicks:
					kicked = true
				case <-time.After(time.Second):
				}
			}
			before := counting.reads.Load()
			const n = 10
			for i := range n {
				s.write(t, 1, written+i)
				select {
				case <-kicks:
				case <-time.After(20 * time.Second):
					t.Fatalf("commit %d: the hub passed no wake-up on", i)
				}
			}
			written += n
			if reads := counting.reads.Load() - before; reads != 0 {
				t.Fatalf("the hub read the store %d times for %d commits with no stream following, want none", reads, n)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			c := newCollector()
			wg.Go(func() { c.follow(ctx, s, after, store.EventFilter{}) })
			c.await(t, written)
			for i := range n {
				s.write(t, 1, written+i)
			}
			c.await(t, written+n)
			if got, all := c.sequences(), want(t, s.store, after, store.EventFilter{}); !slices.Equal(got, all) {
				t.Fatalf("got %v, want %v", got, all)
			}
		})
	}
}

type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) Read(ctx context.Context, fn func(store.Tx) error) error {
	c.reads.Add(1)
	return c.Store.Read(ctx, fn)
}

// TestCommitsCloseTogetherShareAWrite: commits that come within the hub's Gather of its last
// read are read together, and go to a stream in one write.
func TestCommitsCloseTogetherShareAWrite(t *testing.T) {
	gathering, release := make(chan time.Duration, 1), make(chan time.Time)
	s := servers(t, "sqlite", options{gather: time.Hour, gatherTimer: func(d time.Duration) <-chan time.Time {
		gathering <- d
		return release
	}})[0]
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	c := newCollector()
	after := head(t, s.store)
	wg.Go(func() { c.follow(ctx, s, after, store.EventFilter{}) })
	awaitLive(t, s, 1)
	// A first commit wakes the hub, which then waits out the gathering (or, if its first read
	// was still running, read that commit already and waits after the kick).
	s.write(t, 1, 0)
	select {
	case d := <-gathering:
		// One stream: the hub waits its share of Gather, not all of it.
		if most := time.Hour / events.GatherStreams; d <= 0 || d > most {
			t.Errorf("the hub gathered %v for one stream, want up to %v", d, most)
		}
	case <-time.After(20 * time.Second): // a guard against hanging, not a synchronisation
		t.Fatal("the hub read again without gathering")
	}
	const n = 5
	for i := 1; i <= n; i++ {
		s.write(t, 1, i)
	}
	release <- time.Now()
	c.await(t, n+1)
	var gathered []uint64
	for _, b := range c.batches() {
		if slices.Contains(b, after+2) {
			gathered = b
		}
	}
	for seq := after + 2; seq <= after+n+1; seq++ {
		if !slices.Contains(gathered, seq) {
			t.Fatalf("the commits made while the hub gathered went out as %v, want them in one write", c.batches())
		}
	}
}

// TestQueuedEventsShareOneWrite: events that wait for a stream while it is busy sending go out
// together, in one write.
func TestQueuedEventsShareOneWrite(t *testing.T) {
	s := servers(t, "sqlite", options{})[0]
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	after := head(t, s.store)
	busy, other := newCollector(), newCollector()
	busy.block, busy.blockAfter = make(chan struct{}), after+1
	wg.Go(func() { busy.follow(ctx, s, after, store.EventFilter{}) })
	wg.Go(func() { other.follow(ctx, s, after, store.EventFilter{}) })
	s.write(t, 1, 0)
	busy.await(t, 1)
	other.await(t, 1)
	sends := busy.sends.Load()
	const n = 10
	s.write(t, 1, 0)
	<-busy.blocked // the first is sent alone, and its send blocks: the rest wait
	for i := 1; i < n; i++ {
		s.write(t, 1, i)
	}
	other.await(t, n+1) // the hub has dispatched them all
	close(busy.block)
	busy.await(t, n+1)
	if got := busy.sends.Load() - sends; got != 2 {
		t.Fatalf("%d events went out in %d writes, want 2 (the one in flight, then the rest together)", n, got)
	}
}

func TestSignal(t *testing.T) {
	var none *events.Signal
	if none.C() != nil {
		t.Error("a nil Signal has a channel")
	}
	s := &events.Signal{}
	s.Fire() // nobody waits: nothing to wake, nothing kept
	c := s.C()
	select {
	case <-c:
		t.Fatal("woken before a Fire")
	default:
	}
	s.Fire()
	<-c // closed by the Fire
	select {
	case <-s.C():
		t.Fatal("the next channel is already closed")
	default:
	}
}
