package als

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	"github.com/limelight-hq/limelight/rankers/internal/topk"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// scoreBufs recycles per-request score buffers.
var scoreBufs sync.Pool

func getScores(n int) []float32 {
	if b, ok := scoreBufs.Get().(*[]float32); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]float32, n)
}

func putScores(s []float32) { scoreBufs.Put(&s) }

// Recommend implements sdk.Ranker. A known user with training interactions
// is ranked by their factors; any other user by factors folded in from
// q.History; without either it fails with sdk.ErrUnknownUser.
func (r *Ranker) Recommend(ctx context.Context, q sdk.Query) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := q.Check(m.numItems); err != nil {
		return nil, err
	}
	var consumed []int32
	var xu []float32
	if q.Known(m.numUsers) {
		consumed, _ = m.consumed.Row(int(q.User))
		if len(consumed) > 0 {
			xu = m.x[int(q.User)*m.k : int(q.User+1)*m.k]
		}
	}
	if xu == nil {
		if len(q.History) == 0 {
			return nil, fmt.Errorf("%w: user %d has no interactions in the model and the query no history", sdk.ErrUnknownUser, q.User)
		}
		xu = m.foldIn(q.History)
	}

	var skip []int32
	skip = append(skip, q.Exclude...)
	if !q.IncludeConsumed {
		skip = append(skip, consumed...)
		for _, h := range q.History {
			skip = append(skip, h.Item)
		}
	}
	return m.rank(xu, q.K, q.Candidates, skip, nil), nil
}

// rank returns the k items with the highest score v·y_i (divided by
// norm_i·‖v‖ when cosine), among candidates if not nil, leaving out skip.
func (m *model) rank(v []float32, k int, candidates, skip []int32, cosine func(int32, float32) float32) []sdk.Scored {
	sel := topk.New(k)
	if candidates != nil {
		sk := topk.NewSkip(skip)
		for _, i := range slices.Compact(slices.Sorted(slices.Values(candidates))) {
			if sk.Has(i) {
				continue
			}
			s := blas32.Sdot(m.k, v, 1, m.y[int(i)*m.k:int(i+1)*m.k], 1)
			if cosine != nil {
				s = cosine(i, s)
			}
			sel.Push(i, s)
		}
		return sel.Sorted()
	}
	scores := getScores(m.numItems)
	defer putScores(scores)
	if m.numItems > 0 {
		blas32.Sgemv(blas.NoTrans, m.numItems, m.k, 1, m.y, m.k, v, 1, 0, scores, 1)
	}
	neg := float32(math.Inf(-1))
	for _, i := range skip {
		if i >= 0 && int(i) < m.numItems {
			scores[i] = neg
		}
	}
	for i, s := range scores {
		if s == neg {
			continue
		}
		if cosine != nil {
			s = cosine(int32(i), s)
		}
		if s >= sel.Floor() {
			sel.Push(int32(i), s)
		}
	}
	return sel.Sorted()
}

// foldIn solves a user's factors from their history against the fixed
// item factors, exactly (Cholesky), as one ALS user step would.
func (m *model) foldIn(hist []sdk.ItemWeight) []float32 {
	k := m.k
	w := map[int32]float32{}
	for _, h := range hist {
		w[h.Item] += h.Weight
	}
	items := make([]int32, 0, len(w))
	for i := range w {
		items = append(items, i)
	}
	slices.Sort(items) // a fixed summation order
	a := make([]float64, k*k)
	copy(a, m.yty)
	for i := range k {
		a[i*k+i] += float64(m.reg)
	}
	b := make([]float64, k)
	for _, i := range items {
		c, p := confidence(m.alpha, w[i])
		f := m.y[int(i)*k : int(i+1)*k]
		for s := range k {
			fs := float64(f[s])
			b[s] += float64(c*p) * fs
			row := a[s*k : s*k+k]
			for t := range k {
				row[t] += float64(c-1) * fs * float64(f[t])
			}
		}
	}
	var ch mat.Cholesky
	x := make([]float32, k)
	if !ch.Factorize(mat.NewSymDense(k, a)) {
		return x // not positive definite: cannot happen with λ > 0; rank by nothing
	}
	var sol mat.VecDense
	if err := ch.SolveVecTo(&sol, mat.NewVecDense(k, b)); err != nil {
		return x
	}
	for i := range k {
		x[i] = float32(sol.AtVec(i))
	}
	return x
}

// Similar implements sdk.Ranker: cosine similarity of item factors.
func (r *Ranker) Similar(ctx context.Context, item int32, k int, exclude []int32) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := sdk.CheckSimilar(item, k, m.numItems); err != nil {
		return nil, err
	}
	v := m.y[int(item)*m.k : int(item+1)*m.k]
	nv := m.norm[item]
	if nv == 0 {
		return []sdk.Scored{}, nil
	}
	cos := func(i int32, dot float32) float32 {
		if n := m.norm[i]; n > 0 {
			return dot / (n * nv)
		}
		return 0
	}
	return m.rank(v, k, nil, append(slices.Clone(exclude), item), cos), nil
}
