// Package forecast predicts a creator's revenue from their daily history, as
// the brief puts it: Revenue = F(impressions, clicks, conversions, tips).
//
// F is linear, fitted by least squares (gonum) on the creator's last History
// days: revenue_d = β0 + β1·impressions_d + β2·clicks_d + β3·conversions_d +
// β4·tips_d, where revenue is what the creator earned that day (ads,
// commissions net of reversals, tips, after the platform's take) and the
// regressors are counts. A small ridge term keeps the fit defined when a
// regressor never varies. The regressors themselves are projected forward
// with a least-squares linear trend (floored at zero), and F turns them into
// the forecast.
package forecast

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/conversion"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/ledgeraccount"
	"github.com/limelight-hq/limelight/ent/ledgerentry"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/tip"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
)

// History is how many complete days the fit looks back.
const History = 90

// MaxDays bounds the forecast horizon.
const MaxDays = 365

// Regressors are the names of the fitted coefficients after the intercept.
var Regressors = []string{"impressions", "clicks", "conversions", "tips"}

// Day is one day of history or forecast.
type Day struct {
	Day time.Time
	// RevenueMinor is earned (history) or predicted (forecast) revenue.
	RevenueMinor int64
	// X are the regressors, in the order of Regressors (predicted for forecast days).
	X [4]float64
}

// Result is a revenue forecast.
type Result struct {
	InfluencerID pulid.ID
	Currency     string
	// Intercept and Coefficients (per unit of each regressor, in minor
	// units) are the fitted F.
	Intercept    float64
	Coefficients [4]float64
	// RMSE is the root-mean-square error of the fit on the history, in minor
	// units per day; R2 is its coefficient of determination (0 when revenue
	// never varied).
	RMSE, R2 float64
	// History and Forecast are the daily series.
	History, Forecast []Day
	// TotalMinor is the sum of the forecast.
	TotalMinor int64
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Revenue forecasts the next days (1-365) of a creator's revenue in a
// currency, fitted on the History complete days before now.
func Revenue(ctx context.Context, client *ent.Client, influencerID pulid.ID, currency string, days int, now time.Time) (*Result, error) {
	if days < 1 || days > MaxDays {
		return nil, apperr.Errorf(apperr.BadInput, "days must be between 1 and %d", MaxDays)
	}
	if err := ledger.CheckCurrency(currency); err != nil {
		return nil, err
	}
	if ok, err := client.Influencer.Query().Where(influencer.ID(influencerID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "influencer %s not found", influencerID)
	}
	end := dayStart(now)
	start := end.AddDate(0, 0, -History)
	hist := make([]Day, History)
	for i := range hist {
		hist[i].Day = start.AddDate(0, 0, i)
	}
	idx := func(t time.Time) int {
		if t.Before(start) || !t.Before(end) {
			return -1
		}
		return int(t.Sub(start) / (24 * time.Hour))
	}
	if err := load(ctx, client, influencerID, currency, start, end, hist, idx); err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	res := &Result{InfluencerID: influencerID, Currency: currency, History: hist}
	if err := fit(res); err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	project(res, end, days)
	return res, nil
}

func load(ctx context.Context, client *ent.Client, influencerID pulid.ID, currency string, start, end time.Time, hist []Day, idx func(time.Time) int) error {
	accs, err := client.LedgerAccount.Query().Where(ledgeraccount.OwnerTypeEQ(ledgeraccount.OwnerTypeCREATOR),
		ledgeraccount.OwnerID(string(influencerID)), ledgeraccount.Currency(currency),
		ledgeraccount.BucketIn(ledger.Pending, ledger.Available)).IDs(ctx)
	if err != nil {
		return err
	}
	if len(accs) > 0 {
		entries, err := client.LedgerEntry.Query().Where(ledgerentry.AccountIDIn(accs...), ledgerentry.CreatedAtGTE(start),
			ledgerentry.CreatedAtLT(end), ledgerentry.KindIn(ledger.KindAdSpend, ledger.KindCommission, ledger.KindCommissionReverse, ledger.KindTip)).
			Select(ledgerentry.FieldAmountMinor, ledgerentry.FieldCreatedAt).All(ctx)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if i := idx(e.CreatedAt); i >= 0 {
				hist[i].RevenueMinor += e.AmountMinor
			}
		}
	}
	evs, err := client.AdEvent.Query().Where(adevent.InfluencerID(influencerID), adevent.OccurredAtGTE(start), adevent.OccurredAtLT(end)).
		Select(adevent.FieldKind, adevent.FieldOccurredAt).All(ctx)
	if err != nil {
		return err
	}
	for _, e := range evs {
		i := idx(e.OccurredAt)
		if i < 0 {
			continue
		}
		switch e.Kind {
		case adevent.KindIMPRESSION:
			hist[i].X[0]++
		case adevent.KindCLICK:
			hist[i].X[1]++
		case adevent.KindCONVERSION:
			hist[i].X[2]++
		}
	}
	convs, err := client.Conversion.Query().Where(conversion.InfluencerID(influencerID), conversion.OccurredAtGTE(start),
		conversion.OccurredAtLT(end), conversion.StatusNEQ(conversion.StatusREVERSED)).Select(conversion.FieldOccurredAt).All(ctx)
	if err != nil {
		return err
	}
	for _, c := range convs {
		if i := idx(c.OccurredAt); i >= 0 {
			hist[i].X[2]++
		}
	}
	tips, err := client.Tip.Query().Where(tip.InfluencerID(influencerID), tip.Currency(currency), tip.CreatedAtGTE(start),
		tip.CreatedAtLT(end)).Select(tip.FieldCreatedAt).All(ctx)
	if err != nil {
		return err
	}
	for _, t := range tips {
		if i := idx(t.CreatedAt); i >= 0 {
			hist[i].X[3]++
		}
	}
	return nil
}

// fit solves the ridge-regularised least squares [X; √λ·I'] β = [y; 0],
// where I' leaves the intercept unpenalised, on standardised regressors.
func fit(res *Result) error {
	n, k := len(res.History), len(Regressors)
	// Standardise columns so one λ suits counts of very different sizes.
	var scale [4]float64
	for j := range k {
		for _, d := range res.History {
			scale[j] = math.Max(scale[j], d.X[j])
		}
		if scale[j] == 0 {
			scale[j] = 1
		}
	}
	const lambda = 1e-6
	a := mat.NewDense(n+k, k+1, nil)
	b := mat.NewDense(n+k, 1, nil)
	for i, d := range res.History {
		a.Set(i, 0, 1)
		for j := range k {
			a.Set(i, j+1, d.X[j]/scale[j])
		}
		b.Set(i, 0, float64(d.RevenueMinor))
	}
	for j := range k {
		a.Set(n+j, j+1, math.Sqrt(lambda*float64(n)))
	}
	var beta mat.Dense
	if err := beta.Solve(a, b); err != nil {
		return fmt.Errorf("least squares: %w", err)
	}
	res.Intercept = beta.At(0, 0)
	for j := range k {
		res.Coefficients[j] = beta.At(j+1, 0) / scale[j]
	}
	var sse, mean, sst float64
	for _, d := range res.History {
		mean += float64(d.RevenueMinor) / float64(n)
	}
	for _, d := range res.History {
		r := float64(d.RevenueMinor) - predict(res, d.X)
		sse += r * r
		dv := float64(d.RevenueMinor) - mean
		sst += dv * dv
	}
	res.RMSE = math.Sqrt(sse / float64(n))
	if sst > 0 {
		res.R2 = 1 - sse/sst
	}
	return nil
}

func predict(res *Result, x [4]float64) float64 {
	y := res.Intercept
	for j, c := range res.Coefficients {
		y += c * x[j]
	}
	return y
}

// project extends each regressor's linear trend and applies the fit.
func project(res *Result, from time.Time, days int) {
	n := len(res.History)
	t := make([]float64, n)
	for i := range t {
		t[i] = float64(i)
	}
	var alpha, slope [4]float64
	for j := range Regressors {
		xs := make([]float64, n)
		for i, d := range res.History {
			xs[i] = d.X[j]
		}
		alpha[j], slope[j] = stat.LinearRegression(t, xs, nil, false)
	}
	res.Forecast = make([]Day, days)
	for h := range days {
		var x [4]float64
		for j := range Regressors {
			x[j] = math.Max(0, alpha[j]+slope[j]*float64(n+h))
		}
		y := math.Max(0, math.Round(predict(res, x)))
		if y > math.MaxInt64/2/MaxDays { // absurd fits must not overflow the total
			y = math.MaxInt64 / 2 / MaxDays
		}
		res.Forecast[h] = Day{Day: from.AddDate(0, 0, h), RevenueMinor: int64(y), X: x}
		res.TotalMinor += int64(y)
	}
}
