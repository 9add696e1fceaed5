// Package ease is EASE, "Embarrassingly Shallow Autoencoders for Sparse
// Data" (Steck, WWW 2019): an item-item model with one regularisation
// parameter and a closed-form solution,
//
//	P = (XᵀX + λI)⁻¹,  B = I − P·diag(1/diag(P))   (so diag(B) = 0),
//
// where X is the binary user×item matrix of positive interactions. A user's
// scores are x_u·B: every item the user engaged with votes for the items it
// predicts. It needs no user factors, so a user the model has never seen is
// ranked from their History alone.
//
// The cost is an items×items inverse: O(n³) time and n² memory, which is why
// it refuses catalogues over MaxItems.
package ease

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Name is the ranker's name.
const Name = "ease"

// MaxItems is the largest catalogue EASE trains on: the dense items×items
// inverse takes about n³/3 multiply-adds and 8n² bytes (200 MB at 5,000).
const MaxItems = 5000

const version = "1.0.0"

var params = []sdk.ParamSpec{
	{Name: "lambda", Kind: sdk.ParamFloat, Min: 1, Max: 1e5, Default: "250", LogScale: true,
		Doc: "L2 regularisation λ added to the diagonal of XᵀX"},
}

// Ranker is the EASE ranker. Use New.
type Ranker struct {
	m atomic.Pointer[model]
}

// New returns an untrained EASE ranker.
func New() *Ranker { return &Ranker{} }

type model struct {
	numUsers, numItems int
	// b is B, row-major: b[i*n+j] is how much engaging with i predicts j.
	b []float32
	// Each user's training interactions, CSR: items start[u]..start[u+1]
	// with their weights (positive ones are X's ones).
	start   []int64
	items   []int32
	weights []float32
	version string
}

// Info implements sdk.Ranker.
func (r *Ranker) Info() sdk.Info {
	return sdk.Info{
		Name:         Name,
		Version:      version,
		Description:  "EASE: closed-form item-item regression (Steck 2019), up to 5,000 items",
		Capabilities: sdk.UserItems | sdk.ItemItems,
		Needs:        sdk.NeedInteractions,
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
	lambda, err := sdk.WithDefaults(params, p).Float("lambda", 250)
	if err != nil {
		return sdk.Report{}, err
	}
	n := d.NumItems
	if n > MaxItems {
		return sdk.Report{}, fmt.Errorf("%w: EASE inverts an items×items matrix and takes at most %d items; this catalogue has %d (use als for larger ones)",
			sdk.ErrBadInput, MaxItems, n)
	}
	m := &model{numUsers: d.NumUsers, numItems: n}

	// Each user's interactions, in CSR form; X is their positive part.
	m.start = make([]int64, d.NumUsers+1)
	for _, u := range d.Users {
		m.start[u+1]++
	}
	for u := range d.NumUsers {
		m.start[u+1] += m.start[u]
	}
	m.items = make([]int32, d.Len())
	m.weights = make([]float32, d.Len())
	fill := slices.Clone(m.start[:d.NumUsers])
	for j, u := range d.Users {
		m.items[fill[u]], m.weights[fill[u]] = d.Items[j], d.Weights[j]
		fill[u]++
	}

	// G = XᵀX + λI, accumulated user by user (a user's positive items
	// co-occur pairwise), then P = G⁻¹ by Cholesky: G is symmetric positive
	// definite for λ > 0.
	m.b = make([]float32, n*n)
	if n == 0 {
		m.version = "ease-empty"
		r.m.Store(m)
		return sdk.Report{Duration: time.Since(start), ModelVersion: m.version}, nil
	}
	g := mat.NewSymDense(n, nil)
	var pos []int32
	for u := range d.NumUsers {
		if u%256 == 0 && ctx.Err() != nil {
			return sdk.Report{}, ctx.Err()
		}
		pos = m.positives(int32(u), pos[:0])
		for a, i := range pos {
			for _, j := range pos[a:] {
				g.SetSym(int(i), int(j), g.At(int(i), int(j))+1)
			}
		}
	}
	for i := range n {
		g.SetSym(i, i, g.At(i, i)+lambda)
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(g); !ok {
		return sdk.Report{}, fmt.Errorf("%w: XᵀX + λI is not positive definite (λ = %g)", sdk.ErrBadInput, lambda)
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return sdk.Report{}, fmt.Errorf("invert: %w", err)
	}
	// B_ij = −P_ij / P_jj off the diagonal, 0 on it.
	for i := range n {
		for j := range n {
			if i != j {
				m.b[i*n+j] = float32(-inv.At(i, j) / inv.At(j, j))
			}
		}
	}
	m.version = "ease-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	r.m.Store(m)
	return sdk.Report{
		Duration:     time.Since(start),
		Metrics:      map[string]float64{"items": float64(n), "users": float64(d.NumUsers), "lambda": lambda},
		ModelVersion: m.version,
	}, nil
}

// positives appends u's positively weighted training items to buf.
func (m *model) positives(u int32, buf []int32) []int32 {
	for k := m.start[u]; k < m.start[u+1]; k++ {
		if m.weights[k] > 0 {
			buf = append(buf, m.items[k])
		}
	}
	slices.Sort(buf)
	return slices.Compact(buf)
}

// Recommend implements sdk.Ranker.
func (r *Ranker) Recommend(_ context.Context, q sdk.Query) ([]sdk.Scored, error) {
	m := r.m.Load()
	if m == nil {
		return nil, sdk.ErrNotTrained
	}
	if err := q.Check(m.numItems); err != nil {
		return nil, err
	}
	n := m.numItems
	skip := make([]bool, n)
	var votes []int32
	if q.Known(m.numUsers) {
		for k := m.start[q.User]; k < m.start[q.User+1]; k++ {
			skip[m.items[k]] = !q.IncludeConsumed
		}
		votes = m.positives(q.User, nil)
	}
	for _, h := range q.History {
		skip[h.Item] = !q.IncludeConsumed
		if h.Weight > 0 {
			votes = append(votes, h.Item)
		}
	}
	if len(votes) == 0 {
		return nil, fmt.Errorf("%w: user %d has no positive interactions to rank from", sdk.ErrUnknownUser, q.User)
	}
	slices.Sort(votes)
	votes = slices.Compact(votes)
	for _, x := range q.Exclude {
		if x >= 0 && int(x) < n {
			skip[x] = true
		}
	}
	scores := make([]float32, n)
	for _, i := range votes {
		row := m.b[int(i)*n : int(i+1)*n]
		for j, v := range row {
			scores[j] += v
		}
	}
	cand := q.Candidates
	if cand == nil {
		cand = make([]int32, n)
		for j := range cand {
			cand[j] = int32(j)
		}
	}
	return top(scores, cand, skip, q.K), nil
}

// Similar implements sdk.Ranker: the items that engaging with item predicts.
func (r *Ranker) Similar(_ context.Context, item int32, k int, exclude []int32) ([]sdk.Scored, error) {
	m := r.m.Load()
	if m == nil {
		return nil, sdk.ErrNotTrained
	}
	if err := sdk.CheckSimilar(item, k, m.numItems); err != nil {
		return nil, err
	}
	n := m.numItems
	skip := make([]bool, n)
	skip[item] = true
	for _, x := range exclude {
		if x >= 0 && int(x) < n {
			skip[x] = true
		}
	}
	cand := make([]int32, n)
	for j := range cand {
		cand[j] = int32(j)
	}
	return top(m.b[int(item)*n:int(item+1)*n], cand, skip, k), nil
}

// top returns the k best-scoring candidates not skipped, best first, ties
// broken by item index so answers are deterministic.
func top(scores []float32, cand []int32, skip []bool, k int) []sdk.Scored {
	out := make([]sdk.Scored, 0, min(k, len(cand)))
	seen := make(map[int32]bool, len(cand))
	for _, j := range cand {
		if !skip[j] && !seen[j] {
			seen[j] = true
			out = append(out, sdk.Scored{Item: j, Score: scores[j]})
		}
	}
	slices.SortFunc(out, func(a, b sdk.Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Item, b.Item)
	})
	return out[:min(k, len(out))]
}

// snapshotMagic starts every snapshot, with the format version.
var snapshotMagic = [8]byte{'E', 'A', 'S', 'E', 0, 0, 0, 1}

// Save implements sdk.Ranker.
func (r *Ranker) Save(w io.Writer) error {
	m := r.m.Load()
	if m == nil {
		return sdk.ErrNotTrained
	}
	bw := bufio.NewWriter(w)
	hdr := []int64{int64(m.numUsers), int64(m.numItems), int64(len(m.items)), int64(len(m.version))}
	for _, v := range []any{snapshotMagic, hdr, []byte(m.version), m.b, m.start, m.items, m.weights} {
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Load implements sdk.Ranker.
func (r *Ranker) Load(rd io.Reader) error {
	br := bufio.NewReader(rd)
	var magic [8]byte
	hdr := make([]int64, 4)
	if err := binary.Read(br, binary.LittleEndian, &magic); err != nil || magic != snapshotMagic {
		return fmt.Errorf("%w: not an EASE snapshot", sdk.ErrBadInput)
	}
	if err := binary.Read(br, binary.LittleEndian, hdr); err != nil {
		return fmt.Errorf("%w: truncated EASE snapshot: %v", sdk.ErrBadInput, err)
	}
	nu, ni, nnz, nv := hdr[0], hdr[1], hdr[2], hdr[3]
	if nu < 0 || ni < 0 || ni > MaxItems || nnz < 0 || nnz > math.MaxInt32 || nu > math.MaxInt32 || nv < 0 || nv > 256 {
		return fmt.Errorf("%w: EASE snapshot header %v out of range", sdk.ErrBadInput, hdr)
	}
	ver := make([]byte, nv)
	m := &model{numUsers: int(nu), numItems: int(ni), b: make([]float32, ni*ni),
		start: make([]int64, nu+1), items: make([]int32, nnz), weights: make([]float32, nnz)}
	for _, v := range []any{ver, m.b, m.start, m.items, m.weights} {
		if err := binary.Read(br, binary.LittleEndian, v); err != nil {
			return fmt.Errorf("%w: truncated EASE snapshot: %v", sdk.ErrBadInput, err)
		}
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing bytes after EASE snapshot", sdk.ErrBadInput)
	}
	for u := range nu {
		if m.start[u] > m.start[u+1] {
			return fmt.Errorf("%w: corrupt EASE snapshot", sdk.ErrBadInput)
		}
	}
	if m.start[0] != 0 || m.start[nu] != nnz {
		return fmt.Errorf("%w: corrupt EASE snapshot", sdk.ErrBadInput)
	}
	for _, it := range m.items {
		if it < 0 || int64(it) >= ni {
			return fmt.Errorf("%w: corrupt EASE snapshot", sdk.ErrBadInput)
		}
	}
	m.version = string(ver)
	r.m.Store(m)
	return nil
}
