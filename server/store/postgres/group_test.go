package postgres_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// TestGroupedWritesShareATransaction queues grouped writes behind a running one and checks they
// then run in one transaction, and that when one of them fails, the others run again alone and
// are kept while the failed one leaves nothing.
func TestGroupedWritesShareATransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	boom := errors.New("boom")

	var txs txLog
	aRuns := make(chan struct{})
	write := func(key string, fail bool, hold <-chan struct{}) func(store.Tx) error {
		return func(tx store.Tx) error {
			if err := txs.record(ctx, tx, key); err != nil {
				return err
			}
			if hold != nil {
				close(aRuns)
				<-hold
			}
			bot := domain.Bot{ID: "bot-" + key, DisplayName: key, Active: true, CreateTime: time.Now(), UpdateTime: time.Now()}
			if err := tx.CreateBot(ctx, bot); err != nil || !fail {
				return err
			}
			return boom
		}
	}

	hold := make(chan struct{})
	results := map[string]chan error{"a": make(chan error, 1), "b": make(chan error, 1), "c": make(chan error, 1), "d": make(chan error, 1)}
	run := func(key string, fn func(store.Tx) error) {
		go func() {
			results[key] <- s.WriteInbound(ctx, store.InboundQuery{ChannelID: "ch", ContactExternalID: key}, fn)
		}()
	}
	run("a", write("a", false, hold))
	<-aRuns
	run("d", write("d", true, nil))
	run("c", write("c", false, nil))
	run("b", write("b", false, nil))
	for postgres.Queued(s) < 3 { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	close(hold)

	for key, want := range map[string]error{"a": nil, "b": nil, "c": nil, "d": boom} {
		if err := <-results[key]; !errors.Is(err, want) {
			t.Errorf("write %s: %v, want %v", key, err, want)
		}
	}
	// b, c and d ran together (in key order, d last), then each again alone.
	b, c, d := txs.of("b"), txs.of("c"), txs.of("d")
	if len(b) != 2 || len(c) != 2 || len(d) != 2 || b[0] != c[0] || c[0] != d[0] ||
		len(map[int64]bool{b[0]: true, b[1]: true, c[1]: true, d[1]: true}) != 4 {
		t.Errorf("transactions: b %v, c %v, d %v; want b, c, d sharing one, then one each", b, c, d)
	}
	for key, kept := range map[string]bool{"a": true, "b": true, "c": true, "d": false} {
		err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.GetBot(ctx, "bot-"+key); return err })
		var nf *domain.NotFoundError
		if kept && err != nil || !kept && !errors.As(err, &nf) {
			t.Errorf("bot of write %s: %v, kept should be %v", key, err, kept)
		}
	}
}

// TestGroupWriteRefusedBeforeSendingRunsOnce queues writes behind a held one, two of which fail
// before they send anything, as ingests refused on what the group read ahead: one by its own
// choice after deferring an event, one because its channel does not exist. Each gets its own
// error and leaves nothing behind, not even what it deferred, while what the write before it
// deferred is kept; the others commit together without running again.
func TestGroupWriteRefusedBeforeSendingRunsOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	refused := errors.New("refused")

	var txs txLog
	var mu sync.Mutex
	runs := map[string]int{}
	event := func(tx store.Tx, key string) error {
		_, err := tx.AppendEvents(ctx, []domain.Event{{ID: "ev-" + key, Type: domain.EventConversationUpdated, Time: time.Now()}})
		return err // deferred: nothing sent
	}
	writes := map[string]struct {
		q  store.InboundQuery
		fn func(store.Tx) error
	}{
		"b": {store.InboundQuery{ChannelID: "ch", ContactExternalID: "b"}, func(tx store.Tx) error {
			return errors.Join(txs.record(ctx, tx, "b"), event(tx, "b")) // its event is still deferred when c runs
		}},
		"c": {store.InboundQuery{ChannelID: "ch", ContactExternalID: "c"}, func(tx store.Tx) error {
			return errors.Join(event(tx, "c"), refused)
		}},
		"d": {store.InboundQuery{ChannelID: "missing", ContactExternalID: "d"}, func(tx store.Tx) error {
			_, err := tx.LoadInbound(ctx, store.InboundQuery{ChannelID: "missing", ContactExternalID: "d"})
			return err
		}},
		"e": {store.InboundQuery{ChannelID: "ch", ContactExternalID: "e"}, func(tx store.Tx) error {
			return errors.Join(txs.record(ctx, tx, "e"), tx.CreateBot(ctx, domain.Bot{ID: "bot-e", DisplayName: "e", CreateTime: time.Now(), UpdateTime: time.Now()}))
		}},
	}

	hold, held := make(chan struct{}), make(chan struct{})
	go s.WriteInbound(ctx, store.InboundQuery{ChannelID: "ch", ContactExternalID: "a"}, func(store.Tx) error { close(held); <-hold; return nil })
	<-held
	results := map[string]chan error{}
	for key, w := range writes {
		result := make(chan error, 1)
		results[key] = result
		counted := func(tx store.Tx) error {
			mu.Lock()
			runs[key]++
			mu.Unlock()
			return w.fn(tx)
		}
		go func() { result <- s.WriteInbound(ctx, w.q, counted) }()
	}
	for postgres.Queued(s) < len(writes) { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	close(hold)

	var nf *domain.NotFoundError
	for key, ok := range map[string]func(error) bool{
		"b": func(err error) bool { return err == nil },
		"c": func(err error) bool { return errors.Is(err, refused) },
		"d": func(err error) bool { return errors.As(err, &nf) && nf.ID == "missing" },
		"e": func(err error) bool { return err == nil },
	} {
		if err := <-results[key]; !ok(err) {
			t.Errorf("write %s: %v", key, err)
		}
	}
	b, e := txs.of("b"), txs.of("e")
	if runs["b"] != 1 || runs["c"] != 1 || runs["d"] != 1 || runs["e"] != 1 || len(b) != 1 || len(e) != 1 || b[0] != e[0] {
		t.Errorf("runs %v, transactions b %v, e %v; want each once, b and e in one", runs, b, e)
	}
	err := s.Read(ctx, func(tx store.Tx) error {
		events, err := tx.ListEvents(ctx, 0, store.EventFilter{}, 10)
		if err == nil && (len(events) != 1 || events[0].ID != "ev-b") {
			t.Errorf("events %+v, want b's alone", events)
		}
		if _, err := tx.GetBot(ctx, "bot-e"); err != nil {
			t.Errorf("bot of write e: %v", err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupReadsAhead queues ingest-like writes behind a held one: contact a's two messages and
// contact b's and c's (c has no conversation yet). The group reads ahead for the first write of
// each contact, and what each LoadInbound returns is what it would read alone: a's second
// message sees the first one stored by the write before it (the same conversation), which is
// why only the first write of a contact is read ahead.
func TestGroupReadsAhead(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, pgtest.URL(t))
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	ch, convs := inboundFixtures(t, s, now)

	type read struct {
		prefetched bool
		in         store.Inbound
		runs       int // more than one: the group failed, and the write ran again alone
	}
	var mu sync.Mutex
	reads := map[string]read{}
	ingest := func(name string, q store.InboundQuery) func(store.Tx) error {
		return func(tx store.Tx) error {
			pre := postgres.Prefetched(tx)
			in, err := tx.LoadInbound(ctx, q)
			if err != nil {
				return err
			}
			mu.Lock()
			reads[name] = read{pre, in, reads[name].runs + 1}
			mu.Unlock()
			if in.Message != nil || in.Conversation == nil {
				return nil
			}
			return tx.CreateMessage(ctx, domain.Message{ID: "msg-" + name, ConversationID: in.Conversation.ID, ChannelID: ch.ID,
				Direction: domain.Inbound, ChannelMessageID: q.ChannelMessageID, Status: domain.DeliveryDelivered, CreateTime: now})
		}
	}
	writes := []struct {
		name string
		q    store.InboundQuery
	}{
		{"a1", store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "m-1", ContactExternalID: "a"}},
		{"a2", store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "m-1", ContactExternalID: "a"}}, // a redelivery
		{"b", store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "m-2", ContactExternalID: "b"}},
		{"c", store.InboundQuery{ChannelID: ch.ID, ChannelMessageID: "m-3", ContactExternalID: "c"}},
	}

	hold, held := make(chan struct{}), make(chan struct{})
	go s.WriteInbound(ctx, store.InboundQuery{ChannelID: ch.ID, ContactExternalID: "z"}, func(store.Tx) error { close(held); <-hold; return nil })
	<-held
	errs := make(chan error, len(writes))
	for i, w := range writes { // queued in this order: a1 before a2
		go func() { errs <- s.WriteInbound(ctx, w.q, ingest(w.name, w.q)) }()
		for postgres.Queued(s) < i+1 { // no event says so: poll, within the test's timeout
			runtime.Gosched()
		}
	}
	close(hold)
	for range writes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]struct {
		prefetched bool
		conv       string
		message    string
	}{
		"a1": {true, convs[0].ID, ""},
		"a2": {false, convs[0].ID, "msg-a1"},
		"b":  {true, convs[1].ID, ""},
		"c":  {true, "", ""},
	}
	for name, w := range want {
		r := reads[name]
		conv, msg := "", ""
		if r.in.Conversation != nil {
			conv = r.in.Conversation.ID
		}
		if r.in.Message != nil {
			msg = r.in.Message.ID
		}
		if r.runs != 1 || r.prefetched != w.prefetched || conv != w.conv || msg != w.message || r.in.Channel.ID != ch.ID {
			t.Errorf("%s ran %d times, read ahead %v, conversation %q, message %q, channel %q; want once, %v, %q, %q",
				name, r.runs, r.prefetched, conv, msg, r.in.Channel.ID, w.prefetched, w.conv, w.message)
		}
	}
}

// TestGroupCommitOfUnknownOutcomeRunsNoWriteAgain loses the answer to a group's COMMIT, which
// the server carried out: each write of the group gets an error, and none runs again, which
// would apply it twice. (What they stored is there.)
func TestGroupCommitOfUnknownOutcomeRunsNoWriteAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	proxy := cutCommits(t, pgtest.URL(t))
	s := open(t, proxy.url)

	var txs txLog
	aRuns, hold := make(chan struct{}), make(chan struct{})
	write := func(key string) func(store.Tx) error {
		return func(tx store.Tx) error {
			if err := txs.record(ctx, tx, key); err != nil {
				return err
			}
			if key == "a" {
				close(aRuns)
				<-hold
			}
			return tx.CreateBot(ctx, domain.Bot{ID: "bot-" + key, DisplayName: key, Active: true, CreateTime: time.Now(), UpdateTime: time.Now()})
		}
	}
	results := map[string]chan error{"a": make(chan error, 1), "b": make(chan error, 1), "c": make(chan error, 1)}
	for _, key := range []string{"a", "b", "c"} {
		go func() {
			results[key] <- s.WriteInbound(ctx, store.InboundQuery{ChannelID: "ch", ContactExternalID: key}, write(key))
		}()
		if key == "a" {
			<-aRuns // a runs alone, and b and c queue behind it
		}
	}
	for postgres.Queued(s) < 2 { // no event says so: poll, within the test's timeout
		runtime.Gosched()
	}
	proxy.cutAt(2) // a's COMMIT goes through, the group's of b and c is carried out unheard
	close(hold)

	if err := <-results["a"]; err != nil {
		t.Errorf("write a: %v", err)
	}
	for _, key := range []string{"b", "c"} {
		if err := <-results[key]; err == nil || errors.Is(err, store.ErrDuplicate) {
			t.Errorf("write %s: %v, want the broken connection's error", key, err)
		}
	}
	if b, c := txs.of("b"), txs.of("c"); len(b) != 1 || len(c) != 1 || b[0] != c[0] {
		t.Errorf("transactions: b %v, c %v; want one, shared, and no second run", b, c)
	}
	for _, key := range []string{"a", "b", "c"} {
		err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.GetBot(ctx, "bot-"+key); return err })
		if err != nil {
			t.Errorf("bot of write %s: %v, want it committed", key, err)
		}
	}
}

// txLog records the transaction of each run of grouped writes, by the writes' keys.
type txLog struct {
	mu  sync.Mutex
	ids map[string][]int64
}

// record records the transaction tx runs in, for a run of the write with the given key.
func (l *txLog) record(ctx context.Context, tx store.Tx, key string) error {
	id, err := postgres.TxID(ctx, tx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil {
		l.ids = map[string][]int64{}
	}
	l.ids[key] = append(l.ids[key], id)
	return nil
}

// of returns the transactions of the runs of the write with the given key, in run order.
func (l *txLog) of(key string) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids[key]
}
