package bench

import (
	"testing"
	"time"
)

// The ceilings must keep running against the schema the migrations create: a column renamed
// there would otherwise break them only when someone measures.
func TestSQLiteCeilingsRun(t *testing.T) {
	for name, c := range map[string]Ceiling{"baton": BatonCeiling, "minimal": MinimalCeiling} {
		t.Run(name, func(t *testing.T) {
			// More transactions than conversations: each conversation is updated twice, so the
			// update's revision check is exercised.
			const n = 2*ceilingContacts + 1
			res, err := SQLiteCeiling(t.Context(), c, t.TempDir(), time.Minute, n)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != n {
				t.Fatalf("ran %d transactions, want %d", res.Sent, n)
			}
		})
	}
}
