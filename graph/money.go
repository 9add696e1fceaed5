package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/ads"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/commerce"
	"github.com/limelight-hq/limelight/internal/forecast"
	"github.com/limelight-hq/limelight/internal/payouts"
	"github.com/limelight-hq/limelight/internal/tips"
)

// moneyConfig holds the rules of the money services.
type moneyConfig struct {
	tips     tips.Config
	ads      ads.Config
	commerce commerce.Config
}

func defaultMoneyConfig() moneyConfig {
	return moneyConfig{tips: tips.DefaultConfig(), ads: ads.DefaultConfig(), commerce: commerce.DefaultConfig()}
}

// orZero is *p, or T's zero value for a nil p.
func orZero[T any](p *T) T {
	var zero T
	return deref(p, zero)
}

// contentRefs describes the content ads run beside, in the order given.
func contentRefs(ctx context.Context, c *ent.Client, ids []pulid.ID) ([]ads.ContentRef, error) {
	if len(ids) > 100 {
		return nil, apperr.Errorf(apperr.BadInput, "at most 100 contentIds")
	}
	cs, err := c.Content.Query().Where(content.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[pulid.ID]*ent.Content{}
	for _, x := range cs {
		byID[x.ID] = x
	}
	out := make([]ads.ContentRef, 0, len(ids))
	for _, id := range ids {
		x := byID[id]
		if x == nil {
			return nil, apperr.Errorf(apperr.NotFound, "content %s not found", id)
		}
		out = append(out, ads.RefOf(x))
	}
	return out, nil
}

func toPlacements(ps []ads.Placement) []*AdPlacement {
	out := make([]*AdPlacement, len(ps))
	for i, p := range ps {
		out[i] = &AdPlacement{ImpressionID: p.ImpressionID, Slot: p.Slot, Ad: p.Ad, Campaign: p.Campaign, Token: p.Token,
			ClickURL: p.ClickURL, PredictedCtr: p.PredictedCTR, PredictedCvr: p.PredictedCVR,
			ExpectedValue: p.ExpectedValue, CostMinor: int(p.CostMinor)}
		if p.Beside.ContentID != "" {
			id := p.Beside.ContentID
			out[i].ContentID = &id
		}
	}
	return out
}

func toAdEventResult(e *ads.Event) *AdEventResult {
	return &AdEventResult{ID: e.ID, Kind: e.Kind, CostMinor: int(e.CostMinor), RevenueMinor: int(e.RevenueMinor), Duplicate: e.Duplicate}
}

func (r *Resolver) toEarnings(ctx context.Context, id pulid.ID, from, to time.Time, es []payouts.Earnings) (*InfluencerEarnings, error) {
	inf, err := r.client.Influencer.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &InfluencerEarnings{Influencer: inf, From: from, To: to, ByCurrency: []*Earnings{}}
	for _, e := range es {
		out.ByCurrency = append(out.ByCurrency, &Earnings{Currency: e.Currency, AdsMinor: int(e.Ads),
			CommissionsMinor: int(e.Commissions), TipsMinor: int(e.Tips), TotalMinor: int(e.Total), PaidOutMinor: int(e.PaidOut),
			PendingMinor: int(e.Pending), AvailableMinor: int(e.Available), InPayoutMinor: int(e.InPayout)})
	}
	return out, nil
}

// forecastCurrency is the currency a creator earned most in over the last
// 90 days, or USD if they earned nothing.
func (r *Resolver) forecastCurrency(ctx context.Context, id pulid.ID) (string, error) {
	now := r.now()
	es, err := payouts.ForInfluencer(ctx, r.client, id, now.AddDate(0, 0, -forecast.History), now, now)
	if err != nil {
		return "", err
	}
	best, cur := int64(-1), "USD"
	for _, e := range es {
		if e.Total > best {
			best, cur = e.Total, e.Currency
		}
	}
	return cur, nil
}

func (r *Resolver) toForecast(ctx context.Context, f *forecast.Result, days int) (*RevenueForecast, error) {
	inf, err := r.client.Influencer.Get(ctx, f.InfluencerID)
	if err != nil {
		return nil, err
	}
	out := &RevenueForecast{Influencer: inf, Currency: f.Currency, Days: days, TotalMinor: int(f.TotalMinor),
		Intercept: f.Intercept, Rmse: f.RMSE, R2: f.R2, HistoryDays: len(f.History)}
	for i, name := range forecast.Regressors {
		out.Coefficients = append(out.Coefficients, &ForecastCoefficient{Name: name, Value: f.Coefficients[i]})
	}
	for _, d := range f.Forecast {
		out.Forecast = append(out.Forecast, &ForecastDay{Day: d.Day, RevenueMinor: int(d.RevenueMinor),
			Impressions: d.X[0], Clicks: d.X[1], Conversions: d.X[2], Tips: d.X[3]})
	}
	return out, nil
}

// Redirect serves GET /r/{token}: an ad click token (signed; a forged or
// tampered one is rejected with 400 and counted) or a product link code
// (with the clicking user in the optional u parameter). Either is recorded
// and answered with a 302 to the ad's or the product's URL.
func (r *Resolver) Redirect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		code := req.PathValue("token")
		var target string
		var err error
		if strings.Contains(code, ".") {
			var ev *ads.Event
			if ev, err = ads.Click(req.Context(), r.client, r.money.ads, code, r.now()); err == nil {
				target = ev.TargetURL
			}
		} else {
			target, _, err = commerce.Click(req.Context(), r.client, code, pulid.ID(req.URL.Query().Get("u")), r.now())
		}
		if err != nil {
			status := http.StatusInternalServerError
			var ae *apperr.Error
			switch {
			case errors.As(err, &ae) && ae.Code == apperr.BadInput:
				status = http.StatusBadRequest
			case errors.As(err, &ae) && ae.Code == apperr.NotFound:
				status = http.StatusNotFound
			default:
				r.log.ErrorContext(req.Context(), "redirect", "err", err)
			}
			http.Error(w, http.StatusText(status)+": "+apperr.MessageOf(err), status)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, req, target, http.StatusFound)
	})
}
