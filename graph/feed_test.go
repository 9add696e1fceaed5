package graph_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
)

// feedWorld seeds a small world, starts the built-in rankers as plugins and
// trains them, and serves the API over it.
func feedWorld(t *testing.T, st *store.Store) (*graphtest.Server, *feed.Service, *seed.World, *seed.IDs) {
	t.Helper()
	ctx := context.Background()
	cfg := seed.Demo()
	cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions = 300, 30, 600, 12000
	cfg.Now = now.Truncate(24 * time.Hour)
	w, ids := seed.MustLoad(t, st.Client, cfg)
	h, err := host.New(ctx, host.Config{Self: os.Args[0], Builtins: builtin.Names(), CallTimeout: 2 * time.Second,
		RestartBackoff: 20 * time.Millisecond, PingInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	svc := feed.New(st.Client, st.DB, st.Dialect == dialect.Postgres, h, feed.DefaultConfig())
	for _, name := range []string{"als", "similarity"} {
		if !slices.Contains(builtin.Names(), name) {
			continue
		}
		if _, err := svc.Train(ctx, name, now); err != nil {
			t.Fatalf("train %s: %v", name, err)
		}
	}
	s := graphtest.NewFromDeps(t, st, graph.Deps{Feed: svc, Now: func() time.Time { return now }})
	return s, svc, w, ids
}

type feedResp struct {
	Recommendations struct {
		Ranker         string
		Fallback       bool
		FallbackReason *string
		TotalCount     int
		PageInfo       struct {
			HasNextPage bool
			EndCursor   string
		}
		Edges []struct {
			Cursor string
			Score  float64
			Ranker string
			Reason string
			Node   struct {
				ID       string
				Category string
			}
		}
	}
}

const feedQuery = `query($u: ID!, $first: Int, $after: String, $ranker: String, $surface: FeedSurface) {
  recommendations(userId: $u, first: $first, after: $after, ranker: $ranker, surface: $surface) {
    ranker fallback fallbackReason totalCount pageInfo { hasNextPage endCursor }
    edges { cursor score ranker reason node { ... on Content { id category } } }
  }
}`

func TestRecommendations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, svc, w, ids := feedWorld(t, st)
		uid := string(ids.Users[0])

		// Stable pages: two pages of 10 are the first 20 of one ranking, no duplicates.
		var p1, p2, all feedResp
		s.Must(feedQuery, map[string]any{"u": uid, "first": 10}, &p1)
		s.Must(feedQuery, map[string]any{"u": uid, "first": 10, "after": p1.Recommendations.PageInfo.EndCursor}, &p2)
		s.Must(feedQuery, map[string]any{"u": uid, "first": 20}, &all)
		if p1.Recommendations.Ranker != "als" || p1.Recommendations.Fallback || len(p1.Recommendations.Edges) != 10 {
			t.Fatalf("page 1 = %+v", p1.Recommendations)
		}
		var got, want []string
		for _, e := range append(p1.Recommendations.Edges, p2.Recommendations.Edges...) {
			got = append(got, e.Node.ID)
			if e.Ranker != "als" || e.Reason == "" {
				t.Errorf("edge %+v", e)
			}
		}
		for _, e := range all.Recommendations.Edges {
			want = append(want, e.Node.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages %v != one page %v", got, want)
		}
		// Nothing the user already consumed.
		consumed := map[string]bool{}
		for _, x := range w.Interactions {
			if x.User == 0 {
				consumed[string(ids.Contents[x.Content])] = true
			}
		}
		for _, id := range got {
			if consumed[id] {
				t.Errorf("feed shows consumed content %s", id)
			}
		}

		// Fold-in: a new user with three interactions in one category gets
		// that category without retraining.
		newUser := createUser(t, s, "brand_new_fan")
		var cat string
		var picks []string
		for i, c := range w.Contents {
			if cat == "" {
				cat = c.Category
			}
			if c.Category == cat && len(picks) < 3 {
				picks = append(picks, string(ids.Contents[i]))
			}
		}
		var in []map[string]any
		for _, cid := range picks {
			in = append(in, map[string]any{"userId": newUser, "contentId": cid, "kind": "LIKE", "occurredAt": now.Add(-time.Minute)})
		}
		s.Must(`mutation($in: [InteractionInput!]!) { recordInteractions(input: $in) { accepted } }`, map[string]any{"in": in}, nil)
		var fresh feedResp
		s.Must(feedQuery, map[string]any{"u": newUser, "first": 10}, &fresh)
		inCat := 0
		for _, e := range fresh.Recommendations.Edges {
			if e.Node.Category == cat {
				inCat++
			}
			if slices.Contains(picks, e.Node.ID) {
				t.Errorf("fold-in feed repeats consumed %s", e.Node.ID)
			}
		}
		if fresh.Recommendations.Ranker != "als" || fresh.Recommendations.Fallback || inCat < 6 {
			t.Fatalf("fold-in feed: ranker %s fallback %v, %d/10 in %s", fresh.Recommendations.Ranker, fresh.Recommendations.Fallback, inCat, cat)
		}

		// A user with no history at all gets the popularity fallback.
		cold := createUser(t, s, "cold_fan")
		var cf feedResp
		s.Must(feedQuery, map[string]any{"u": cold, "first": 5}, &cf)
		if cf.Recommendations.Ranker != "popular" || len(cf.Recommendations.Edges) != 5 {
			t.Fatalf("cold feed = %+v", cf.Recommendations)
		}

		// Following surface: only followed creators.
		var ff feedResp
		s.Must(feedQuery, map[string]any{"u": uid, "first": 10, "surface": "FOLLOWING"}, &ff)
		followed := map[int]bool{}
		for _, f := range w.Follows {
			if f.User == 0 {
				followed[f.Influencer] = true
			}
		}
		for _, e := range ff.Recommendations.Edges {
			c, err := st.Client.Content.Query().Where(content.ID(pulidOf(e.Node.ID))).Only(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !followed[slices.Index(ids.Influencers, c.InfluencerID)] {
				t.Errorf("FOLLOWING shows content of an unfollowed creator")
			}
		}

		// Bad input.
		s.Fail("NOT_FOUND", feedQuery, map[string]any{"u": "US01JAAAAAAAAAAAAAAAAAAAAAAA"})
		s.Fail("NOT_FOUND", feedQuery, map[string]any{"u": uid, "ranker": "nope"})
		s.Fail("BAD_INPUT", feedQuery, map[string]any{"u": uid, "first": 101})
		s.Fail("BAD_INPUT", feedQuery, map[string]any{"u": uid, "after": "garbage!"})
		s.Fail("BAD_INPUT", feedQuery, map[string]any{"u": uid, "after": p1.Recommendations.PageInfo.EndCursor, "ranker": "popular"})

		// Retraining makes old cursors stale rather than silently duplicating.
		s.Must(`mutation { trainRanker(name: "als") { ranker modelVersion interactions } }`, nil, nil)
		s.Fail("BAD_INPUT", feedQuery, map[string]any{"u": uid, "after": p1.Recommendations.PageInfo.EndCursor})
		s.Fail("NOT_FOUND", `mutation { trainRanker(name: "nope") { ranker } }`, nil)

		// The rankers query reports models.
		var rk struct {
			Rankers []struct {
				Name, Status  string
				ModelVersion  *string
				LastTrainedAt *time.Time
				Capabilities  []string
			}
		}
		s.Must(`{ rankers { name status modelVersion lastTrainedAt capabilities } }`, nil, &rk)
		for _, r := range rk.Rankers {
			if r.Status != "RUNNING" || r.ModelVersion == nil || r.LastTrainedAt == nil || len(r.Capabilities) == 0 {
				t.Errorf("ranker %+v", r)
			}
		}

		// Similar content and recommended creators.
		var sim struct {
			SimilarContent struct {
				Ranker string
				Edges  []struct{ Node struct{ ID, Category string } }
			}
		}
		s.Must(`query($c: ID!) { similarContent(contentId: $c, first: 5) { ranker edges { node { ... on Content { id category } } } } }`,
			map[string]any{"c": string(ids.Contents[0])}, &sim)
		if len(sim.SimilarContent.Edges) == 0 {
			t.Fatalf("no similar content")
		}
		for _, e := range sim.SimilarContent.Edges {
			if e.Node.ID == string(ids.Contents[0]) {
				t.Errorf("similar content includes itself")
			}
		}
		var ri struct {
			RecommendedInfluencers []struct {
				Influencer struct{ ID string }
				Score      float64
			}
		}
		s.Must(`query($u: ID!) { recommendedInfluencers(userId: $u, first: 5) { influencer { id } score } }`, map[string]any{"u": uid}, &ri)
		if len(ri.RecommendedInfluencers) == 0 {
			t.Fatalf("no recommended influencers")
		}
		for _, r := range ri.RecommendedInfluencers {
			for i, id := range ids.Influencers {
				if string(id) == r.Influencer.ID && followed[i] {
					t.Errorf("recommends an already followed creator")
				}
			}
		}

		// Kill the ALS plugin: the feed still answers (fallback), and ALS comes back.
		pid := 0
		for _, r := range svc.Rankers() {
			if r.Name == "als" {
				pid = r.PID
			}
		}
		if pid == 0 {
			t.Fatal("no als pid")
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var fb feedResp
		s.Must(feedQuery, map[string]any{"u": uid, "first": 5}, &fb)
		if len(fb.Recommendations.Edges) != 5 {
			t.Fatalf("feed empty after plugin crash: %+v", fb.Recommendations)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			s.Must(feedQuery, map[string]any{"u": uid, "first": 5}, &fb)
			if fb.Recommendations.Ranker == "als" && !fb.Recommendations.Fallback {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("als did not come back: %+v", fb.Recommendations)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func pulidOf(s string) pulid.ID { return pulid.ID(s) }

func TestSponsoredSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _, _, ids := feedWorld(t, st)
		uid := string(ids.Users[1])
		partner := createPartner(t, s, "Acme")
		var c struct{ CreateCampaign struct{ ID string } }
		s.Must(`mutation($p: ID!, $s: Time!, $e: Time!) {
		  createCampaign(input: {partnerId: $p, name: "Everything", budgetMinor: 100000, pricing: CPM, bidMinor: 2000, startsAt: $s, endsAt: $e}) { id } }`,
			map[string]any{"p": partner, "s": now.Add(-time.Hour), "e": now.Add(time.Hour)}, &c)
		s.Must(`mutation($c: ID!) { createAd(input: {campaignId: $c, title: "Knives", targetUrl: "https://acme.example/knives"}) { id } }`,
			map[string]any{"c": c.CreateCampaign.ID}, nil)
		var c2 struct{ CreateCampaign struct{ ID string } }
		s.Must(`mutation($p: ID!, $s: Time!, $e: Time!) {
		  createCampaign(input: {partnerId: $p, name: "Pans", budgetMinor: 100000, pricing: CPM, bidMinor: 1000, startsAt: $s, endsAt: $e}) { id } }`,
			map[string]any{"p": partner, "s": now.Add(-time.Hour), "e": now.Add(time.Hour)}, &c2)
		s.Must(`mutation($c: ID!) { createAd(input: {campaignId: $c, title: "Pans", targetUrl: "https://acme.example/pans"}) { id } }`,
			map[string]any{"c": c2.CreateCampaign.ID}, nil)

		const q = `query($u: ID!, $first: Int, $after: String, $sp: Boolean) {
		  recommendations(userId: $u, first: $first, after: $after, sponsored: $sp) {
		    pageInfo { hasNextPage endCursor }
		    edges { cursor ranker node { __typename ... on Content { id } ... on SponsoredContent { id clickUrl label ad { title } } } } } }`
		type page struct {
			Recommendations struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Ranker string
					Node   struct {
						Typename string `json:"__typename"`
						ID       string
						ClickURL string
						Ad       struct{ Title string }
					}
				}
			}
		}
		var organic page
		s.Must(q, map[string]any{"u": uid, "first": 20, "sp": false}, &organic)
		var p1, p2 page
		s.Must(q, map[string]any{"u": uid, "first": 10}, &p1)
		s.Must(q, map[string]any{"u": uid, "first": 10, "after": p1.Recommendations.PageInfo.EndCursor}, &p2)
		var got []string
		for pi, p := range []page{p1, p2} {
			if len(p.Recommendations.Edges) != 10 {
				t.Fatalf("page %d has %d edges", pi, len(p.Recommendations.Edges))
			}
			for i, e := range p.Recommendations.Edges {
				isAd := e.Node.Typename == "SponsoredContent"
				if isAd != (i == 4 || i == 9) {
					t.Fatalf("page %d edge %d: %s", pi, i, e.Node.Typename)
				}
				if isAd {
					if e.Ranker != "ads" || !strings.HasPrefix(e.Node.ClickURL, "/r/") || e.Node.Ad.Title == "" {
						t.Errorf("ad edge %+v", e)
					}
					continue
				}
				got = append(got, e.Node.ID)
			}
		}
		var want []string
		for _, e := range organic.Recommendations.Edges[:16] {
			want = append(want, e.Node.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("organic items across sponsored pages %v, want %v", got, want)
		}
		// Four impressions were recorded as served, and charged (CPM).
		if n := count(t, st, "ad_events"); n != 4 {
			t.Fatalf("recorded %d ad events, want 4", n)
		}
		if spent(t, st, c.CreateCampaign.ID) <= 0 {
			t.Fatalf("CPM campaign was not charged")
		}
	})
}
