package eval_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/eval"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
)

// TestMain lets the test binary double as the built-in rankers' plugin
// binary: the host re-executes it as `<test binary> ranker <name>`.
func TestMain(m *testing.M) { builtin.RunTests(m) }

// buildTemplate builds examples/ranker-template into dir and pins it in
// dir/rankers.json under the name "ease", as its README says to.
func buildTemplate(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "ease")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..", "examples", "ranker-template")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the template: %v\n%s", err, out)
	}
	sum, err := host.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	man, _ := json.Marshal(host.Manifest{"ease": {File: "ease", SHA256: sum}})
	if err := os.WriteFile(filepath.Join(dir, host.ManifestFile), man, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestTemplateRankerServesAFeed is the data scientist's path end to end:
// build the template plugin, pin it in a rankers directory, start the
// server's ranker host over it, see it in `rankers`, train it and get a
// feed from it through GraphQL; evaluate and tune it offline from the same
// directory.
func TestTemplateRankerServesAFeed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the template module")
	}
	dir := t.TempDir()
	buildTemplate(t, dir)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	cfg := seed.Demo()
	cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions = 300, 30, 500, 10000
	cfg.Now = now.Truncate(24 * time.Hour)
	w, err := seed.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}

	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ids, err := seed.Load(ctx, st.Client, w)
		if err != nil {
			t.Fatal(err)
		}
		h, err := host.New(ctx, host.Config{Self: os.Args[0], Builtins: []string{"popular"}, Dir: dir, CallTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		svc := feed.New(st.Client, st.DB, st.Dialect == dialect.Postgres, h, feed.DefaultConfig())
		s := graphtest.NewFromDeps(t, st, graph.Deps{Feed: svc, Now: func() time.Time { return now }})

		var rankers struct {
			Rankers []struct {
				Name, Status string
				Builtin      bool
				Params       []struct{ Name, Default string }
			}
		}
		s.Must(`{ rankers { name status builtin params { name default } } }`, nil, &rankers)
		found := false
		for _, r := range rankers.Rankers {
			if r.Name == "ease" {
				found = true
				if r.Status != "RUNNING" || r.Builtin || len(r.Params) != 1 || r.Params[0].Name != "lambda" {
					t.Errorf("ease in rankers: %+v", r)
				}
			}
		}
		if !found {
			t.Fatalf("ease is not among the rankers: %+v", rankers.Rankers)
		}

		var trained struct{ TrainRanker struct{ Ranker string } }
		s.Must(`mutation { trainRanker(name: "ease") { ranker } }`, nil, &trained)
		var f struct {
			Recommendations struct {
				Ranker   string
				Fallback bool
				Edges    []struct {
					Ranker string
					Node   struct{ ID string }
				}
			}
		}
		s.Must(`query($u: ID!) { recommendations(userId: $u, first: 5, ranker: "ease") { ranker fallback edges { ranker node { ... on Content { id } } } } }`,
			map[string]any{"u": string(ids.Users[0])}, &f)
		if f.Recommendations.Ranker != "ease" || f.Recommendations.Fallback || len(f.Recommendations.Edges) != 5 {
			t.Fatalf("feed from ease: %+v", f.Recommendations)
		}
	})

	// Offline: the same pinned binary, by its manifest name.
	ctx := context.Background()
	split, err := eval.Holdout(eval.FromWorld(w, feed.DefaultPipeline()), eval.SplitConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := eval.Open(ctx, "ease", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, err := eval.Tune(ctx, m, split, eval.TuneConfig{Trials: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ease tuned on the small world: best %v, test NDCG@10 %.4f (defaults %.4f)", res.Best, res.Test.NDCG, res.DefaultTest.NDCG)
	if res.Test.NDCG <= 0 || res.Ranker != "ease" || len(res.Trials) != 3 {
		t.Errorf("tuning result %+v", res)
	}
}
