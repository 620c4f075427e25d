// Package events fans the event log out to live streams. A Hub reads newly committed events
// once per batch, for the whole server, while any stream follows it, and dispatches them from
// memory to every stream whose Selects selects them; a stream reads the store itself only to
// catch up: when it opens, and after it fell behind the live feed.
package events

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Batch is the most events read, or sent to a stream, at once.
const Batch = 500

// DefaultPollInterval is how often the hub reads without being woken, in case a wake-up was
// lost (a database notification during a reconnect, a writer that died between commit and kick).
const DefaultPollInterval = time.Second

// DefaultGather is the most time the hub leaves between two reads of new events. Commits that
// come closer together share a read and a dispatch, so each stream wakes and writes once for all
// of them: with many streams, wake-ups and writes are what fan-out costs, and what writers
// compete with. The hub waits in proportion to the streams it feeds, the full time from
// gatherStreams on: a few agents' desks get each event at once, a thousand streams share writes.
const DefaultGather = 20 * time.Millisecond

// gatherStreams is how many streams make the hub wait all of Gather between reads.
const gatherStreams = 1000

// Defaults of the hub's bounds.
const (
	// DefaultBuffer is how many events a stream may have waiting before it falls behind.
	DefaultBuffer = 1024
	// recentSize is how many of the last events dispatched the hub keeps, so that a stream whose
	// catch-up read ends just before the live feed joins it from memory, not by reading again.
	recentSize = 1024
)

// Item is a committed event as the hub dispatches it: one value shared by every stream it goes to,
// which also carries the event's wire forms, each made once for all the streams that use it
// (Rendered).
type Item struct {
	domain.Event
	forms sync.Map // *Renderer → *form
}

// A Renderer makes one wire form of events (an event stream's, a web chat's): an item renders
// once per Renderer, so streams of different kinds sharing an item each get their own form.
type Renderer struct {
	render func(domain.Event) (any, error)
}

// NewRenderer returns a Renderer; render must not depend on the stream.
func NewRenderer(render func(domain.Event) (any, error)) *Renderer { return &Renderer{render: render} }

type form struct {
	once     sync.Once
	rendered any
	err      error
}

// Rendered returns r's form of it.Event, computed on the first call for r only.
func (it *Item) Rendered(r *Renderer) (any, error) {
	f, ok := it.forms.Load(r)
	if !ok {
		f, _ = it.forms.LoadOrStore(r, new(form))
	}
	fm := f.(*form)
	fm.once.Do(func() { fm.rendered, fm.err = r.render(it.Event) })
	return fm.rendered, fm.err
}

// Hub reads the events committed after the last it dispatched, whenever it is kicked (a commit
// here, or another replica's, heard through the database) and every Interval, and hands each
// to the streams that select it.
type Hub struct {
	store store.Store
	kick  chan struct{}
	sends *limiter
	// Interval is how often it reads without being kicked.
	Interval time.Duration
	// Gather is the most time between two reads (DefaultGather), waited in full from
	// gatherStreams streams on.
	Gather time.Duration
	// Buffer is how many events a stream may have waiting; a stream that would have more falls
	// behind: it sends what it has, then catches up from the store.
	Buffer int
	// OnEvents, when set, is called after new events were dispatched.
	OnEvents func()
	Logger   *slog.Logger

	open  atomic.Int64                         // streams following
	after func(time.Duration) <-chan time.Time // time.After; tests hold the gathering

	mu      sync.Mutex
	started bool
	head    uint64  // the last sequence dispatched
	recent  []*Item // the last events dispatched, in sequence order, up to head
	from    uint64  // recent holds every event after from
	streams []*follower
}

// NewHub returns a Hub over st; call Run to start it. At most sends streams send at once (half
// of GOMAXPROCS, at least one, when zero): waiting streams gather their events into fewer,
// larger writes, and writers keep the rest of the machine. (On 2 cores, one send at a time
// halved ingest's p99 with 1,000 streams open, at the same deliveries per second.)
func NewHub(st store.Store, sends int) *Hub {
	if sends <= 0 {
		sends = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &Hub{store: st, kick: make(chan struct{}, 1), sends: newLimiter(sends),
		Interval: DefaultPollInterval, Gather: DefaultGather, Buffer: DefaultBuffer, Logger: slog.Default(),
		after: time.After}
}

// Kick asks the hub to read new events; it never blocks, and kicks coalesce.
func (h *Hub) Kick() {
	select {
	case h.kick <- struct{}{}:
	default: // one is pending already
	}
}

// Run reads and dispatches on every kick and every Interval, no sooner than gather says after
// the last read, until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for kicked := false; ; {
		read := time.Now()
		if err := h.readNew(ctx, kicked); err != nil && ctx.Err() == nil {
			h.Logger.ErrorContext(ctx, "read new events", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
			kicked = true
		case <-t.C:
			kicked = false
		}
		if wait := h.gather() - time.Since(read); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-h.after(wait):
			}
		}
	}
}

// gather returns how long to leave between reads: Gather in proportion to the streams on the
// live feed, up to gatherStreams.
func (h *Hub) gather() time.Duration {
	h.mu.Lock()
	live := len(h.streams)
	h.mu.Unlock()
	return h.Gather * time.Duration(min(live, gatherStreams)) / gatherStreams
}

// readNew dispatches every event committed after head, a batch at a time. With no stream
// following, it reads nothing (idle).
func (h *Hub) readNew(ctx context.Context, kicked bool) error {
	if h.idle() {
		if kicked && h.OnEvents != nil {
			h.OnEvents() // a commit, here or on another replica: it may have brought deliveries
		}
		return nil
	}
	if !h.started {
		head, err := h.store.LastSequence(ctx)
		if err != nil {
			return err
		}
		h.start(head)
	}
	dispatched := false
	for {
		var batch []domain.Event
		err := h.store.Read(ctx, func(tx store.Tx) error {
			var err error
			batch, err = tx.ListEvents(ctx, h.head, store.EventFilter{}, Batch)
			return err
		})
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			h.dispatch(batch)
			dispatched = true
		}
		if len(batch) < Batch {
			break
		}
	}
	if dispatched && h.OnEvents != nil {
		h.OnEvents()
	}
	return nil
}

// idle reports whether no stream follows the hub, and if so stops the live feed: a commit then
// costs the server no read of its events (one per group of writes, on a busy server). The feed
// starts again, from the last event stored, at the first read after a stream follows; a stream
// that joined the feed before then from an earlier sequence catches up from the store (start).
func (h *Hub) idle() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open.Load() > 0 || len(h.streams) > 0 {
		return false
	}
	h.started, h.head, h.from, h.recent = false, 0, 0, nil
	return true
}

// start sets where the live feed begins. Streams that joined before it did, from an earlier
// sequence, missed what lies between: they catch up.
func (h *Hub) start(head uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started, h.head, h.from = true, head, head
	for i := 0; i < len(h.streams); {
		if f := h.streams[i]; f.after < head {
			h.fallBehind(f, f.after) // another stream takes its place
		} else {
			i++
		}
	}
}

// dispatch hands a batch to every stream and remembers it.
func (h *Hub) dispatch(batch []domain.Event) {
	items := make([]*Item, len(batch))
	for i := range batch {
		items[i] = &Item{Event: batch[i]}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 0; i < len(h.streams); {
		if h.offer(h.streams[i], items) {
			i++
		} // else it left the feed, and another stream took its place
	}
	h.head = items[len(items)-1].Sequence
	h.recent = append(h.recent, items...)
	if over := len(h.recent) - recentSize; over > recentSize {
		// Trim now and then, not on every batch: copying is what costs.
		h.from = h.recent[over-1].Sequence
		h.recent = append([]*Item(nil), h.recent[over:]...)
	}
}

// offer queues the items that f selects and reports whether f is still on the live feed. A
// stream whose queue is full falls behind instead. h.mu is held.
func (h *Hub) offer(f *follower, items []*Item) bool {
	queued := false
	for _, it := range items {
		if it.Sequence <= f.after || !f.selects(it.Event) {
			continue
		}
		if len(f.queue) >= h.Buffer {
			h.fallBehind(f, it.Sequence-1)
			return false
		}
		f.queue = append(f.queue, it)
		queued = true
	}
	if queued {
		f.wake()
	}
	return true
}

// fallBehind takes f off the live feed: every event it selects up to after is queued, and it
// reads the rest from the store. h.mu is held.
func (h *Hub) fallBehind(f *follower, after uint64) {
	f.after, f.behind = after, true
	h.leave(f)
	f.wake()
}

// join puts f on the live feed, from f.after: what it selects of the events dispatched since is
// queued from memory. It reports false when those are no longer all in memory; f then reads
// from the store again.
func (h *Hub) join(f *follower) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		if f.after < h.from {
			return false
		}
		if f.after < h.head {
			h.offer(f, h.recent)
			if f.behind {
				return true // its queue filled: it sends that, then reads on
			}
		}
	}
	h.add(f)
	return true
}

// add puts f on the live feed. h.mu is held.
func (h *Hub) add(f *follower) {
	f.index = len(h.streams)
	h.streams = append(h.streams, f)
}

// joinFromMemory joins f to the live feed if the hub has started and f starts at or after its
// head: nothing f selects was dispatched yet. A stream that starts earlier reads the store,
// even when the hub still holds those events: only the store knows which of them retention
// deleted or an erasure rewrote since.
func (h *Hub) joinFromMemory(f *follower) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started || f.after < h.head {
		return false
	}
	h.add(f)
	return true
}

// leave takes f off the live feed, if it is on it. h.mu is held.
func (h *Hub) leave(f *follower) {
	if f.index < 0 {
		return
	}
	last := h.streams[len(h.streams)-1]
	h.streams[f.index], last.index = last, f.index
	h.streams[len(h.streams)-1] = nil
	h.streams = h.streams[:len(h.streams)-1]
	f.index = -1
}

// take returns f's queued items, and whether it fell behind.
func (h *Hub) take(f *follower) ([]*Item, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q, behind := f.queue, f.behind
	f.queue, f.behind = nil, false
	return q, behind
}

// follower is a stream as the hub sees it. Its fields but ready are guarded by Hub.mu.
type follower struct {
	selects func(domain.Event) bool
	after   uint64  // every event it selects up to after was queued or sent
	queue   []*Item // selected events waiting to be sent
	behind  bool    // it left the live feed: after its queue, it reads from the store
	index   int     // its place in Hub.streams, or -1
	ready   chan struct{}
}

func (f *follower) wake() {
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// Stream is one live consumer of the hub.
type Stream struct {
	// After is the sequence the stream starts after.
	After uint64
	// CatchUp reads from the store what the stream selects after the given sequence, and sends
	// it. It returns the sequence up to which it sent every event the stream selects (the last
	// sequence its read saw, when that read everything), and whether there is more to read.
	CatchUp func(ctx context.Context, after uint64) (upTo uint64, more bool, err error)
	// Selects tells whether the stream wants a committed event. The hub calls it on one
	// goroutine at a time, in sequence order, for events after the stream's last catch-up; it
	// may remember what it learns (a conversation's id).
	Selects func(domain.Event) bool
	// Send sends events of the live feed, in sequence order, as one write.
	Send func([]*Item) error
	// Check, when set, is called every CheckEvery; an error ends the stream with that error (a
	// revoked key, a token that no longer verifies).
	Check      func(ctx context.Context) error
	CheckEvery time.Duration
	// Recheck, when set, runs Check at once each time it fires (a key revoked, a channel
	// changed on this server), besides every CheckEvery.
	Recheck *Signal
	// Stop, when closed, ends the stream without error (the server is shutting down).
	Stop <-chan struct{}
}

// Follow runs s until ctx ends, Stop closes, or a read, send or check fails: it catches up from
// the store, joins the live feed, and goes back to the store whenever it falls behind. Every
// event it selects is sent once, in sequence order. It returns nil when ctx ends.
func (h *Hub) Follow(ctx context.Context, s Stream) error {
	h.open.Add(1)
	defer h.open.Add(-1)
	err := h.follow(ctx, s)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Open counts the streams following now.
func (h *Hub) Open() int { return int(h.open.Load()) }

func (h *Hub) follow(ctx context.Context, s Stream) error {
	f := &follower{selects: s.Selects, after: s.After, index: -1, ready: make(chan struct{}, 1)}
	defer func() {
		h.mu.Lock()
		h.leave(f)
		h.mu.Unlock()
	}()
	var check <-chan time.Time
	if s.Check != nil {
		t := time.NewTicker(s.CheckEvery)
		defer t.Stop()
		check = t.C
	}
	// Taken before anything else, and again before each Check it causes, so that no Fire is
	// missed while the stream catches up or checks; and a first Check right after it covers the
	// Fires that came before (between the call's authentication and now).
	recheck := s.Recheck.C()
	if recheck != nil {
		if err := s.Check(ctx); err != nil {
			return err
		}
	}
	// A stream from now joins the live feed without reading the store; the others, and every
	// stream that falls behind, catch up from the store first.
	joined := h.joinFromMemory(f)
	for ; ; joined = false {
		if !joined {
			if err := h.catchUp(ctx, f, s.CatchUp); err != nil {
				return err
			}
			if !h.join(f) {
				continue
			}
		}
		for behind := false; !behind; {
			select {
			case <-ctx.Done():
				return nil
			case <-s.Stop: // a nil Stop never ends a stream
				return nil
			case <-check:
				if err := s.Check(ctx); err != nil {
					return err
				}
				continue
			case <-recheck:
				recheck = s.Recheck.C()
				if err := s.Check(ctx); err != nil {
					return err
				}
				continue
			case <-f.ready:
			}
			var items []*Item
			items, behind = h.take(f)
			for len(items) > 0 {
				n := min(len(items), Batch)
				if err := h.sends.do(func() error { return s.Send(items[:n]) }); err != nil {
					return err
				}
				items = items[n:]
			}
		}
	}
}

// catchUp reads from the store until a read leaves nothing more, and moves f.after to what it
// covered. f is off the live feed, so only this goroutine touches it.
func (h *Hub) catchUp(ctx context.Context, f *follower, read func(context.Context, uint64) (uint64, bool, error)) error {
	for {
		var upTo uint64
		var more bool
		err := h.sends.do(func() error {
			var err error
			upTo, more, err = read(ctx, f.after)
			return err
		})
		if err != nil {
			return err
		}
		h.mu.Lock()
		f.after = max(f.after, upTo)
		h.mu.Unlock()
		if !more {
			return nil
		}
	}
}

// limiter bounds the streams sending at once. A send that blocks (a client that stopped
// reading fills its flow-control window) gives its place back after slowSend, so that a
// stalled stream never holds the others up.
type limiter struct{ slots chan struct{} }

const slowSend = 20 * time.Millisecond

func newLimiter(n int) *limiter { return &limiter{slots: make(chan struct{}, n)} }

func (l *limiter) do(f func() error) error {
	l.slots <- struct{}{}
	var once sync.Once
	release := func() { once.Do(func() { <-l.slots }) }
	t := time.AfterFunc(slowSend, release)
	defer func() {
		t.Stop()
		release()
	}()
	return f()
}

// FromStore is the catch-up of a stream of the events that f selects and reads allows (all of
// them when reads is nil): it reads a batch of them and sends it. The batch covers the log up to
// the last sequence committed in the same snapshot when it is not full, so that a stream that
// read them all joins the live feed there.
func FromStore(st store.Store, f store.EventFilter, reads func(domain.Event) bool, send func([]*Item) error) func(context.Context, uint64) (uint64, bool, error) {
	return func(ctx context.Context, after uint64) (upTo uint64, more bool, err error) {
		var list []domain.Event
		err = st.Read(ctx, func(tx store.Tx) error {
			if list, err = tx.ListEvents(ctx, after, f, Batch); err != nil {
				return err
			}
			if err := store.EventsGone(ctx, tx, after, f); err != nil {
				return err // the stream ends with it rather than skip what was swept
			}
			if len(list) == Batch {
				upTo, more = list[len(list)-1].Sequence, true
				return nil
			}
			upTo, err = tx.LastSequence(ctx)
			return err
		})
		if err != nil {
			return upTo, more, err
		}
		items := make([]*Item, 0, len(list))
		for i := range list {
			if reads == nil || reads(list[i]) {
				items = append(items, &Item{Event: list[i]})
			}
		}
		if len(items) == 0 {
			return upTo, more, nil
		}
		return upTo, more, send(items)
	}
}

// Head returns where a stream "from now" starts: the last event the hub dispatched or, before it
// started (or while it is idle), the last stored. A stream that starts there joins the live feed
// without a read once the hub has started (with one while it is idle); it gets the events
// committed but not yet dispatched, so it misses nothing written before it.
func (h *Hub) Head(ctx context.Context) (uint64, error) {
	h.mu.Lock()
	started, head := h.started, h.head
	h.mu.Unlock()
	if started {
		return head, nil
	}
	var seq uint64
	err := h.store.Read(ctx, func(tx store.Tx) error {
		var err error
		seq, err = tx.LastSequence(ctx)
		return err
	})
	return seq, err
}

// Signal wakes everyone waiting on it, each time it fires. A nil Signal never fires.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// C returns a channel closed by the next Fire.
func (s *Signal) C() <-chan struct{} {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Fire wakes everyone waiting on C.
func (s *Signal) Fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
