package serve_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
)

// BenchmarkIngest measures IngestMessage end to end over loopback HTTP on the embedded store,
// from parallel clients, messages spread over 1000 customers of a bot-owned channel.
func BenchmarkIngest(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkIngest(b, start(b)) })
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(b.Context(), pgtest.URL(b), postgres.WithKeys(pgtest.Keys))
		if err != nil {
			b.Fatal(err)
		}
		benchmarkIngest(b, startOn(b, st, &clock{now: time.Now()}))
	})
}

func benchmarkIngest(b *testing.B, h *harness) {
	w := h.world(0).channel.GetId()
	var n atomic.Int64
	b.SetParallelism(16) // requests in flight per core, as from a channel's webhook bursts
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			_, err := h.admin.Conversations.IngestMessage(context.Background(), &batonv1.IngestMessageRequest{
				ChannelId:        w,
				Contact:          &batonv1.ContactProfile{ExternalId: "c" + strconv.FormatInt(i%1000, 10)},
				ChannelMessageId: "m" + strconv.FormatInt(i, 10),
				Content:          text_("hello"),
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
