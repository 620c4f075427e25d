package postgres_test

import (
	"errors"
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
	s := open(t, pgtest.URL(t)+"&pool_max_conns=2") // one lane (three quarters of the pool), so all four share it
	boom := errors.New("boom")

	var mu sync.Mutex
	txids := map[string][]int64{} // each run's transaction, by key
	aRuns := make(chan struct{})
	write := func(key string, fail bool, hold <-chan struct{}) func(store.Tx) error {
		return func(tx store.Tx) error {
			id, err := postgres.TxID(ctx, tx)
			if err != nil {
				return err
			}
			mu.Lock()
			txids[key] = append(txids[key], id)
			mu.Unlock()
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
		go func() { results[key] <- s.WriteGrouped(ctx, key, fn) }()
	}
	run("a", write("a", false, hold))
	<-aRuns
	run("d", write("d", true, nil))
	run("c", write("c", false, nil))
	run("b", write("b", false, nil))
	for postgres.Queued(s) < 3 { // no event says so: poll, within the test's timeout
		time.Sleep(time.Millisecond)
	}
	close(hold)

	for key, want := range map[string]error{"a": nil, "b": nil, "c": nil, "d": boom} {
		if err := <-results[key]; !errors.Is(err, want) {
			t.Errorf("write %s: %v, want %v", key, err, want)
		}
	}
	// b, c and d ran together (in key order, d last), then each again alone.
	b, c, d := txids["b"], txids["c"], txids["d"]
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
