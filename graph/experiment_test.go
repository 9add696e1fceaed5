package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/experiment"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
)

const experimentFeedQuery = `query($u: ID!) {
  recommendations(userId: $u, first: 10) {
    ranker fallback experiment { id name }
    edges { ranker node { ... on Content { id category } } }
  }
}`

type experimentFeed struct {
	Recommendations struct {
		Ranker     string
		Fallback   bool
		Experiment *struct{ ID, Name string }
		Edges      []struct {
			Ranker string
			Node   struct{ ID, Category string }
		}
	}
}

type variantResults struct {
	Ranker             string
	Users, Impressions int
	Clicks             int
	Ctr                float64
	CtrInterval        struct{ Low, High float64 }
	CtrPValue          *float64
}

const resultsQuery = `query($id: ID!) { experimentResults(experimentId: $id) {
  experiment { id status variants { ranker weight } }
  variants { ranker users impressions clicks ctr ctrInterval { low high } ctrPValue conversions cvr }
} }`

// TestExperimentSimulation runs an A/B test of als against popular on the
// demo world. Simulated fans read the feed the experiment gives them
// through GraphQL and click each item with probability equal to their
// planted taste for its category; every impression and click is recorded
// through recordInteractions with the ranker that served it. ALS, which
// learned the tastes, must win on CTR with p < 0.05, and the results must
// match the test's own tally.
func TestExperimentSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("loads and trains on the demo world")
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg := seed.Demo()
		cfg.Now = now.Truncate(24 * time.Hour)
		w, ids := seed.MustLoad(t, st.Client, cfg)
		h, err := host.New(ctx, host.Config{Self: os.Args[0], Builtins: builtin.Names(), CallTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		svc := feed.New(st.Client, st.DB, st.Dialect == dialect.Postgres, h, feed.DefaultConfig())
		if _, err := svc.Train(ctx, "als", now); err != nil { // trains popular too
			t.Fatal(err)
		}
		s := graphtest.NewFromDeps(t, st, graph.Deps{Feed: svc, Now: func() time.Time { return now }})

		var created struct{ CreateExperiment struct{ ID string } }
		s.Must(`mutation { createExperiment(name: "als-vs-popular", variants: [{ranker: "popular"}, {ranker: "als"}]) { id } }`, nil, &created)
		exp, err := st.Client.Experiment.Get(ctx, pulid.ID(created.CreateExperiment.ID))
		if err != nil {
			t.Fatal(err)
		}

		catIndex := map[string]int{}
		for i, c := range w.Categories {
			catIndex[c] = i
		}
		r := rand.New(rand.NewPCG(7, 7))
		type tally struct{ users, views, clicks int }
		var want [2]tally
		for u := 0; u < len(w.Users); u += 5 {
			uid := string(ids.Users[u])
			var f experimentFeed
			s.Must(experimentFeedQuery, map[string]any{"u": uid}, &f)
			rec := f.Recommendations
			v := experiment.VariantOf(exp, pulid.ID(uid))
			if rec.Experiment == nil || rec.Experiment.ID != created.CreateExperiment.ID || rec.Ranker != exp.Variants[v].Ranker || rec.Fallback {
				t.Fatalf("user %d in variant %d (%s) got feed %+v", u, v, exp.Variants[v].Ranker, rec)
			}
			if len(rec.Edges) == 0 {
				continue
			}
			tastes := w.Users[u].Tastes
			var batch []map[string]any
			for _, e := range rec.Edges {
				batch = append(batch, map[string]any{"userId": uid, "contentId": e.Node.ID, "kind": "VIEW", "ranker": e.Ranker, "occurredAt": now})
				want[v].views++
				if r.Float64() < tastes[catIndex[e.Node.Category]] {
					batch = append(batch, map[string]any{"userId": uid, "contentId": e.Node.ID, "kind": "CLICK", "ranker": e.Ranker, "occurredAt": now})
					want[v].clicks++
				}
			}
			want[v].users++
			var rr struct{ RecordInteractions struct{ Accepted int } }
			s.Must(`mutation($in: [InteractionInput!]!) { recordInteractions(input: $in) { accepted } }`, map[string]any{"in": batch}, &rr)
			if rr.RecordInteractions.Accepted != len(batch) {
				t.Fatalf("recorded %d of %d interactions", rr.RecordInteractions.Accepted, len(batch))
			}
		}

		var res struct {
			ExperimentResults struct {
				Experiment struct {
					Status   string
					Variants []struct{ Ranker string }
				}
				Variants []variantResults
			}
		}
		s.Must(resultsQuery, map[string]any{"id": created.CreateExperiment.ID}, &res)
		vs := res.ExperimentResults.Variants
		if len(vs) != 2 || vs[0].Ranker != "popular" || vs[1].Ranker != "als" {
			t.Fatalf("variants %+v", vs)
		}
		for i, v := range vs {
			p := "-"
			if v.CtrPValue != nil {
				p = fmt.Sprintf("%.3g", *v.CtrPValue)
			}
			t.Logf("%-8s users %4d impressions %5d clicks %4d CTR %.4f [%.4f, %.4f] p %s",
				v.Ranker, v.Users, v.Impressions, v.Clicks, v.Ctr, v.CtrInterval.Low, v.CtrInterval.High, p)
			if v.Users != want[i].users || v.Impressions != want[i].views || v.Clicks != want[i].clicks {
				t.Errorf("%s: results %+v disagree with the simulation's tally %+v", v.Ranker, v, want[i])
			}
		}
		if vs[1].Ctr <= vs[0].Ctr {
			t.Errorf("ALS CTR %.4f is not above popularity's %.4f", vs[1].Ctr, vs[0].Ctr)
		}
		if p := vs[1].CtrPValue; p == nil || *p >= 0.05 {
			t.Errorf("ALS vs popularity CTR p-value %v, want < 0.05", p)
		}

		// Asking for a ranker explicitly bypasses the experiment: a user of
		// the popular variant asks for als.
		u := 0
		for experiment.VariantOf(exp, ids.Users[u]) != 0 {
			u++
		}
		uid := string(ids.Users[u])
		var f experimentFeed
		s.Must(`query($u: ID!) { recommendations(userId: $u, first: 3, ranker: "als") { ranker fallback experiment { id } edges { ranker } } }`, map[string]any{"u": uid}, &f)
		if f.Recommendations.Experiment != nil || f.Recommendations.Ranker != "als" {
			t.Errorf("explicit ranker: %+v", f.Recommendations)
		}
		// Only one experiment at a time; bad variants are refused.
		s.Fail("CONFLICT", `mutation { createExperiment(name: "second", variants: [{ranker: "popular"}, {ranker: "als"}]) { id } }`, nil)
		s.Fail("BAD_INPUT", `mutation { createExperiment(name: "bad", variants: [{ranker: "popular"}, {ranker: "nope"}]) { id } }`, nil)
		s.Fail("NOT_FOUND", `query { experimentResults(experimentId: "EX01JUNKNOWN") { variants { ranker } } }`, nil)
		// Stopped: feeds go back to the default ranker.
		var stopped struct{ StopExperiment struct{ Status string } }
		s.Must(`mutation($id: ID!) { stopExperiment(id: $id) { status } }`, map[string]any{"id": created.CreateExperiment.ID}, &stopped)
		if stopped.StopExperiment.Status != "STOPPED" {
			t.Errorf("stopExperiment status %q", stopped.StopExperiment.Status)
		}
		s.Must(experimentFeedQuery, map[string]any{"u": uid}, &f)
		if f.Recommendations.Experiment != nil {
			t.Errorf("feed after stop still names experiment %+v", f.Recommendations.Experiment)
		}
		// Experiments are for admins only.
		app := s.As(s.NewKey("APP", ""))
		if r := app.Do(resultsQuery, map[string]any{"id": created.CreateExperiment.ID}); !slices.Contains(r.Codes(), "FORBIDDEN") {
			t.Errorf("APP key reading results: %v", r.Codes())
		}
	})
}
