package ads_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/campaign"
	"github.com/limelight-hq/limelight/internal/ads"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// BenchmarkPick serves 2 sponsored slots (one feed page of 10 items at an ad
// load of 1 in 5) from 50 live campaigns, recording both impressions with CPM
// spend (go test -run '^$' -bench Pick ./internal/ads).
func BenchmarkPick(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var st *store.Store
			if name == "sqlite" {
				st = storetest.SQLite(b)
			} else {
				st = storetest.Postgres(b)
			}
			f := newFixture(b, st)
			for i := range 50 {
				pricing := []campaign.Pricing{campaign.PricingCPM, campaign.PricingCPC, campaign.PricingCPA}[i%3]
				tags := [][]string{nil, {"ramen"}, {"games"}}[i%3]
				f.campaign(b, fmt.Sprint("c", i), pricing, int64(1000+i*37), tags, now.Add(-time.Hour), now.Add(time.Hour))
			}
			ctx := context.Background()
			interests := map[string]float64{"ramen": 0.6, "cooking": 0.4}
			b.ResetTimer()
			for b.Loop() {
				ps, err := ads.Pick(ctx, f.c, ads.Request{UserID: f.fan, Slots: 2, Context: []ads.ContentRef{f.ramen, f.games}, Now: now, Interests: interests})
				if err != nil || len(ps) != 2 {
					b.Fatalf("%d placements, %v", len(ps), err)
				}
			}
		})
	}
}
