package bench

import (
	"fmt"
	"testing"
	"time"
)

// The ceilings must keep running against the schema the migrations create: a column renamed
// there would otherwise break them only when someone measures.
func TestSQLiteCeilingsRun(t *testing.T) {
	for name, c := range map[string]Ceiling{"baton": BatonCeiling, "minimal": MinimalCeiling} {
		for _, batch := range []int{1, 64} {
			t.Run(fmt.Sprintf("%s/batch=%d", name, batch), func(t *testing.T) {
				// More messages than conversations: each conversation is updated twice, so the
				// update's revision check is exercised.
				const n = 2*ceilingContacts + 1
				res, err := SQLiteCeiling(t.Context(), c, t.TempDir(), time.Minute, n, batch)
				if err != nil {
					t.Fatal(err)
				}
				if res.Sent != n || len(res.Latencies) != n {
					t.Fatalf("ran %d messages (%d latencies), want %d", res.Sent, len(res.Latencies), n)
				}
			})
		}
	}
}
