package eval_test

import (
	"context"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/internal/eval"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// demoSplit is the demo world (planted tastes) with 20% of each user's
// positive items held out.
func demoSplit(t *testing.T) *eval.Split {
	t.Helper()
	w, err := seed.Generate(seed.Demo())
	if err != nil {
		t.Fatal(err)
	}
	s, err := eval.Holdout(eval.FromWorld(w, feed.DefaultPipeline()), eval.SplitConfig{Kind: eval.Random, Fraction: 0.2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPersonalRankersBeatPopularity is the quality bar of the ranker
// plugins issue: on the demo world, whose fans have planted tastes, ALS and
// content similarity each beat popularity on NDCG@10 over held-out data by
// at least 20%, with their default hyperparameters. Popularity is the
// non-personalised baseline (popular with personal_mix=0); ALS must also
// beat the popular ranker's default, which mixes in popularity within the
// user's own categories and is therefore partly personalised.
func TestPersonalRankersBeatPopularity(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four rankers on the demo world")
	}
	ctx := context.Background()
	s := demoSplit(t)
	run := func(t *testing.T, name string, p sdk.Params) eval.Result {
		r, err := builtin.New(name)
		if err != nil {
			t.Skipf("built-in ranker %s is not available yet: %v", name, err)
		}
		res, err := eval.Evaluate(ctx, eval.InProcess(r), s, p, 10)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-10s %v NDCG@10 %.4f  P@10 %.4f  R@10 %.4f  HR@10 %.4f  coverage %.3f  train %v",
			name, p, res.NDCG, res.Precision, res.Recall, res.HitRate, res.Coverage, res.TrainTime.Round(time.Millisecond))
		if res.Users != len(s.Test) {
			t.Fatalf("%s evaluated %d users, want %d", name, res.Users, len(s.Test))
		}
		return res
	}
	pop := run(t, "popular", sdk.Params{"personal_mix": "0"})
	catPop := run(t, "popular", nil)
	if pop.NDCG <= 0 {
		t.Fatalf("popularity NDCG@10 %v: the split or the metric is broken", pop.NDCG)
	}
	const margin = 1.2
	for _, name := range []string{"als", "similarity"} {
		t.Run(name, func(t *testing.T) {
			res := run(t, name, nil)
			if res.NDCG < margin*pop.NDCG {
				t.Errorf("%s NDCG@10 %.4f does not beat popularity's %.4f by %.0f%%", name, res.NDCG, pop.NDCG, (margin-1)*100)
			}
			if name == "als" && res.NDCG < margin*catPop.NDCG {
				t.Errorf("als NDCG@10 %.4f does not beat the popular ranker's default (%.4f) by %.0f%%", res.NDCG, catPop.NDCG, (margin-1)*100)
			}
		})
	}
}
