package eval_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/limelight-hq/limelight/internal/eval"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// tiny is 3 users × 6 items, one row per pair, times 1..n in row order.
func tiny() *sdk.Dataset {
	d := &sdk.Dataset{NumUsers: 3, NumItems: 6}
	add := func(u, i int32, w float32) {
		d.Users = append(d.Users, u)
		d.Items = append(d.Items, i)
		d.Weights = append(d.Weights, w)
		d.Times = append(d.Times, int64(len(d.Times)+1))
	}
	add(0, 0, 1)
	add(0, 1, 2)
	add(0, 2, 1)
	add(0, 3, -1) // a skip: never held out
	add(1, 1, 1)
	add(1, 4, 1)
	add(2, 5, 1) // a single positive: nothing to hold out
	return d
}

func TestLeaveOneOutHoldsOutTheNewest(t *testing.T) {
	t.Parallel()
	s, err := eval.Holdout(tiny(), eval.SplitConfig{Kind: eval.LeaveOneOut})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Test) != 2 || !s.Test[0][2] || len(s.Test[0]) != 1 || !s.Test[1][4] || len(s.Test[1]) != 1 {
		t.Fatalf("test %v, want user 0 → {2}, user 1 → {4}", s.Test)
	}
	if s.Train.Len() != 5 || s.Train.NumItems != 6 || s.Train.NumUsers != 3 {
		t.Fatalf("train has %d rows, %d×%d", s.Train.Len(), s.Train.NumUsers, s.Train.NumItems)
	}
}

func TestTemporalCut(t *testing.T) {
	t.Parallel()
	// Fraction 0.2 of 7 rows: the cut is the time at index int(7·0.8) = 5,
	// which is 6: rows 6 and 7 are held out. Row 7 is user 2's only item,
	// which leaves user 2 without training data, so only user 1 (trained on
	// item 1) is evaluated, on item 4.
	s, err := eval.Holdout(tiny(), eval.SplitConfig{Kind: eval.Temporal, Fraction: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Test) != 1 || len(s.Test[1]) != 1 || !s.Test[1][4] {
		t.Fatalf("test %v, want user 1 → {4}", s.Test)
	}
	// With 0.3 the cut moves to time 5: user 1 loses both items, and
	// nothing is left to evaluate.
	if _, err := eval.Holdout(tiny(), eval.SplitConfig{Kind: eval.Temporal, Fraction: 0.3}); err == nil {
		t.Error("a split with no evaluable user succeeded")
	}
}

func TestRandomHoldoutIsSeeded(t *testing.T) {
	t.Parallel()
	d := tiny()
	a, _ := eval.Holdout(d, eval.SplitConfig{Seed: 3, Fraction: 0.5})
	b, _ := eval.Holdout(d, eval.SplitConfig{Seed: 3, Fraction: 0.5})
	if !slices.Equal(a.Train.Items, b.Train.Items) {
		t.Fatal("the same seed gave different splits")
	}
	for u, rel := range a.Test {
		for it := range rel {
			for j := range a.Train.Len() {
				if a.Train.Users[j] == u && a.Train.Items[j] == it {
					t.Fatalf("user %d item %d both in train and test", u, it)
				}
			}
		}
	}
	// User 0 has 3 positives: round(1.5) = 2 held out; user 1 has 2: 1.
	if len(a.Test[0]) != 2 || len(a.Test[1]) != 1 || a.Test[2] != nil {
		t.Fatalf("test %v", a.Test)
	}
	if _, err := eval.Holdout(d, eval.SplitConfig{Kind: "by-phase-of-moon"}); err == nil {
		t.Error("unknown split kind accepted")
	}
	if _, err := eval.Holdout(d, eval.SplitConfig{Fraction: 1}); err == nil {
		t.Error("fraction 1 accepted")
	}
}

// fixed is a ranker that returns the same list to everyone, minus what the
// user trained on — or, if leaky, without excluding anything.
type fixed struct {
	order    []int32
	leaky    bool
	consumed map[int32]map[int32]bool
}

func (f *fixed) Info() sdk.Info {
	return sdk.Info{Name: "fixed", Params: []sdk.ParamSpec{{Name: "x", Kind: sdk.ParamFloat, Min: 0, Max: 1, Default: "0"}}}
}
func (f *fixed) Train(_ context.Context, d *sdk.Dataset, _ sdk.Params) (sdk.Report, error) {
	f.consumed = map[int32]map[int32]bool{}
	for j, u := range d.Users {
		if f.consumed[u] == nil {
			f.consumed[u] = map[int32]bool{}
		}
		f.consumed[u][d.Items[j]] = true
	}
	return sdk.Report{}, nil
}
func (f *fixed) Recommend(_ context.Context, q sdk.Query) ([]sdk.Scored, error) {
	var out []sdk.Scored
	for _, it := range f.order {
		if len(out) < q.K && (f.leaky || !f.consumed[q.User][it]) {
			out = append(out, sdk.Scored{Item: it, Score: 1})
		}
	}
	return out, nil
}
func (f *fixed) Similar(context.Context, int32, int, []int32) ([]sdk.Scored, error) {
	return nil, sdk.ErrUnsupported
}
func (f *fixed) Save(io.Writer) error { return nil }
func (f *fixed) Load(io.Reader) error { return nil }

func TestEvaluateScoresTheFullCatalogue(t *testing.T) {
	t.Parallel()
	s, err := eval.Holdout(tiny(), eval.SplitConfig{Kind: eval.LeaveOneOut})
	if err != nil {
		t.Fatal(err)
	}
	// Order 4, 2, ...: user 0 (trained on 0, 1, 3) gets 4, 2 → hit at 2;
	// user 1 (trained on 1) gets 4, 2 → hit at 1. k = 2.
	r, err := eval.Evaluate(context.Background(), eval.InProcess(&fixed{order: []int32{4, 2, 0, 1, 3, 5}}), s, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantNDCG := (1/1.584962500721156 + 1) / 2
	if r.Users != 2 || r.HitRate != 1 || r.Precision != 0.5 || r.Recall != 1 ||
		r.NDCG < wantNDCG-1e-9 || r.NDCG > wantNDCG+1e-9 || r.Coverage != 2.0/6 {
		t.Fatalf("result %+v, want NDCG %v", r, wantNDCG)
	}
	// A ranker that breaks the contract and returns training items: they
	// are dropped, as if ranking over the catalogue minus the training
	// items, and the slots they took stay empty. User 0 gets [0, 2] → [2],
	// a hit at rank 1; user 1 gets [0, 2], no hit. P@2 = (1/2 + 0) / 2.
	leaky, err := eval.Evaluate(context.Background(), eval.InProcess(&fixed{order: []int32{0, 2, 4}, leaky: true}), s, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if leaky.Precision != 0.25 || leaky.HitRate != 0.5 || leaky.NDCG != 0.5 {
		t.Fatalf("leaky ranker %+v", leaky)
	}
}

func TestTuneNeverSeesTheTestSplit(t *testing.T) {
	t.Parallel()
	s, err := eval.Holdout(tiny(), eval.SplitConfig{Kind: eval.Random, Fraction: 0.3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	m := &spy{fixed: fixed{order: []int32{0, 1, 2, 3, 4, 5}}, rows: &seen}
	res, err := eval.Tune(context.Background(), eval.InProcess(m), s, eval.TuneConfig{Trials: 4, Seed: 1,
		Validation: eval.SplitConfig{Kind: eval.LeaveOneOut}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != 4 || len(res.Trials[0].Params) != 0 {
		t.Fatalf("trials %+v, want 4 with the defaults first", res.Trials)
	}
	// 4 trainings on the carved-out part (fewer rows than Train), then the
	// best and the defaults on all of Train.
	if len(seen) != 6 || seen[4] != s.Train.Len() || seen[5] != s.Train.Len() {
		t.Fatalf("trained on %v rows; train has %d", seen, s.Train.Len())
	}
	for _, n := range seen[:4] {
		if n >= s.Train.Len() {
			t.Fatalf("a trial trained on %d rows: more than the carved-out training part", n)
		}
	}
	for _, tr := range res.Trials[1:] {
		x := tr.Params["x"]
		if x == "" || x < "0" || x > "1" {
			t.Errorf("trial params %v outside the declared range", tr.Params)
		}
	}
}

type spy struct {
	fixed
	rows *[]int
}

func (s *spy) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	*s.rows = append(*s.rows, d.Len())
	return s.fixed.Train(ctx, d, p)
}

func TestParseSpaceAndSaveParams(t *testing.T) {
	t.Parallel()
	sp, err := eval.ParseSpace("factors=16:128, alpha=0.1:10:log,solver=cg|chol")
	if err != nil {
		t.Fatal(err)
	}
	if r := sp["alpha"]; r.Min != 0.1 || r.Max != 10 || !r.Log {
		t.Errorf("alpha %+v", r)
	}
	if r := sp["solver"]; len(r.Values) != 2 {
		t.Errorf("solver %+v", r)
	}
	for _, bad := range []string{"factors", "factors=1", "factors=a:b", "factors=1:2:lin"} {
		if _, err := eval.ParseSpace(bad); err == nil {
			t.Errorf("ParseSpace(%q) accepted", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "params.json")
	if err := eval.SaveParams(path, "als", sdk.Params{"factors": "32"}); err != nil {
		t.Fatal(err)
	}
	if err := eval.SaveParams(path, "ease", sdk.Params{"lambda": "200"}); err != nil {
		t.Fatal(err)
	}
	all, err := eval.LoadParams(path)
	if err != nil {
		t.Fatal(err)
	}
	if all["als"]["factors"] != "32" || all["ease"]["lambda"] != "200" {
		raw, _ := os.ReadFile(path)
		t.Fatalf("saved %s", raw)
	}
	if !strings.Contains(eval.FormatParams(sdk.Params{"b": "2", "a": "1"}), "a=1 b=2") {
		t.Error("FormatParams does not sort")
	}
}

func TestGridSearchStaysInRange(t *testing.T) {
	t.Parallel()
	s, err := eval.Holdout(tiny(), eval.SplitConfig{Kind: eval.Random, Fraction: 0.3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// x on [0, 1] with 3 points: 0, 0.5, 1 — all three fit in a budget of
	// 4 after the defaults.
	res, err := eval.Tune(context.Background(), eval.InProcess(&fixed{order: []int32{0, 1, 2, 3, 4, 5}}), s,
		eval.TuneConfig{Method: eval.GridSearch, Trials: 4, GridPoints: 3, Validation: eval.SplitConfig{Kind: eval.LeaveOneOut}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range res.Trials[1:] {
		got = append(got, tr.Params["x"])
	}
	if !slices.Equal(got, []string{"0", "0.5", "1"}) {
		t.Fatalf("grid points %v, want [0 0.5 1]", got)
	}
	if _, err := eval.Tune(context.Background(), eval.InProcess(&fixed{}), s, eval.TuneConfig{Method: "annealing"}); err == nil {
		t.Error("unknown search method accepted")
	}
	if _, err := eval.Tune(context.Background(), eval.InProcess(&fixed{}), s,
		eval.TuneConfig{Space: map[string]eval.Range{"x": {Min: 0, Max: 2}}}); err == nil {
		t.Error("a range beyond the declared one accepted")
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	err := eval.WriteTable(&b, []eval.Result{{Ranker: "als", K: 5, Metrics: eval.Metrics{NDCG: 0.125, Users: 7}}})
	if err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "NDCG@5") || !strings.Contains(out, "als") || !strings.Contains(out, "0.1250") {
		t.Fatalf("table:\n%s", out)
	}
}
