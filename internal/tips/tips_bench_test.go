package tips_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/ledger"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
	"github.com/limelight-hq/limelight/internal/tips"
)

// BenchmarkSendTip posts tips from 50 fans to 10 creators, in parallel
// (go test -run '^$' -bench SendTip -cpu 1,8 ./internal/tips). Every tip
// locks the platform's account, so this measures the serialised posting path.
func BenchmarkSendTip(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var st *store.Store
			if name == "sqlite" {
				st = storetest.SQLite(b)
			} else {
				st = storetest.Postgres(b)
			}
			ctx := context.Background()
			var fans, creators []pulid.ID
			for i := range 50 {
				fans = append(fans, st.Client.User.Create().SetHandle(fmt.Sprintf("fan_%d", i)).SaveX(ctx).ID)
			}
			for i := range 10 {
				creators = append(creators, st.Client.Influencer.Create().SetHandle(fmt.Sprintf("creator_%d", i)).SaveX(ctx).ID)
			}
			cfg := tips.DefaultConfig()
			cfg.DailyLimitMajor = 1 << 40
			var seq atomic.Int64
			now := time.Now().UTC()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					_, _, err := tips.Send(ctx, st.Client, cfg, tips.Request{UserID: fans[i%50], InfluencerID: creators[i%10],
						AmountMinor: 100 + i%900, Currency: "USD", IdempotencyKey: fmt.Sprint("b", i)}, now)
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if err := ledger.Check(ctx, st.Client); err != nil {
				b.Fatal(err)
			}
		})
	}
}
