// Package popular ranks items by time-decayed popularity, overall and within
// categories. It is the fallback for cold users and for failures of other
// rankers, so it is cheap, needs no text, and answers for any user once
// trained on anything — with no interactions at all it serves the newest
// items.
package popular

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/limelight-hq/limelight/rankers/internal/csr"
	"github.com/limelight-hq/limelight/rankers/internal/modelio"
	"github.com/limelight-hq/limelight/rankers/internal/topk"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Name is the ranker's name.
const Name = "popular"

const (
	version = "1.0.0"
	magic   = "limelight/popular 1"
	// recencyWeight scales the publication-recency term that orders items
	// nobody interacted with (and breaks ties) without outweighing one
	// real interaction.
	recencyWeight = 1e-6
)

var params = []sdk.ParamSpec{
	{Name: "half_life_hours", Kind: sdk.ParamFloat, Min: 1, Max: 24 * 365, Default: "168", LogScale: true,
		Doc: "an interaction counts half as much this many hours before the newest one"},
	{Name: "personal_mix", Kind: sdk.ParamFloat, Min: 0, Max: 1, Default: "0.5",
		Doc: "share of the score that comes from popularity within the user's own categories"},
}

// Ranker is the popularity ranker. The zero value is not usable; call New.
type Ranker struct {
	m atomic.Pointer[model]
}

// New returns an untrained popularity ranker.
func New() *Ranker { return &Ranker{} }

type model struct {
	numUsers, numItems int
	mix                float32
	score              []float32 // decayed popularity plus a recency tie-breaker
	order              []int32   // items, best score first
	cat                []int32   // category index per item, -1 for none
	catMax             []float32 // best score per category
	consumed           *csr.Matrix
	version            string
}

// Info implements sdk.Ranker.
func (r *Ranker) Info() sdk.Info {
	return sdk.Info{
		Name:         Name,
		Version:      version,
		Description:  "time-decayed popularity, overall and in the user's categories",
		Capabilities: sdk.UserItems | sdk.ItemItems,
		Needs:        sdk.NeedInteractions | sdk.NeedItemFeatures,
		Params:       params,
	}
}

// Train implements sdk.Ranker.
func (r *Ranker) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	start := time.Now()
	halfLife, err := p.Float("half_life_hours", 168)
	if err != nil {
		return sdk.Report{}, err
	}
	mix, err := p.Float("personal_mix", 0.5)
	if err != nil {
		return sdk.Report{}, err
	}
	if err := d.Validate(); err != nil {
		return sdk.Report{}, err
	}
	halfLifeSec := halfLife * 3600

	score := make([]float64, d.NumItems)
	tmax, timed := d.MaxTime()
	for j, i := range d.Items {
		w := float64(d.Weights[j])
		if timed {
			w *= math.Exp2(-float64(tmax-d.Times[j]) / halfLifeSec)
		}
		score[i] += w
	}
	var pubMax int64
	for i, f := range d.Features {
		if i == 0 || f.PublishedAt > pubMax {
			pubMax = f.PublishedAt
		}
	}
	m := &model{
		numUsers: d.NumUsers, numItems: d.NumItems, mix: float32(mix),
		score: make([]float32, d.NumItems), cat: make([]int32, d.NumItems),
	}
	cats := map[string]int32{}
	for i := range d.NumItems {
		s := max(score[i], 0) // dislikes can sink an item to zero, not below
		m.cat[i] = -1
		if len(d.Features) > 0 {
			f := d.Features[i]
			s += recencyWeight * math.Exp2(-float64(pubMax-f.PublishedAt)/halfLifeSec)
			if f.Category != "" {
				c, ok := cats[f.Category]
				if !ok {
					c = int32(len(cats))
					cats[f.Category] = c
				}
				m.cat[i] = c
			}
		}
		m.score[i] = float32(s)
	}
	m.catMax = make([]float32, len(cats))
	m.consumed = csr.FromCOO(d.NumUsers, d.NumItems, d.Users, d.Items, d.Weights)
	m.finish()
	w := modelio.NewWriter(io.Discard, magic)
	m.encode(w)
	m.version = fmt.Sprintf("%s-%08x", Name, w.Sum32())
	r.m.Store(m)
	return sdk.Report{
		Duration:     time.Since(start),
		ModelVersion: m.version,
		Metrics: map[string]float64{
			"items": float64(d.NumItems), "users": float64(d.NumUsers),
			"interactions": float64(d.Len()), "categories": float64(len(cats)),
		},
	}, nil
}

// finish derives order and catMax from score and cat.
func (m *model) finish() {
	m.order = make([]int32, m.numItems)
	for i := range m.order {
		m.order[i] = int32(i)
	}
	slices.SortStableFunc(m.order, func(a, b int32) int {
		switch sa, sb := m.score[a], m.score[b]; {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	for i, c := range m.cat {
		if c >= 0 {
			m.catMax[c] = max(m.catMax[c], m.score[i])
		}
	}
}

func (r *Ranker) model() (*model, error) {
	m := r.m.Load()
	if m == nil {
		return nil, fmt.Errorf("%s: %w", Name, sdk.ErrNotTrained)
	}
	return m, nil
}

// Recommend implements sdk.Ranker. A user with consumed items or History
// gets popularity mixed with popularity inside the categories they engage
// with; anyone else gets overall popularity.
func (r *Ranker) Recommend(ctx context.Context, q sdk.Query) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := q.Check(m.numItems); err != nil {
		return nil, err
	}
	known := q.Known(m.numUsers)
	if !known && q.User != -1 && len(q.History) == 0 {
		return nil, fmt.Errorf("%w: user %d (model has %d users)", sdk.ErrUnknownUser, q.User, m.numUsers)
	}
	var consumed []int32
	var weights []float32
	if known {
		consumed, weights = m.consumed.Row(int(q.User))
	}
	skip := topk.NewSkip(q.Exclude)
	if !q.IncludeConsumed {
		hist := make([]int32, len(q.History))
		for i, h := range q.History {
			hist[i] = h.Item
		}
		skip = topk.NewSkip(q.Exclude, consumed, hist)
	}

	// The user's category shares, from positive engagement.
	share := make([]float32, len(m.catMax))
	var total float32
	add := func(item int32, w float32) {
		if c := m.cat[item]; c >= 0 && w > 0 {
			share[c] += w
			total += w
		}
	}
	for p, i := range consumed {
		add(i, weights[p])
	}
	for _, h := range q.History {
		add(h.Item, h.Weight)
	}
	personal := total > 0 && m.mix > 0

	var maxScore float32
	if len(m.order) > 0 {
		maxScore = m.score[m.order[0]]
	}
	norm := func(s, by float32) float32 {
		if by <= 0 {
			return 0
		}
		return s / by
	}
	scoreOf := func(i int32) float32 {
		s := norm(m.score[i], maxScore)
		if personal {
			s *= 1 - m.mix
			if c := m.cat[i]; c >= 0 {
				s += m.mix * share[c] / total * norm(m.score[i], m.catMax[c])
			}
		}
		return s
	}

	if !personal && q.Candidates == nil { // walk the precomputed order
		out := make([]sdk.Scored, 0, min(q.K, m.numItems))
		for _, i := range m.order {
			if len(out) == q.K {
				break
			}
			if !skip.Has(i) {
				out = append(out, sdk.Scored{Item: i, Score: scoreOf(i)})
			}
		}
		return out, nil
	}
	sel := topk.New(q.K)
	if q.Candidates != nil {
		for _, i := range q.Candidates {
			if !skip.Has(i) {
				sel.Push(i, scoreOf(i))
			}
		}
	} else {
		for i := range int32(m.numItems) {
			if !skip.Has(i) {
				sel.Push(i, scoreOf(i))
			}
		}
	}
	return dedupe(sel.Sorted()), nil
}

// dedupe drops repeated items (candidates may repeat); s is sorted best
// first, so the first occurrence is kept.
func dedupe(s []sdk.Scored) []sdk.Scored {
	out := s[:0]
	for _, x := range s {
		if !slices.ContainsFunc(out, func(y sdk.Scored) bool { return y.Item == x.Item }) {
			out = append(out, x)
		}
	}
	return out
}

// Similar implements sdk.Ranker: the most popular items of the same
// category (of any category when item has none).
func (r *Ranker) Similar(ctx context.Context, item int32, k int, exclude []int32) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := sdk.CheckSimilar(item, k, m.numItems); err != nil {
		return nil, err
	}
	skip := topk.NewSkip(exclude, []int32{item})
	c := m.cat[item]
	by := m.score[m.order[0]]
	if c >= 0 {
		by = m.catMax[c]
	}
	out := make([]sdk.Scored, 0, min(k, 64))
	for _, i := range m.order {
		if len(out) == k {
			break
		}
		if (c < 0 || m.cat[i] == c) && !skip.Has(i) {
			s := float32(0)
			if by > 0 {
				s = m.score[i] / by
			}
			out = append(out, sdk.Scored{Item: i, Score: s})
		}
	}
	return out, nil
}

// ModelVersion implements sdk.ModelVersioner.
func (r *Ranker) ModelVersion() string {
	if m := r.m.Load(); m != nil {
		return m.version
	}
	return ""
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
	w.Float64(float64(m.mix))
	w.Float32s(m.score)
	w.Int32s(m.cat)
	w.Int(len(m.catMax))
	w.Matrix(m.consumed)
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
	m.mix = float32(mr.Float64())
	m.score = mr.Float32s(m.numItems)
	m.cat = mr.Int32s(m.numItems)
	ncat := mr.Int(0, m.numItems)
	m.consumed = mr.Matrix(m.numUsers, m.numItems, math.MaxInt32)
	for _, c := range m.cat {
		if c < -1 || int(c) >= ncat {
			mr.Fail(fmt.Errorf("%w: category index %d", modelio.ErrCorrupt, c))
			break
		}
	}
	if err := mr.Close(); err != nil {
		return err
	}
	m.catMax = make([]float32, ncat)
	m.finish()
	m.version = fmt.Sprintf("%s-%08x", Name, mr.Sum32())
	r.m.Store(m)
	return nil
}
