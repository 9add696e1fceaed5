package experiment_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/conversion"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/experiment"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Reference values computed by hand from the formulas (Wilson score
// interval with z = 1.95996; pooled two-proportion z-test).
func TestWilsonAndZTest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		x, n    int
		lo, hi  float64
		comment string
	}{
		{0, 10, 0, 0.2775327998628892, "no successes: the interval still has width"},
		{5, 10, 0.236593090512564, 0.7634069094874361, "symmetric around 1/2"},
		{2, 20, 0.027866481213768224, 0.3010336452284873, "skewed"},
		{0, 0, 0, 1, "no trials: everything is possible"},
	} {
		lo, hi := experiment.Wilson(c.x, c.n)
		if !near(lo, c.lo, 1e-12) || !near(hi, c.hi, 1e-12) {
			t.Errorf("Wilson(%d, %d) = [%v, %v], want [%v, %v] (%s)", c.x, c.n, lo, hi, c.lo, c.hi, c.comment)
		}
	}
	// 50/1000 vs 80/1000: pooled p = 0.065, se = sqrt(p(1-p)·2/1000),
	// z = 0.03/se = 2.7211, two-sided p = erfc(z/√2) = 0.0065066.
	if p := experiment.TwoProportionP(50, 1000, 80, 1000); !near(p, 0.006506597483637838, 1e-12) {
		t.Errorf("TwoProportionP(50/1000, 80/1000) = %v", p)
	}
	if p := experiment.TwoProportionP(10, 100, 10, 100); p != 1 {
		t.Errorf("equal rates: p = %v, want 1", p)
	}
	if p := experiment.TwoProportionP(0, 0, 1, 10); p != 1 {
		t.Errorf("empty sample: p = %v, want 1", p)
	}
}

func TestVariantOfIsStableAndWeighted(t *testing.T) {
	t.Parallel()
	e := &ent.Experiment{ID: "EX01", Variants: []schema.Variant{{Ranker: "popular", Weight: 1}, {Ranker: "als", Weight: 3}}}
	other := &ent.Experiment{ID: "EX02", Variants: e.Variants}
	counts := [2]int{}
	same := 0
	const n = 20000
	for i := range n {
		u := pulid.ID(fmt.Sprintf("US%06d", i))
		v := experiment.VariantOf(e, u)
		if v != experiment.VariantOf(e, u) {
			t.Fatal("assignment is not stable")
		}
		counts[v]++
		if experiment.VariantOf(other, u) == v {
			same++
		}
	}
	// 1:3 weights: a quarter of the users, within 5 standard deviations.
	sd := math.Sqrt(n * 0.25 * 0.75)
	if math.Abs(float64(counts[0])-n/4) > 5*sd {
		t.Errorf("variant 0 got %d of %d users, want about %d", counts[0], n, n/4)
	}
	// Another experiment reshuffles: agreement is what chance gives,
	// 1/16 + 9/16 = 5/8, not 1.
	if math.Abs(float64(same)/n-0.625) > 0.03 {
		t.Errorf("two experiments agree on %d of %d users: assignments are correlated", same, n)
	}
}

func TestCreateStopAndResults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		known := func(n string) bool { return n == "als" || n == "popular" }
		for name, vs := range map[string][]schema.Variant{
			"one variant":    {{Ranker: "als", Weight: 1}},
			"unknown ranker": {{Ranker: "als", Weight: 1}, {Ranker: "magic", Weight: 1}},
			"zero weight":    {{Ranker: "als", Weight: 0}, {Ranker: "popular", Weight: 1}},
		} {
			if _, err := experiment.Create(ctx, c, "x", vs, known, now); apperr.CodeOf(err) != apperr.BadInput {
				t.Errorf("%s: err = %v, want BAD_INPUT", name, err)
			}
		}
		vs := []schema.Variant{{Ranker: "popular", Weight: 1}, {Ranker: "als", Weight: 1}}
		e, err := experiment.Create(ctx, c, "als-vs-popular", vs, known, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := experiment.Create(ctx, c, "second", vs, known, now); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a second running experiment: err = %v, want CONFLICT", err)
		}
		if r, id, ok, err := experiment.Assign(ctx, c, "US1"); err != nil || !ok || id != e.ID || r != vs[experiment.VariantOf(e, "US1")].Ranker {
			t.Errorf("Assign = %q %q %v %v", r, id, ok, err)
		}

		// Users, each with some feed-served views and clicks inside the
		// window; noise outside it or not served by a feed.
		inf := c.Influencer.Create().SetHandle("creator").SaveX(ctx)
		co := c.Content.Create().SetInfluencerID(inf.ID).SetKind("VIDEO").SetTitle("t").SaveX(ctx)
		type tally struct {
			users, views, clicks, conversions int
			revenue                           int64
		}
		want := [2]tally{}
		for i := range 40 {
			u := c.User.Create().SetHandle(fmt.Sprintf("user_%02d", i)).SaveX(ctx)
			v := experiment.VariantOf(e, u.ID)
			views, clicks := 3+i%4, i%3
			want[v].users++
			want[v].views += views
			want[v].clicks += clicks
			add := func(k interaction.Kind, n int, ranker string, at time.Time) {
				for range n {
					c.Interaction.Create().SetUserID(u.ID).SetContentID(co.ID).SetKind(k).SetRanker(ranker).SetOccurredAt(at).ExecX(ctx)
				}
			}
			add(interaction.KindVIEW, views, vs[v].Ranker, now.Add(time.Minute))
			add(interaction.KindCLICK, clicks, vs[v].Ranker, now.Add(2*time.Minute))
			add(interaction.KindVIEW, 2, "", now.Add(time.Minute))            // not from a feed
			add(interaction.KindVIEW, 2, vs[v].Ranker, now.Add(-time.Minute)) // before the experiment
			add(interaction.KindLIKE, 1, vs[v].Ranker, now.Add(time.Minute))  // neither impression nor click
			// Every third user buys: one sale counts, a reversed one and one
			// before the experiment do not.
			if i%3 == 0 {
				sale := func(key string, amount int64, at time.Time, status conversion.Status) {
					c.Conversion.Create().SetLinkID("PL1").SetPartnerID("PA1").SetInfluencerID(inf.ID).SetUserID(u.ID).
						SetOrderRef(key).SetAmountMinor(amount).SetCommissionMinor(0).SetIdempotencyKey(key).SetRequestHash("h").
						SetCurrency("USD").SetStatus(status).SetOccurredAt(at).SetAvailableAt(at).ExecX(ctx)
				}
				sale(fmt.Sprintf("ok-%d", i), int64(1000+i), now.Add(3*time.Minute), conversion.StatusPENDING)
				sale(fmt.Sprintf("rev-%d", i), 5000, now.Add(3*time.Minute), conversion.StatusREVERSED)
				sale(fmt.Sprintf("old-%d", i), 7000, now.Add(-time.Hour), conversion.StatusAVAILABLE)
				want[v].conversions++
				want[v].revenue += int64(1000 + i)
				// A tip in the window counts as revenue; one before does not.
				tipAt := func(key string, amount int64, at time.Time) {
					c.Tip.Create().SetUserID(u.ID).SetInfluencerID(inf.ID).SetAmountMinor(amount).SetFeeMinor(0).
						SetCurrency("USD").SetIdempotencyKey(key).SetTransactionID("LT1").SetCreatedAt(at).ExecX(ctx)
				}
				tipAt(fmt.Sprintf("tip-%d", i), 300, now.Add(4*time.Minute))
				tipAt(fmt.Sprintf("tip-old-%d", i), 900, now.Add(-time.Hour))
				want[v].revenue += 300
			}
		}
		stopped, err := experiment.Stop(ctx, c, e.ID, now.Add(time.Hour))
		if err != nil || stopped.StoppedAt == nil {
			t.Fatalf("stop: %v", err)
		}
		if _, _, ok, _ := experiment.Assign(ctx, c, "US1"); ok {
			t.Error("a stopped experiment still assigns")
		}
		res, err := experiment.Compute(ctx, c, e.ID, now.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !res.To.Equal(now.Add(time.Hour)) {
			t.Errorf("window ends %v, want the stop time", res.To)
		}
		for i, v := range res.Variants {
			w := want[i]
			if v.Users != w.users || v.Impressions != w.views || v.Clicks != w.clicks {
				t.Errorf("variant %d: users %d views %d clicks %d, want %+v", i, v.Users, v.Impressions, v.Clicks, w)
			}
			if !near(v.CTR, float64(w.clicks)/float64(w.views), 1e-12) || v.CTRInterval.Low > v.CTR || v.CTRInterval.High < v.CTR {
				t.Errorf("variant %d: CTR %v in %+v", i, v.CTR, v.CTRInterval)
			}
			if v.Conversions != w.conversions || len(v.Revenue) != 1 || v.Revenue[0].Currency != "USD" ||
				v.Revenue[0].TotalMinor != w.revenue || !near(v.Revenue[0].PerUserMinor, float64(w.revenue)/float64(w.users), 1e-9) {
				t.Errorf("variant %d: conversions %d revenue %+v, want %d and %d USD", i, v.Conversions, v.Revenue, w.conversions, w.revenue)
			}
		}
		if res.Variants[0].CTRPValue != nil || res.Variants[1].CTRPValue == nil {
			t.Error("p-value must be set for the second variant only")
		}
		if _, err := experiment.Compute(ctx, c, "EXnope", now); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("unknown experiment: %v", err)
		}
		// Stopped: a new one may start.
		if _, err := experiment.Create(ctx, c, "second", vs, known, now); err != nil {
			t.Errorf("create after stop: %v", err)
		}
		if _, err := experiment.Create(ctx, c, "als-vs-popular", vs, known, now); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("reused name: %v", err)
		}
	})
}

// Experiments started at the same moment: exactly one runs.
func TestConcurrentStartsRunOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		vs := []schema.Variant{{Ranker: "popular", Weight: 1}, {Ranker: "als", Weight: 1}}
		known := func(string) bool { return true }
		now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				_, err := experiment.Create(ctx, st.Client, fmt.Sprintf("race-%d", i), vs, known, now)
				errs <- err
			}()
		}
		ok := 0
		for range 8 {
			switch err := <-errs; {
			case err == nil:
				ok++
			case apperr.CodeOf(err) != apperr.Conflict:
				t.Errorf("losing start: %v, want CONFLICT", err)
			}
		}
		running, err := st.Client.Experiment.Query().Count(ctx)
		if ok != 1 || err != nil || running != 1 {
			t.Fatalf("%d starts succeeded, %d experiments stored (%v)", ok, running, err)
		}
	})
}
