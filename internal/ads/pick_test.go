package ads_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/ad"
	"github.com/limelight-hq/limelight/ent/campaign"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/ads"
	"github.com/limelight-hq/limelight/internal/commerce"
	"github.com/limelight-hq/limelight/internal/ledger"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type fixture struct {
	c       *ent.Client
	partner pulid.ID
	fan     pulid.ID
	ramen   ads.ContentRef
	games   ads.ContentRef
}

func newFixture(t testing.TB, st *store.Store) *fixture {
	ctx := context.Background()
	c := st.Client
	p, err := commerce.CreatePartner(ctx, c, "Acme", "USD")
	if err != nil {
		t.Fatal(err)
	}
	inf := c.Influencer.Create().SetHandle("chef_anna").SaveX(ctx)
	fan := c.User.Create().SetHandle("fan_one").SaveX(ctx)
	return &fixture{c: c, partner: p.ID, fan: fan.ID,
		ramen: ads.ContentRef{ContentID: "CO01", InfluencerID: inf.ID, Tags: []string{"ramen", "cooking"}, Category: "cooking"},
		games: ads.ContentRef{ContentID: "CO02", InfluencerID: inf.ID, Tags: []string{"games"}, Category: "gaming"},
	}
}

func (f *fixture) campaign(t testing.TB, name string, pricing campaign.Pricing, bid int64, tags []string, start, end time.Time) (*ent.Campaign, *ent.Ad) {
	t.Helper()
	ctx := context.Background()
	c, err := ads.CreateCampaign(ctx, f.c, ads.CampaignInput{PartnerID: f.partner, Name: name, BudgetMinor: 1_000_000, Pricing: pricing,
		BidMinor: bid, StartsAt: start, EndsAt: end, TargetTags: tags})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ads.CreateAd(ctx, f.c, ads.AdInput{CampaignID: c.ID, Title: name, TargetURL: "https://acme.example/" + name})
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

func names(ps []ads.Placement) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Ad.Title)
	}
	return out
}

func TestPickByExpectedValue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		live := []time.Time{now.Add(-time.Hour), now.Add(time.Hour)}
		f.campaign(t, "broad", campaign.PricingCPC, 100, nil, live[0], live[1])              // EV 100 × 1% = 1.0
		f.campaign(t, "ramen", campaign.PricingCPC, 60, []string{"ramen"}, live[0], live[1]) // 0.6, ×3 for a ramen fan
		f.campaign(t, "later", campaign.PricingCPM, 90_000, nil, now.Add(time.Hour), now.Add(2*time.Hour))
		f.campaign(t, "over", campaign.PricingCPM, 90_000, nil, now.Add(-2*time.Hour), now.Add(-time.Hour))
		_, paused := f.campaign(t, "paused", campaign.PricingCPM, 90_000, nil, live[0], live[1])
		f.c.Ad.UpdateOne(paused).SetStatus(ad.StatusPAUSED).ExecX(ctx)

		pick := func(interests map[string]float64, beside ads.ContentRef, slots int) []string {
			ps, err := ads.Pick(ctx, f.c, ads.Request{UserID: f.fan, Slots: slots, Context: []ads.ContentRef{beside}, Now: now, Interests: interests})
			if err != nil {
				t.Fatal(err)
			}
			return names(ps)
		}
		if got := pick(map[string]float64{}, f.ramen, 1); !slices.Equal(got, []string{"broad"}) {
			t.Fatalf("no interests: %v, want broad", got)
		}
		if got := pick(map[string]float64{"ramen": 0.8, "cooking": 0.2}, f.ramen, 1); !slices.Equal(got, []string{"ramen"}) {
			t.Fatalf("ramen fan: %v, want ramen", got)
		}
		if got := pick(map[string]float64{"ramen": 1}, f.games, 2); !slices.Equal(got, []string{"broad"}) {
			t.Fatalf("beside games content (targeting must match): %v", got)
		}
		if got := pick(map[string]float64{"ramen": 1}, f.ramen, 5); !slices.Equal(got, []string{"ramen", "broad"}) {
			t.Fatalf("five slots: %v (one ad per campaign; none outside schedule or paused)", got)
		}
		// An ad's own history moves its CTR estimate: a 20% CTR beats the ramen boost.
		b := f.c.Ad.Query().Where(ad.Title("broad")).OnlyX(ctx)
		f.c.Ad.UpdateOne(b).SetImpressions(1000).SetClicks(200).ExecX(ctx)
		ps, err := ads.Pick(ctx, f.c, ads.Request{UserID: f.fan, Slots: 1, Context: []ads.ContentRef{f.ramen}, Now: now, Interests: map[string]float64{"ramen": 1}})
		if err != nil || len(ps) != 1 || ps[0].Ad.Title != "broad" || ps[0].PredictedCTR < 0.15 || ps[0].ExpectedValue < 15 {
			t.Fatalf("learned CTR: %+v %v", ps, err)
		}
		// The token verifies, a tampered one does not and is counted.
		id, err := ads.Verify(ctx, f.c, ps[0].Token)
		if err != nil || id != ps[0].ImpressionID {
			t.Fatalf("verify: %s %v", id, err)
		}
		before := ads.RejectedTokens()
		if _, err := ads.Verify(ctx, f.c, ps[0].Token+"x"); !errors.Is(err, ads.ErrBadToken) || ads.RejectedTokens() != before+1 {
			t.Fatalf("tampered token: %v", err)
		}
		if err := ledger.Check(ctx, f.c); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCPMSpendIsExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		// 1,234 per mille: 1.234 a impression, charged so the total never drifts.
		c, _ := f.campaign(t, "cpm", campaign.PricingCPM, 1234, nil, now.Add(-time.Hour), now.Add(time.Hour))
		for range 7 {
			if _, err := ads.Pick(ctx, f.c, ads.Request{Slots: 1, Context: []ads.ContentRef{f.ramen}, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		c = f.c.Campaign.GetX(ctx, c.ID)
		if c.Impressions != 7 || c.SpentMinor != 7*1234/1000 {
			t.Fatalf("%d impressions cost %d, want 7 and %d", c.Impressions, c.SpentMinor, 7*1234/1000)
		}
		// A budget that is not a multiple of the price: the last impression takes the rest.
		small, err := ads.CreateCampaign(ctx, f.c, ads.CampaignInput{PartnerID: f.partner, Name: "small", BudgetMinor: 105,
			Pricing: campaign.PricingCPM, BidMinor: 10_000, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), TargetTags: []string{"games"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ads.CreateAd(ctx, f.c, ads.AdInput{CampaignID: small.ID, Title: "small", TargetURL: "https://acme.example/s"}); err != nil {
			t.Fatal(err)
		}
		served := 0
		for range 15 {
			ps, err := ads.Pick(ctx, f.c, ads.Request{Slots: 1, Context: []ads.ContentRef{f.games}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Campaign.ID == small.ID {
					served++
				}
			}
		}
		if small = f.c.Campaign.GetX(ctx, small.ID); served != 11 || small.SpentMinor != 105 {
			t.Fatalf("budget 105 at 10 per impression: %d served, %d spent; want 11 and 105", served, small.SpentMinor)
		}
		c = f.c.Campaign.GetX(ctx, c.ID)
		creator, _ := ledger.Balance(ctx, f.c, ledger.Creator(f.ramen.InfluencerID, ledger.Available, "USD"))
		platform, _ := ledger.Balance(ctx, f.c, ledger.Platform("USD"))
		if creator+platform != c.SpentMinor+small.SpentMinor {
			t.Fatalf("creator %d + platform %d != spend %d + %d", creator, platform, c.SpentMinor, small.SpentMinor)
		}
	})
}

func TestPositions(t *testing.T) {
	if got := ads.Positions(20, 5); !slices.Equal(got, []int{4, 9, 14, 19}) {
		t.Fatalf("Positions(20, 5) = %v", got)
	}
	if got := ads.Positions(20, 0); len(got) != 0 {
		t.Fatalf("no ad load: %v", got)
	}
}
