// Package similarity is the content ranker: TF-IDF vectors over an item's
// tags (weighted highest), title and body, compared by cosine. It ranks
// items like an item, and items like a user's profile — the weighted sum of
// the vectors of what they engaged with — so it can serve items nobody has
// interacted with yet. Text in Chinese, Japanese and Korean is indexed by
// character bigrams.
//
// For users (not for Similar), the cosine is multiplied by a mild,
// time-decayed popularity prior (param popularity_boost; 0 turns it off):
// among equally relevant items the ones people engage with now come first,
// and an item nobody touched still ranks on its text alone.
package similarity

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/limelight-hq/limelight/rankers/internal/csr"
	"github.com/limelight-hq/limelight/rankers/internal/modelio"
	"github.com/limelight-hq/limelight/rankers/internal/topk"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Name is the ranker's name.
const Name = "similarity"

const (
	version = "1.0.0"
	magic   = "limelight/similarity 1"
)

var params = []sdk.ParamSpec{
	{Name: "tag_weight", Kind: sdk.ParamFloat, Min: 0, Max: 100, Default: "45", Doc: "weight of tag terms"},
	{Name: "title_weight", Kind: sdk.ParamFloat, Min: 0, Max: 100, Default: "6", Doc: "weight of title terms"},
	{Name: "body_weight", Kind: sdk.ParamFloat, Min: 0, Max: 100, Default: "80", Doc: "weight of body terms"},
	{Name: "popularity_boost", Kind: sdk.ParamFloat, Min: 0, Max: 100, Default: "40", Doc: "user→items: multiply similarity by 1 + boost·√(popularity/top popularity), popularity decayed by half_life_hours"},
	{Name: "half_life_hours", Kind: sdk.ParamFloat, Min: 1, Max: 24 * 365, Default: "380", LogScale: true, Doc: "half-life of interactions in the popularity prior"},
	{Name: "profile_terms", Kind: sdk.ParamInt, Min: 1, Max: 10000, Default: "365", Doc: "strongest terms kept in a user profile"},
}

// Ranker is the content-similarity ranker. The zero value is not usable;
// call New.
type Ranker struct {
	m atomic.Pointer[model]
}

// New returns an untrained similarity ranker.
func New() *Ranker { return &Ranker{} }

type model struct {
	numUsers, numItems, numTerms int
	profileTerms                 int
	vec                          *csr.Matrix // items × terms, rows L2-normalised
	inv                          *csr.Matrix // terms × items: the inverted index
	consumed                     *csr.Matrix // users × items, summed weights
	prior                        []float32   // per item: 1 + boost·√(pop/maxPop), or nil
	version                      string
}

// Info implements sdk.Ranker.
func (r *Ranker) Info() sdk.Info {
	return sdk.Info{
		Name:         Name,
		Version:      version,
		Description:  "TF-IDF cosine over tags, title and body (CJK by character bigrams)",
		Capabilities: sdk.UserItems | sdk.ItemItems,
		Needs:        sdk.NeedItemFeatures | sdk.NeedInteractions,
		Params:       params,
	}
}

// ModelVersion implements sdk.ModelVersioner.
func (r *Ranker) ModelVersion() string {
	if m := r.m.Load(); m != nil {
		return m.version
	}
	return ""
}

// Train implements sdk.Ranker.
func (r *Ranker) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	start := time.Now()
	if err := sdk.ValidateParams(params, p); err != nil {
		return sdk.Report{}, err
	}
	if err := d.Validate(); err != nil {
		return sdk.Report{}, err
	}
	p = sdk.WithDefaults(params, p)
	var w [3]float64
	for i, name := range []string{"tag_weight", "title_weight", "body_weight"} {
		v, err := p.Float(name, 1)
		if err != nil {
			return sdk.Report{}, err
		}
		w[i] = v
	}
	profileTerms, err := p.Int("profile_terms", 64)
	if err != nil {
		return sdk.Report{}, err
	}
	if len(d.Features) == 0 && d.NumItems > 0 {
		return sdk.Report{}, fmt.Errorf("%w: %s needs item features", sdk.ErrBadInput, Name)
	}

	vec, numTerms := vectorize(d.Features, w)
	m := &model{
		numUsers: d.NumUsers, numItems: d.NumItems, numTerms: numTerms, profileTerms: profileTerms,
		vec: vec, consumed: csr.FromCOO(d.NumUsers, d.NumItems, d.Users, d.Items, d.Weights),
	}
	m.inv = vec.Transpose(numTerms)
	boost, err := p.Float("popularity_boost", 3)
	if err != nil {
		return sdk.Report{}, err
	}
	halfLife, err := p.Float("half_life_hours", 168)
	if err != nil {
		return sdk.Report{}, err
	}
	if boost > 0 {
		m.prior = popularityPrior(d, boost, halfLife*3600)
	}
	mw := modelio.NewWriter(io.Discard, magic)
	m.encode(mw)
	m.version = fmt.Sprintf("%s-%08x", Name, mw.Sum32())
	r.m.Store(m)
	return sdk.Report{
		Duration: time.Since(start), ModelVersion: m.version,
		Metrics: map[string]float64{"items": float64(d.NumItems), "terms": float64(numTerms), "nonzeros": float64(vec.NNZ())},
	}, nil
}

// popularityPrior returns 1 + boost·√(pop_i/max pop) per item, with
// popularity the time-decayed sum of positive interaction weights.
func popularityPrior(d *sdk.Dataset, boost, halfLifeSec float64) []float32 {
	pop := make([]float64, d.NumItems)
	tmax, timed := d.MaxTime()
	for j, i := range d.Items {
		w := float64(d.Weights[j])
		if timed {
			w *= math.Exp2(-float64(tmax-d.Times[j]) / halfLifeSec)
		}
		pop[i] += w
	}
	top := 0.0
	for _, p := range pop {
		top = max(top, p)
	}
	out := make([]float32, d.NumItems)
	for i, p := range pop {
		out[i] = 1
		if top > 0 && p > 0 {
			out[i] += float32(boost * math.Sqrt(p/top))
		}
	}
	return out
}

// vectorize turns item features into L2-normalised TF-IDF vectors. Terms
// that occur in a single item cannot make two items alike and are dropped.
func vectorize(items []sdk.ItemFeatures, fieldWeight [3]float64) (*csr.Matrix, int) {
	type tf struct {
		term  string
		field int
	}
	counts := make([]map[tf]int, len(items))
	df := map[string]int{}
	for i, f := range items {
		c := map[tf]int{}
		for _, tag := range f.Tags {
			if t := normalizeTag(tag); t != "#" {
				c[tf{t, 0}]++
			}
		}
		tokenize(f.Title, func(s string) { c[tf{s, 1}]++ })
		tokenize(f.Body, func(s string) { c[tf{s, 2}]++ })
		seen := map[string]bool{}
		for k := range c {
			if !seen[k.term] {
				seen[k.term] = true
				df[k.term]++
			}
		}
		counts[i] = c
	}
	// Term ids in sorted order, so the model does not depend on map order.
	var terms []string
	for t, n := range df {
		if n > 1 {
			terms = append(terms, t)
		}
	}
	slices.Sort(terms)
	id := make(map[string]int32, len(terms))
	for i, t := range terms {
		id[t] = int32(i)
	}
	n := float64(len(items))
	var rows, cols []int32
	var vals []float32
	for i, c := range counts {
		weights := map[int32]float64{}
		for k, cnt := range c {
			t, ok := id[k.term]
			if !ok {
				continue
			}
			idf := math.Log((n+1)/float64(df[k.term]+1)) + 1
			weights[t] += fieldWeight[k.field] * (1 + math.Log(float64(cnt))) * idf
		}
		var norm float64
		for _, v := range weights {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		ts := make([]int32, 0, len(weights))
		for t := range weights {
			ts = append(ts, t)
		}
		slices.Sort(ts)
		for _, t := range ts {
			if weights[t] > 0 {
				rows, cols, vals = append(rows, int32(i)), append(cols, t), append(vals, float32(weights[t]/norm))
			}
		}
	}
	return csr.FromCOO(len(items), len(terms), rows, cols, vals), len(terms)
}

func (r *Ranker) model() (*model, error) {
	m := r.m.Load()
	if m == nil {
		return nil, fmt.Errorf("%s: %w", Name, sdk.ErrNotTrained)
	}
	return m, nil
}

// accumulators recycles per-request score buffers.
var accumulators sync.Pool

type acc struct {
	score   []float32
	touched []int32
}

func getAcc(n int) *acc {
	a, _ := accumulators.Get().(*acc)
	if a == nil || len(a.score) < n {
		a = &acc{score: make([]float32, n)}
	}
	return a
}

func putAcc(a *acc) {
	for _, i := range a.touched {
		a.score[i] = 0
	}
	a.touched = a.touched[:0]
	accumulators.Put(a)
}

// rank scores items against the sparse query vector (terms, weights) by
// walking the inverted index, and returns the best k with a positive
// score, among candidates when not nil, leaving out skip.
func (m *model) rank(terms []int32, weights []float32, k int, candidates []int32, skip topk.Skip, prior []float32) []sdk.Scored {
	sel := topk.New(k)
	if candidates != nil {
		q := make(map[int32]float32, len(terms))
		for j, t := range terms {
			q[t] = weights[j]
		}
		for _, i := range slices.Compact(slices.Sorted(slices.Values(candidates))) {
			if skip.Has(i) {
				continue
			}
			cols, vals := m.vec.Row(int(i))
			var s float32
			for j, t := range cols {
				s += q[t] * vals[j]
			}
			if s > 0 {
				if prior != nil {
					s *= prior[i]
				}
				sel.Push(i, s)
			}
		}
		return sel.Sorted()
	}
	a := getAcc(m.numItems)
	defer putAcc(a)
	for j, t := range terms {
		items, vals := m.inv.Row(int(t))
		w := weights[j]
		for p, i := range items {
			if a.score[i] == 0 {
				a.touched = append(a.touched, i)
			}
			a.score[i] += w * vals[p]
		}
	}
	for _, i := range a.touched {
		if s := a.score[i]; s > 0 && !skip.Has(i) {
			if prior != nil {
				s *= prior[i]
			}
			sel.Push(i, s)
		}
	}
	return sel.Sorted()
}

// Similar implements sdk.Ranker: items by cosine similarity to item.
// An item without indexable text has no similar items.
func (r *Ranker) Similar(ctx context.Context, item int32, k int, exclude []int32) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := sdk.CheckSimilar(item, k, m.numItems); err != nil {
		return nil, err
	}
	terms, weights := m.vec.Row(int(item))
	return m.rank(terms, weights, k, nil, topk.NewSkip(exclude, []int32{item}), nil), nil
}

// Recommend implements sdk.Ranker: items by cosine similarity to the
// user's profile, built from their training interactions and q.History.
// A user with no positive engagement to build on is unknown.
func (r *Ranker) Recommend(ctx context.Context, q sdk.Query) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := q.Check(m.numItems); err != nil {
		return nil, err
	}
	var consumed []int32
	var cw []float32
	if q.Known(m.numUsers) {
		consumed, cw = m.consumed.Row(int(q.User))
	}
	terms, weights := m.profile(consumed, cw, q.History)
	if len(terms) == 0 {
		return nil, fmt.Errorf("%w: user %d has no engagement with indexed items", sdk.ErrUnknownUser, q.User)
	}
	skip := topk.NewSkip(q.Exclude)
	if !q.IncludeConsumed {
		hist := make([]int32, len(q.History))
		for i, h := range q.History {
			hist[i] = h.Item
		}
		skip = topk.NewSkip(q.Exclude, consumed, hist)
	}
	return m.rank(terms, weights, q.K, q.Candidates, skip, m.prior), nil
}

// profile sums the vectors of the items a user engaged with, weighted, and
// keeps the strongest profileTerms positive terms, L2-normalised.
func (m *model) profile(items []int32, w []float32, hist []sdk.ItemWeight) ([]int32, []float32) {
	sum := map[int32]float64{}
	add := func(item int32, weight float32) {
		cols, vals := m.vec.Row(int(item))
		for j, t := range cols {
			sum[t] += float64(weight) * float64(vals[j])
		}
	}
	for j, i := range items {
		add(i, w[j])
	}
	for _, h := range hist {
		add(h.Item, h.Weight)
	}
	type tw struct {
		t int32
		w float64
	}
	var top []tw
	for t, v := range sum {
		if v > 0 {
			top = append(top, tw{t, v})
		}
	}
	slices.SortFunc(top, func(a, b tw) int {
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	top = top[:min(len(top), m.profileTerms)]
	slices.SortFunc(top, func(a, b tw) int { return cmp.Compare(a.t, b.t) })
	var norm float64
	for _, x := range top {
		norm += x.w * x.w
	}
	norm = math.Sqrt(norm)
	terms, weights := make([]int32, len(top)), make([]float32, len(top))
	for i, x := range top {
		terms[i], weights[i] = x.t, float32(x.w/norm)
	}
	return terms, weights
}

// Save implements sdk.Ranker.
func (r *Ranker) Save(w io.Writer) error {
	m, err := r.model()
	if err != nil {
		return err
	}
	mw := modelio.NewWriter(w, magic)
	m.encode(mw)
	return mw.Close()
}

func (m *model) encode(w *modelio.Writer) {
	w.Int(m.numUsers)
	w.Int(m.numItems)
	w.Int(m.numTerms)
	w.Int(m.profileTerms)
	w.Matrix(m.vec)
	w.Matrix(m.consumed)
	w.Float32s(m.prior)
}

// Load implements sdk.Ranker.
func (r *Ranker) Load(rd io.Reader) error {
	mr, err := modelio.NewReader(rd, magic)
	if err != nil {
		return err
	}
	m := &model{}
	m.numUsers = mr.Int(0, math.MaxInt32)
	m.numItems = mr.Int(0, math.MaxInt32)
	m.numTerms = mr.Int(0, math.MaxInt32)
	m.profileTerms = mr.Int(1, 10000)
	m.vec = mr.Matrix(m.numItems, m.numTerms, math.MaxInt32)
	m.consumed = mr.Matrix(m.numUsers, m.numItems, math.MaxInt32)
	m.prior = mr.Float32s(-m.numItems)
	if len(m.prior) == 0 {
		m.prior = nil
	}
	if mr.Err() == nil && m.prior != nil && len(m.prior) != m.numItems {
		mr.Fail(fmt.Errorf("%w: %d popularity priors for %d items", modelio.ErrCorrupt, len(m.prior), m.numItems))
	}
	// An empty matrix is written without values; a non-empty one must have them.
	if mr.Err() == nil && ((m.vec.Vals == nil && len(m.vec.Cols) > 0) || (m.consumed.Vals == nil && len(m.consumed.Cols) > 0)) {
		mr.Fail(fmt.Errorf("%w: matrices without values", modelio.ErrCorrupt))
	}
	if m.vec != nil && m.vec.Vals == nil {
		m.vec.Vals = []float32{}
	}
	if m.consumed != nil && m.consumed.Vals == nil {
		m.consumed.Vals = []float32{}
	}
	if err := mr.Close(); err != nil {
		return err
	}
	m.inv = m.vec.Transpose(m.numTerms)
	m.version = fmt.Sprintf("%s-%08x", Name, mr.Sum32())
	r.m.Store(m)
	return nil
}
