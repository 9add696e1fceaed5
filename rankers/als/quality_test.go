package als_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/rankers/als"
	"github.com/limelight-hq/limelight/rankers/internal/synth"
	"github.com/limelight-hq/limelight/rankers/popular"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// meanNDCG returns the mean NDCG@10 of r over the held-out users.
func meanNDCG(t *testing.T, r sdk.Ranker, test [][]int32) float64 {
	t.Helper()
	var sum float64
	n := 0
	for u, rel := range test {
		if rel == nil {
			continue
		}
		got, err := r.Recommend(context.Background(), sdk.Query{User: int32(u), K: 10})
		if err != nil {
			t.Fatalf("user %d: %v", u, err)
		}
		sum += synth.NDCG(got, rel)
		n++
	}
	return sum / float64(n)
}

func TestBeatsPopularityOnHeldOut(t *testing.T) {
	t.Parallel()
	d := synth.Generate(synth.Config{Users: 2000, Items: 800, Interactions: 40_000, Clusters: 20, InCluster: 0.8, Seed: 7})
	train, test := synth.Split(d, 5)
	ctx := context.Background()
	a, p := als.New(), popular.New()
	rep, err := a.Train(ctx, train, sdk.Params{"factors": "32"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Train(ctx, train, nil); err != nil {
		t.Fatal(err)
	}
	na, np := meanNDCG(t, a, test), meanNDCG(t, p, test)
	t.Logf("NDCG@10: als %.4f, popular %.4f (loss %.4f)", na, np, rep.Metrics["loss"])
	if na < 1.2*np {
		t.Errorf("ALS NDCG@10 %.4f does not beat popularity's %.4f by 20%%", na, np)
	}
}

func TestBeatsPopularityOnSeedWorld(t *testing.T) {
	t.Parallel()
	w, err := seed.Generate(seed.Config{Seed: 9, Users: 3000, Influencers: 60, Contents: 1500, Interactions: 60_000,
		Days: 60, Partners: 1, Products: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, test := synth.Split(synth.FromWorld(w), 8)
	ctx := context.Background()
	a, p := als.New(), popular.New()
	if _, err := a.Train(ctx, train, sdk.Params{"factors": "16"}); err != nil {
		t.Fatal(err)
	}
	// Plain popularity, without the popularity ranker's per-user category
	// mix: the seed world plants tastes by category, so that mix is a
	// strong (and here, stronger) baseline of its own.
	if _, err := p.Train(ctx, train, sdk.Params{"personal_mix": "0"}); err != nil {
		t.Fatal(err)
	}
	na, np := meanNDCG(t, a, test), meanNDCG(t, p, test)
	t.Logf("NDCG@10 on a seed world: als %.4f, popular %.4f", na, np)
	if na < 1.2*np {
		t.Errorf("ALS NDCG@10 %.4f does not beat popularity's %.4f by 20%%", na, np)
	}
}

func TestDeterministicForASeed(t *testing.T) {
	t.Parallel()
	d := synth.Generate(synth.Config{Users: 500, Items: 300, Interactions: 8000, Clusters: 10, InCluster: 0.8, Seed: 3})
	snapshot := func(seed string, procs int) []byte {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		r := als.New()
		if _, err := r.Train(context.Background(), d, sdk.Params{"factors": "16", "seed": seed, "iterations": "4"}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := r.Save(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a := snapshot("5", 2)
	if b := snapshot("5", 2); !bytes.Equal(a, b) {
		t.Error("two trainings with the same seed differ")
	}
	if b := snapshot("5", 1); !bytes.Equal(a, b) {
		t.Error("the model depends on GOMAXPROCS")
	}
	if b := snapshot("6", 2); bytes.Equal(a, b) {
		t.Error("another seed gives the same model")
	}
}

func TestMoreIterationsLowerTheLoss(t *testing.T) {
	t.Parallel()
	d := synth.Generate(synth.Config{Users: 500, Items: 300, Interactions: 8000, Clusters: 10, InCluster: 0.8, Seed: 4})
	var prev float64
	for i, iters := range []int{1, 3, 10} {
		rep, err := als.New().Train(context.Background(), d, sdk.Params{"factors": "16", "iterations": fmt.Sprint(iters)})
		if err != nil {
			t.Fatal(err)
		}
		l := rep.Metrics["loss"]
		if i > 0 && l >= prev {
			t.Errorf("loss after %d iterations %.5f, not below %.5f", iters, l, prev)
		}
		prev = l
	}
}

func TestFoldInMatchesTrainedUser(t *testing.T) {
	t.Parallel()
	// A user folded in from their own history should get much the same
	// ranking as the trained user.
	d := synth.Generate(synth.Config{Users: 800, Items: 400, Interactions: 16_000, Clusters: 10, InCluster: 0.9, Seed: 5})
	r := als.New()
	ctx := context.Background()
	if _, err := r.Train(ctx, d, sdk.Params{"factors": "16", "iterations": "15", "cg_steps": "6"}); err != nil {
		t.Fatal(err)
	}
	hist := map[int32][]sdk.ItemWeight{}
	for j, u := range d.Users {
		hist[u] = append(hist[u], sdk.ItemWeight{Item: d.Items[j], Weight: d.Weights[j]})
	}
	overlap, n := 0, 0
	for u := range int32(50) {
		trained, err := r.Recommend(ctx, sdk.Query{User: u, K: 10})
		if err != nil {
			t.Fatal(err)
		}
		folded, err := r.Recommend(ctx, sdk.Query{User: -1, K: 10, History: hist[u]})
		if err != nil {
			t.Fatal(err)
		}
		in := map[int32]bool{}
		for _, x := range trained {
			in[x.Item] = true
		}
		for _, x := range folded {
			if in[x.Item] {
				overlap++
			}
		}
		n += len(trained)
	}
	if share := float64(overlap) / float64(n); share < 0.7 {
		t.Errorf("folded-in users share %.0f%% of the trained users' top 10; want ≥ 70%%", 100*share)
	}
}
