package forecast_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/internal/forecast"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
	"github.com/limelight-hq/limelight/internal/tips"
)

// TestForecastRecoversTipValue: a creator whose only revenue is 10.00 tips
// (9.00 after the take) earns exactly 900 per tip; the fit must find that,
// with an R² near 1, and forecast about 900 × the tips per day.
func TestForecastRecoversTipValue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		inf := c.Influencer.Create().SetHandle("chef_anna").SaveX(ctx)
		fan := c.User.Create().SetHandle("fan_one").SaveX(ctx)
		total := 0
		for d := 1; d <= 60; d++ {
			day := now.AddDate(0, 0, -d)
			for k := range 1 + d%4 {
				if _, _, err := tips.Send(ctx, c, tips.DefaultConfig(), tips.Request{UserID: fan.ID, InfluencerID: inf.ID,
					AmountMinor: 1000, Currency: "USD", IdempotencyKey: fmt.Sprintf("d%d-%d", d, k)}, day); err != nil {
					t.Fatal(err)
				}
				total++
			}
		}
		res, err := forecast.Revenue(ctx, c, inf.ID, "USD", 7, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Coefficients[3]; math.Abs(got-900) > 5 {
			t.Fatalf("per-tip coefficient %.2f, want 900", got)
		}
		if res.R2 < 0.99 || res.RMSE > 20 {
			t.Fatalf("fit: R² %.4f RMSE %.2f", res.R2, res.RMSE)
		}
		if len(res.Forecast) != 7 || res.TotalMinor <= 0 {
			t.Fatalf("forecast %+v", res.Forecast)
		}
		avg := float64(total) / 60 * 900
		for _, d := range res.Forecast {
			if float64(d.RevenueMinor) < avg/2 || float64(d.RevenueMinor) > avg*2 {
				t.Fatalf("forecast day %s: %d, history averages %.0f", d.Day, d.RevenueMinor, avg)
			}
		}
	})
}

func TestForecastRejects(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	inf := st.Client.Influencer.Create().SetHandle("chef_anna").SaveX(ctx)
	for _, days := range []int{0, -1, forecast.MaxDays + 1} {
		if _, err := forecast.Revenue(ctx, st.Client, inf.ID, "USD", days, time.Now()); err == nil {
			t.Fatalf("days %d accepted", days)
		}
	}
	if _, err := forecast.Revenue(ctx, st.Client, inf.ID, "usd", 3, time.Now()); err == nil {
		t.Fatal("bad currency accepted")
	}
	// No history at all: a flat zero forecast, not an error.
	res, err := forecast.Revenue(ctx, st.Client, inf.ID, "USD", 3, time.Now())
	if err != nil || res.TotalMinor != 0 {
		t.Fatalf("empty history: %+v %v", res, err)
	}
}
