package graph_test

import (
	"testing"
	"time"

	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// Regression tests for holes found by a black-box audit.
func TestAuditFindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		w := newAdWorld(t, s, "CPA", 10_000, 300, 0)
		const ev = `mutation($t: String!, $kind: AdEventKind!, $k: String!) {
		  recordAdEvent(token: $t, kind: $kind, revenueMinor: 100, idempotencyKey: $k) { costMinor } }`

		// Another partner (or an app) may not report sales on this partner's ads.
		ps := w.serve(t, 1)
		s.Must(ev, map[string]any{"t": ps[0].Token, "kind": "CLICK", "k": "c1"}, nil)
		other := createPartner(t, s, "Rival")
		s.As(s.NewKey(auth.Partner, other)).Fail("FORBIDDEN", ev, map[string]any{"t": ps[0].Token, "kind": "CONVERSION", "k": "evil1"})
		s.As(s.NewKey(auth.App, "")).Fail("FORBIDDEN", ev, map[string]any{"t": ps[0].Token, "kind": "CONVERSION", "k": "evil2"})
		own := s.As(s.NewKey(auth.Partner, w.partner))
		own.Must(ev, map[string]any{"t": ps[0].Token, "kind": "CONVERSION", "k": "o1"}, nil)
		// One click converts once, whatever the key.
		own.Fail("CONFLICT", ev, map[string]any{"t": ps[0].Token, "kind": "CONVERSION", "k": "o2"})
		if got := spent(t, st, w.campaign); got != 300 {
			t.Fatalf("spent %d, want one conversion's 300", got)
		}

		// Creators may not set their own platform fee, nor move content away.
		creator := s.As(s.NewKey(auth.Influencer, w.inf))
		creator.Fail("FORBIDDEN", `mutation($i: ID!) { updateInfluencer(id: $i, input: {takeRateBps: 0}) { id } }`, map[string]any{"i": w.inf})
		s.As(s.NewKey(auth.App, "")).Fail("FORBIDDEN", `mutation { createInfluencer(input: {handle: "free_ride", takeRateBps: 0}) { id } }`, nil)
		other2 := createInfluencer(t, s, "other_chef", "cooking")
		creator.Fail("FORBIDDEN", `mutation($c: ID!, $i: ID!) { updateContent(id: $c, input: {influencerID: $i}) { id } }`, map[string]any{"c": w.con, "i": other2})
		s.Must(`mutation($i: ID!) { updateInfluencer(id: $i, input: {takeRateBps: 500}) { takeRateBps } }`, map[string]any{"i": w.inf}, nil)

		// Hidden personal data cannot be inferred through nested filters.
		s.Must(`mutation($u: ID!, $i: ID!) { follow(userId: $u, influencerId: $i) { createdAt user { handle } influencer { handle followerCount } } }`,
			map[string]any{"u": w.fan, "i": w.inf}, nil) // edges of a fresh follow resolve
		anon := s.As("")
		for _, q := range []string{
			`{ influencers(first: 1, where: {hasFollowersWith: [{handle: "fan_one", country: "DE"}]}) { totalCount } }`,
			`{ influencers(first: 1, where: {or: [{hasFollowersWith: [{ageBracket: AGE_25_34}]}]}) { totalCount } }`,
			`{ contents(first: 1, where: {hasInfluencerWith: [{takeRateBpsGT: 0}]}) { totalCount } }`,
		} {
			if r := anon.Do(q, nil); !r.HasCode("FORBIDDEN") && !r.HasCode("UNAUTHENTICATED") {
				t.Errorf("%s: codes %v, data %s", q, r.Codes(), r.Data)
			}
		}
		// Public filters still work.
		anon.Must(`{ influencers(first: 1, where: {hasFollowersWith: [{handle: "fan_one"}]}) { totalCount } }`, nil, nil)
	})
}

func TestUnpublishedContentIsHidden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		inf := createInfluencer(t, s, "chef_anna", "cooking")
		var d struct{ CreateContent struct{ ID string } }
		s.Must(`mutation($i: ID!) { createContent(input: {influencerID: $i, kind: POST, title: "Secret draft", status: DRAFT}) { id } }`,
			map[string]any{"i": inf}, &d)
		s.Must(`mutation($i: ID!) { createContent(input: {influencerID: $i, kind: POST, title: "Next year", publishedAt: "2099-01-01T00:00:00Z"}) { id } }`,
			map[string]any{"i": inf}, nil)
		createContent(t, s, inf, "Out now", nil)
		count := func(c *graphtest.Server) int {
			var out struct{ Contents struct{ TotalCount int } }
			c.Must(`{ contents(first: 10) { totalCount } }`, nil, &out)
			return out.Contents.TotalCount
		}
		owner := s.As(s.NewKey(auth.Influencer, inf))
		if a, o, anon, app := count(s), count(owner), count(s.As("")), count(s.As(s.NewKey(auth.App, ""))); a != 3 || o != 3 || anon != 1 || app != 1 {
			t.Fatalf("visible contents: admin %d, owner %d, anonymous %d, app %d; want 3 3 1 1", a, o, anon, app)
		}
		s.As("").Fail("NOT_FOUND", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": d.CreateContent.ID})
		owner.Must(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": d.CreateContent.ID}, nil)
		var e struct {
			Node struct{ Contents struct{ TotalCount int } }
		}
		s.As("").Must(`query($id: ID!) { node(id: $id) { ... on Influencer { contents(first: 5) { totalCount } } } }`, map[string]any{"id": inf}, &e)
		if e.Node.Contents.TotalCount != 1 {
			t.Fatalf("a creator's contents edge shows %d to anyone, want 1", e.Node.Contents.TotalCount)
		}
	})
}

// One fan repeating a view (or a bot flooding) counts once in creator stats.
func TestStatsCountFansNotRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		inf := createInfluencer(t, s, "chef_anna", "cooking")
		c := createContent(t, s, inf, "Ramen", []string{"ramen"})
		fans := []string{createUser(t, s, "fan_one"), createUser(t, s, "fan_two")}
		var in []map[string]any
		for i := range 200 {
			in = append(in, map[string]any{"userId": fans[0], "contentId": c, "kind": "VIEW", "occurredAt": now.Add(-time.Duration(i) * time.Second)})
		}
		in = append(in,
			map[string]any{"userId": fans[1], "contentId": c, "kind": "VIEW", "occurredAt": now.Add(-time.Hour)},
			map[string]any{"userId": fans[1], "contentId": c, "kind": "LIKE", "occurredAt": now.Add(-time.Hour)},
			map[string]any{"userId": fans[1], "contentId": c, "kind": "LIKE", "occurredAt": now.Add(-time.Hour)},
		)
		s.Must(`mutation($in: [InteractionInput!]!) { recordInteractions(input: $in) { accepted } }`, map[string]any{"in": in}, nil)
		var out struct {
			InfluencerStats struct {
				Views          int
				EngagementRate float64
			}
		}
		s.Must(`query($i: ID!, $f: Time, $t: Time) { influencerStats(influencerId: $i, from: $f, to: $t) { views engagementRate } }`,
			map[string]any{"i": inf, "f": now.Add(-24 * time.Hour), "t": now.Add(time.Hour)}, &out)
		if out.InfluencerStats.Views != 2 || out.InfluencerStats.EngagementRate != 0.5 {
			t.Fatalf("stats = %+v, want 2 viewing fans and rate 0.5", out.InfluencerStats)
		}
	})
}
