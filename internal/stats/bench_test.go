package stats_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/internal/stats"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// BenchmarkCampaignStats loads LIMELIGHT_BENCH_EVENTS ad events (default
// 10,000,000) of one campaign into PostgreSQL — 10 ads, 50 creators with 4
// pieces of content each, 90 days — builds the rollup with Rebuild, and
// measures campaignStats over the whole 90 days per grouping. Run it with
//
//	go test ./internal/stats -run '^$' -bench CampaignStats -benchtime 50x -timeout 60m
//
// The events are generated inside PostgreSQL (INSERT ... SELECT from
// generate_series), which bypasses the ent hook; Rebuild backfills the
// rollup from them, and the benchmark checks its total against a COUNT
// over the raw rows before measuring.
func BenchmarkCampaignStats(b *testing.B) {
	n := 10_000_000
	if v := os.Getenv("LIMELIGHT_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	st := storetest.Postgres(b)
	w := NewWorld(b, st.Client, 10)
	if _, err := st.DB.Exec(`CREATE TEMP TABLE bench_ads(i int, id text)`); err != nil {
		b.Fatal(err)
	}
	for i, id := range w.Ads {
		if _, err := st.DB.Exec(`INSERT INTO bench_ads VALUES ($1, $2)`, i, string(id)); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	// Event g: ad g%10, creator (g/10)%50, content (g/500)%4 of that creator,
	// 85% impressions / 12% clicks / 3% conversions, spread over 90 days.
	_, err := st.DB.ExecContext(ctx, `
INSERT INTO ad_events (id, ad_id, campaign_id, user_id, content_id, influencer_id, kind, cost_minor, revenue_minor, occurred_at)
SELECT 'AE' || lpad(g::text, 26, '0'), a.id, $1,
       'US' || lpad((g % 200000)::text, 26, '0'),
       'CO' || lpad((((g / 10) % 50) * 4 + (g / 500) % 4)::text, 26, '0'),
       'IN' || lpad(((g / 10) % 50)::text, 26, '0'),
       CASE WHEN g % 100 < 85 THEN 'IMPRESSION' WHEN g % 100 < 97 THEN 'CLICK' ELSE 'CONVERSION' END,
       CASE WHEN g % 100 < 85 THEN g % 3 WHEN g % 100 < 97 THEN 10 + g % 40 ELSE g % 200 END,
       CASE WHEN g % 100 < 97 THEN 0 ELSE 500 + g % 10000 END,
       $2::timestamptz + ((g::bigint * 7776000) / $3) * interval '1 second'
FROM generate_series(0, $3 - 1) AS g JOIN bench_ads a ON a.i = g % 10`,
		string(w.Campaign.ID), day0, n)
	if err != nil {
		b.Fatal(err)
	}
	loaded := time.Since(start)
	start = time.Now()
	if err := stats.Rebuild(ctx, st.Client, w.Campaign.ID); err != nil {
		b.Fatal(err)
	}
	rebuilt := time.Since(start)
	if _, err := st.DB.Exec(`ANALYZE ad_stat_dailies`); err != nil {
		b.Fatal(err)
	}
	var rows int
	st.DB.QueryRow(`SELECT count(*) FROM ad_stat_dailies`).Scan(&rows)
	b.Logf("loaded %d events in %v, rebuilt %d rollup rows in %v", n, loaded.Round(time.Second), rows, rebuilt.Round(time.Second))

	from, to := day0, day0.AddDate(0, 0, 90)
	rep, err := stats.CampaignStats(ctx, st.Client, w.Campaign.ID, from, to, nil)
	if err != nil {
		b.Fatal(err)
	}
	var events, spend int64
	if err := st.DB.QueryRow(`SELECT count(*), sum(cost_minor) FROM ad_events WHERE campaign_id = $1`, string(w.Campaign.ID)).Scan(&events, &spend); err != nil {
		b.Fatal(err)
	}
	if got := rep.Total.Impressions + rep.Total.Clicks + rep.Total.Conversions; got != events || rep.Total.SpendMinor != spend {
		b.Fatalf("rollup says %d events / %d spent, raw rows %d / %d", got, rep.Total.SpendMinor, events, spend)
	}
	for _, bc := range []struct {
		name string
		dims []stats.Dimension
	}{
		{"total", nil},
		{"day", []stats.Dimension{stats.ByDay}},
		{"ad", []stats.Dimension{stats.ByAd}},
		{"influencer", []stats.Dimension{stats.ByInfluencer}},
		{"day+ad", []stats.Dimension{stats.ByDay, stats.ByAd}},
		{"content", []stats.Dimension{stats.ByContent}},
		{"ad+influencer", []stats.Dimension{stats.ByAd, stats.ByInfluencer}},
		{"day+ad+influencer+content/3days", []stats.Dimension{stats.ByDay, stats.ByAd, stats.ByInfluencer, stats.ByContent}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			from, to := from, to
			if strings.HasSuffix(bc.name, "/3days") {
				from, to = day0.AddDate(0, 0, 40), day0.AddDate(0, 0, 43)
			}
			for b.Loop() {
				if _, err := stats.CampaignStats(ctx, st.Client, w.Campaign.ID, from, to, bc.dims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
