package storetest

import (
	"sync"
	"sync/atomic"

	"github.com/batonhq/baton/server/store"
)

// raceClaims has claimers claim at once, each claim in a Write of its own, until none finds
// anything, and checks that every id in want was claimed exactly once and nothing else was.
// claim returns the ids it leased; what names them in failures ("deliveries", "messages").
func raceClaims(h *harness, claimers int, want map[string]bool, what string, claim func(store.Tx) ([]string, error)) {
	start := make(chan struct{})
	claimed := make([][]string, claimers)
	// Each claim that finds something leases one at least, which no other claim may return
	// again: more claims than there is to claim mean claims do not run dry.
	var claims atomic.Int64
	var wg sync.WaitGroup
	for i := range claimers {
		wg.Go(func() {
			<-start
			for {
				if claims.Add(1) > int64(len(want)+claimers) {
					h.t.Errorf("claimer %d: claims go on after %d %s", i, len(want), what)
					return
				}
				var got []string
				err := h.s.Write(h.ctx, func(tx store.Tx) error {
					var err error
					got, err = claim(tx)
					return err
				})
				if err != nil {
					h.t.Errorf("claimer %d: %v", i, err)
					return
				}
				if len(got) == 0 {
					return
				}
				claimed[i] = append(claimed[i], got...)
			}
		})
	}
	close(start)
	wg.Wait()

	seen := map[string]int{}
	for i, ids := range claimed {
		for _, id := range ids {
			if seen[id]++; seen[id] > 1 {
				h.t.Errorf("claimer %d claimed %s, claimed before", i, id)
			}
			if !want[id] {
				h.t.Errorf("claimer %d claimed %s, which was not due", i, id)
			}
		}
	}
	if len(seen) != len(want) {
		h.t.Errorf("%d %s claimed, want %d", len(seen), what, len(want))
	}
}
