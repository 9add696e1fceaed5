package stats_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/stats"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// World is a partner with one campaign and a few ads.
type World struct {
	Campaign *ent.Campaign
	Ads      []pulid.ID
}

// NewWorld makes a partner, a campaign and n ads.
func NewWorld(t testing.TB, c *ent.Client, n int) World {
	t.Helper()
	ctx := context.Background()
	p := c.Partner.Create().SetName("Acme").SetCurrency("EUR").SaveX(ctx)
	camp := c.Campaign.Create().SetPartnerID(p.ID).SetName("Spring").SetCurrency("EUR").SetBudgetMinor(1_000_000_00).
		SetPricing("CPM").SetBidMinor(500).SetStartsAt(day0).SetEndsAt(day0.AddDate(1, 0, 0)).SaveX(ctx)
	w := World{Campaign: camp}
	for i := range n {
		a := c.Ad.Create().SetCampaignID(camp.ID).SetTitle(fmt.Sprintf("ad %d", i)).SetTargetURL("https://acme.example/").SaveX(ctx)
		w.Ads = append(w.Ads, a.ID)
	}
	return w
}

type event struct {
	ad, inf, content pulid.ID
	kind             adevent.Kind
	cost, revenue    int64
	at               time.Time
}

func randomEvents(w World, n int, seed uint64) []event {
	r := rand.New(rand.NewPCG(seed, 7))
	infs := []pulid.ID{"", pulid.MustNew("IN"), pulid.MustNew("IN"), pulid.MustNew("IN")}
	contents := map[pulid.ID][]pulid.ID{}
	for _, i := range infs {
		for range 3 {
			contents[i] = append(contents[i], pulid.MustNew("CO"))
		}
	}
	out := make([]event, n)
	for k := range out {
		e := event{ad: w.Ads[r.IntN(len(w.Ads))], inf: infs[r.IntN(len(infs))], at: day0.Add(time.Duration(r.Int64N(int64(12 * 24 * time.Hour))))}
		if e.inf != "" {
			e.content = contents[e.inf][r.IntN(3)]
		}
		switch x := r.IntN(100); {
		case x < 85:
			e.kind, e.cost = adevent.KindIMPRESSION, int64(r.IntN(3))
		case x < 97:
			e.kind, e.cost = adevent.KindCLICK, int64(10+r.IntN(40))
		default:
			e.kind, e.cost, e.revenue = adevent.KindCONVERSION, int64(r.IntN(200)), int64(500+r.IntN(10000))
		}
		out[k] = e
	}
	return out
}

func create(c *ent.Client, campaignID pulid.ID, e event) *ent.AdEventCreate {
	b := c.AdEvent.Create().SetCampaignID(campaignID).SetAdID(e.ad).SetKind(e.kind).
		SetCostMinor(e.cost).SetRevenueMinor(e.revenue).SetOccurredAt(e.at)
	if e.inf != "" {
		b.SetInfluencerID(e.inf).SetContentID(e.content)
	}
	return b
}

// recount aggregates raw ad_events rows, read back from the database, the
// slow and obvious way: the reference campaignStats must equal.
func recount(t *testing.T, c *ent.Client, campaignID pulid.ID, from, to time.Time, dims []stats.Dimension) (stats.Counts, map[string]stats.Counts) {
	t.Helper()
	evs := c.AdEvent.Query().Where(adevent.CampaignID(campaignID)).AllX(context.Background())
	var total stats.Counts
	groups := map[string]stats.Counts{}
	for _, e := range evs {
		if e.OccurredAt.Before(from) || !e.OccurredAt.Before(to) {
			continue
		}
		var k string
		for _, d := range dims {
			switch d {
			case stats.ByDay:
				k += stats.Day(e.OccurredAt).Format("2006-01-02") + "|"
			case stats.ByAd:
				k += string(e.AdID) + "|"
			case stats.ByInfluencer:
				k += string(e.InfluencerID) + "|"
			case stats.ByContent:
				k += string(e.ContentID) + "|"
			}
		}
		g := groups[k]
		for _, x := range []*stats.Counts{&total, &g} {
			switch e.Kind {
			case adevent.KindIMPRESSION:
				x.Impressions++
			case adevent.KindCLICK:
				x.Clicks++
			case adevent.KindCONVERSION:
				x.Conversions++
			}
			x.SpendMinor += e.CostMinor
			x.RevenueMinor += e.RevenueMinor
		}
		groups[k] = g
	}
	return total, groups
}

func key(g stats.Group, dims []stats.Dimension) string {
	var k string
	for _, d := range dims {
		switch d {
		case stats.ByDay:
			k += g.Day.Format("2006-01-02") + "|"
		case stats.ByAd:
			k += string(g.AdID) + "|"
		case stats.ByInfluencer:
			k += string(g.InfluencerID) + "|"
		case stats.ByContent:
			k += string(g.ContentID) + "|"
		}
	}
	return k
}

var groupings = [][]stats.Dimension{
	nil,
	{stats.ByDay},
	{stats.ByAd},
	{stats.ByInfluencer},
	{stats.ByContent},
	{stats.ByDay, stats.ByAd},
	{stats.ByInfluencer, stats.ByContent},
	{stats.ByDay, stats.ByInfluencer, stats.ByContent, stats.ByAd},
}

// checkAgainstRecount compares campaignStats with a recount of the raw
// events for several windows and every grouping.
func checkAgainstRecount(t *testing.T, c *ent.Client, campaignID pulid.ID) {
	t.Helper()
	ctx := context.Background()
	windows := [][2]time.Time{{day0, day0.AddDate(0, 0, 12)}, {day0.AddDate(0, 0, 3), day0.AddDate(0, 0, 5)}, {day0.AddDate(0, 0, -5), day0.AddDate(0, 1, 0)}}
	for _, win := range windows {
		for _, dims := range groupings {
			rep, err := stats.CampaignStats(ctx, c, campaignID, win[0], win[1], dims)
			if err != nil {
				t.Fatalf("CampaignStats %v: %v", dims, err)
			}
			total, groups := recount(t, c, campaignID, win[0], win[1], dims)
			if rep.Total != total {
				t.Fatalf("window %v dims %v: total %+v, recount %+v", win, dims, rep.Total, total)
			}
			if len(dims) == 0 {
				continue
			}
			got := map[string]stats.Counts{}
			for _, g := range rep.Groups {
				got[key(g, dims)] = g.Counts
			}
			if !reflect.DeepEqual(got, groups) {
				t.Fatalf("window %v dims %v: %d groups differ from the recount's %d", win, dims, len(got), len(groups))
			}
		}
	}
}

func TestCampaignStatsEqualsRecount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		w := NewWorld(t, c, 3)
		evs := randomEvents(w, 3000, 1)
		// Most events in transactions of bulk inserts (as the ad server
		// posts them), some one by one outside any transaction.
		for i := 0; i < 2800; i += 400 {
			tx, err := c.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var bs []*ent.AdEventCreate
			for _, e := range evs[i : i+400] {
				bs = append(bs, create(tx.Client(), w.Campaign.ID, e))
			}
			if err := tx.AdEvent.CreateBulk(bs...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range evs[2800:] {
			create(c, w.Campaign.ID, e).SaveX(ctx)
		}
		// A rolled-back transaction leaves no trace in the rollup.
		tx, _ := c.Tx(ctx)
		create(tx.Client(), w.Campaign.ID, evs[0]).SaveX(ctx)
		tx.Rollback()
		// Another campaign's events are not counted.
		other := NewWorld(t, c, 1)
		for _, e := range randomEvents(other, 50, 2) {
			create(c, other.Campaign.ID, e).SaveX(ctx)
		}
		if n := c.AdEvent.Query().Where(adevent.CampaignID(w.Campaign.ID)).CountX(ctx); n != 3000 {
			t.Fatalf("stored %d events, want 3000", n)
		}
		checkAgainstRecount(t, c, w.Campaign.ID)

		// Rebuild from raw events gives the same numbers.
		if err := stats.Rebuild(ctx, c, w.Campaign.ID); err != nil {
			t.Fatal(err)
		}
		checkAgainstRecount(t, c, w.Campaign.ID)

		// Ratios come from the sums.
		rep, err := stats.CampaignStats(ctx, c, w.Campaign.ID, day0, day0.AddDate(0, 0, 12), nil)
		if err != nil {
			t.Fatal(err)
		}
		tot := rep.Total
		if *tot.CTR() != float64(tot.Clicks)/float64(tot.Impressions) || *tot.ROAS() != float64(tot.RevenueMinor)/float64(tot.SpendMinor) ||
			*tot.CPM() != 1000*float64(tot.SpendMinor)/float64(tot.Impressions) {
			t.Fatalf("ratios wrong: %+v", tot)
		}
		if (stats.Counts{}).CTR() != nil || (stats.Counts{}).CPA() != nil {
			t.Fatal("ratios over zero must be nil")
		}
	})
}

func TestAdEventsAreImmutable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := NewWorld(t, st.Client, 1)
		e := create(st.Client, w.Campaign.ID, randomEvents(w, 1, 3)[0]).SaveX(ctx)
		if err := e.Update().SetCostMinor(999).Exec(ctx); !errors.Is(err, stats.ErrImmutable) {
			t.Fatalf("update cost: %v", err)
		}
		if err := st.Client.AdEvent.DeleteOneID(e.ID).Exec(ctx); !errors.Is(err, stats.ErrImmutable) {
			t.Fatalf("delete: %v", err)
		}
		// Dropping the fan (privacy) is allowed: it changes no number.
		if err := e.Update().ClearUserID().Exec(ctx); err != nil {
			t.Fatalf("clear user: %v", err)
		}
	})
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)
	from, to, err := stats.Window(nil, nil, now)
	if err != nil || !to.Equal(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)) || !from.Equal(to.AddDate(0, 0, -30)) {
		t.Fatalf("default window %v..%v %v", from, to, err)
	}
	a, b := now, now.AddDate(0, 0, -2)
	if _, _, err := stats.Window(&a, &b, now); err == nil {
		t.Fatal("from after to accepted")
	}
	mid := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if _, to, _ := stats.Window(nil, &mid, now); !to.Equal(mid) {
		t.Fatalf("midnight to rounded: %v", to)
	}
}

func TestAudienceNeverShowsSmallGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		inf := c.Influencer.Create().SetHandle("chef").SaveX(ctx)
		countries := map[string]int{"DE": 12, "FR": 10, "US": 2, "IT": 1}
		i := 0
		for cc, n := range countries {
			for range n {
				u := c.User.Create().SetHandle(fmt.Sprintf("fan_%d", i)).SetCountry(cc).SaveX(ctx)
				c.Follow.Create().SetUserID(u.ID).SetInfluencerID(inf.ID).SaveX(ctx)
				i++
			}
		}
		// A non-follower does not count.
		c.User.Create().SetHandle("stranger").SetCountry("US").SaveX(ctx)
		a, err := stats.AudienceOf(ctx, c, inf.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		// US (2) and IT (1) merge into other (3), still under 10, so the
		// smallest named group (FR, 10) joins it.
		want := []stats.Bucket{{Key: "other", Count: 13}, {Key: "DE", Count: 12}}
		sort.Slice(a.Countries, func(i, j int) bool { return a.Countries[i].Count > a.Countries[j].Count })
		if a.Followers != 25 || !reflect.DeepEqual(a.Countries, want) {
			t.Fatalf("audience %d %+v, want %+v", a.Followers, a.Countries, want)
		}
		// No fan stated an age: one "unknown" group of 25.
		if !reflect.DeepEqual(a.AgeBrackets, []stats.Bucket{{Key: "unknown", Count: 25}}) {
			t.Fatalf("ages %+v", a.AgeBrackets)
		}
		for _, b := range append(a.Countries, a.AgeBrackets...) {
			if b.Count < 10 {
				t.Fatalf("group %+v under the minimum", b)
			}
		}
	})
}
