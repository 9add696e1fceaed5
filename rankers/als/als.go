// Package als is the collaborative-filtering ranker: implicit-feedback
// matrix factorisation by alternating least squares (Hu, Koren, Volinsky
// 2008: confidence c = 1 + α·w, preference 1 for engagement), each least-
// squares solve done by a few conjugate-gradient steps warm-started from the
// previous factors (Takács, Pilászy, Tikk 2011). Rows are solved in parallel
// and independently, so a seed gives the same model on any number of cores.
//
// Users the model does not know are folded in from Query.History: their
// vector is solved exactly against the fixed item factors.
package als

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/limelight-hq/limelight/rankers/internal/csr"
	"github.com/limelight-hq/limelight/rankers/internal/modelio"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Name is the ranker's name.
const Name = "als"

const (
	version = "1.0.0"
	magic   = "limelight/als 1"
)

var params = []sdk.ParamSpec{
	{Name: "factors", Kind: sdk.ParamInt, Min: 1, Max: 512, Default: "32", Doc: "latent factors per user and item"},
	{Name: "regularization", Kind: sdk.ParamFloat, Min: 1e-6, Max: 1e4, Default: "15", LogScale: true, Doc: "L2 penalty λ on the factors"},
	{Name: "alpha", Kind: sdk.ParamFloat, Min: 1e-3, Max: 1e4, Default: "0.2", LogScale: true, Doc: "confidence slope: c = 1 + alpha·weight"},
	{Name: "iterations", Kind: sdk.ParamInt, Min: 1, Max: 200, Default: "12", Doc: "alternating passes over users and items"},
	{Name: "cg_steps", Kind: sdk.ParamInt, Min: 1, Max: 64, Default: "3", Doc: "conjugate-gradient steps per row and pass"},
	{Name: "half_life_days", Kind: sdk.ParamFloat, Min: 0, Max: 3650, Default: "7", Doc: "halve an interaction's weight per this many days before the newest one; 0 keeps all weights"},
	{Name: "seed", Kind: sdk.ParamInt, Min: 0, Max: 1 << 53, Default: "42", Doc: "random seed of the initial factors"},
}

// Ranker is the ALS ranker. The zero value is not usable; call New.
type Ranker struct {
	m atomic.Pointer[model]
}

// New returns an untrained ALS ranker.
func New() *Ranker { return &Ranker{} }

// model is a trained factorisation. Factors are float32, row-major.
type model struct {
	k                  int
	numUsers, numItems int
	alpha, reg         float32
	x                  []float32   // users × k
	y                  []float32   // items × k
	yty                []float64   // YᵀY, k × k, for fold-in
	norm               []float32   // ‖y_i‖
	consumed           *csr.Matrix // users × items, pattern only
	version            string
}

// Info implements sdk.Ranker.
func (r *Ranker) Info() sdk.Info {
	return sdk.Info{
		Name:         Name,
		Version:      version,
		Description:  "implicit-feedback ALS (Hu–Koren–Volinsky) with conjugate-gradient solves",
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

// config is the parsed hyperparameters.
type config struct {
	k, iterations, cgSteps int
	reg, alpha, halfLife   float64
	seed                   int64
}

func parseParams(p sdk.Params) (config, error) {
	if err := sdk.ValidateParams(params, p); err != nil {
		return config{}, err
	}
	p = sdk.WithDefaults(params, p)
	var c config
	var err error
	var seed int
	for _, f := range []func() error{
		func() error { c.k, err = p.Int("factors", 64); return err },
		func() error { c.iterations, err = p.Int("iterations", 12); return err },
		func() error { c.cgSteps, err = p.Int("cg_steps", 3); return err },
		func() error { c.reg, err = p.Float("regularization", 1); return err },
		func() error { c.alpha, err = p.Float("alpha", 2); return err },
		func() error { seed, err = p.Int("seed", 42); return err },
		func() error { c.halfLife, err = p.Float("half_life_days", 7); return err },
	} {
		if err := f(); err != nil {
			return config{}, err
		}
	}
	c.seed = int64(seed)
	return c, nil
}

// Train implements sdk.Ranker.
func (r *Ranker) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	start := time.Now()
	c, err := parseParams(p)
	if err != nil {
		return sdk.Report{}, err
	}
	if err := d.Validate(); err != nil {
		return sdk.Report{}, err
	}
	m, metrics, err := train(ctx, d, c)
	if err != nil {
		return sdk.Report{}, err
	}
	w := modelio.NewWriter(io.Discard, magic)
	m.encode(w)
	m.version = fmt.Sprintf("%s-%08x", Name, w.Sum32())
	r.m.Store(m)
	return sdk.Report{Duration: time.Since(start), Metrics: metrics, ModelVersion: m.version}, nil
}

// train fits a model to d.
func train(ctx context.Context, d *sdk.Dataset, c config) (*model, map[string]float64, error) {
	k := c.k
	weights := d.Weights
	if tmax, ok := d.MaxTime(); ok && c.halfLife > 0 {
		weights = make([]float32, len(d.Weights))
		for j, w := range d.Weights {
			weights[j] = w * float32(math.Exp2(-float64(tmax-d.Times[j])/(c.halfLife*86400)))
		}
	}
	ui := csr.FromCOO(d.NumUsers, d.NumItems, d.Users, d.Items, weights)
	iu := ui.Transpose(d.NumItems)

	// Small random factors from the seed, drawn in a fixed order.
	rng := rand.New(rand.NewPCG(uint64(c.seed), 0x11e11e))
	scale := 0.1 / math.Sqrt(float64(k))
	x := make([]float32, d.NumUsers*k)
	y := make([]float32, d.NumItems*k)
	for _, f := range [][]float32{x, y} {
		for i := range f {
			f[i] = float32(rng.NormFloat64() * scale)
		}
	}

	s := &solver{k: k, alpha: float32(c.alpha), steps: c.cgSteps}
	iterStart := time.Now()
	for range c.iterations {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		s.g, s.fixed = withRidge(gram(y, k), k, c.reg), y
		s.solveAll(x, ui)
		s.g, s.fixed = withRidge(gram(x, k), k, c.reg), x
		s.solveAll(y, iu)
	}
	perIter := time.Since(iterStart).Seconds() / float64(max(1, c.iterations))

	m := &model{
		k: k, numUsers: d.NumUsers, numItems: d.NumItems, alpha: float32(c.alpha), reg: float32(c.reg),
		x: x, y: y, yty: gram(y, k),
		consumed: &csr.Matrix{Ptr: ui.Ptr, Cols: ui.Cols},
	}
	m.finish()
	return m, map[string]float64{
		"users": float64(d.NumUsers), "items": float64(d.NumItems), "interactions": float64(d.Len()),
		"nonzeros": float64(ui.NNZ()), "seconds_per_iteration": perIter,
		"loss": loss(x, y, k, ui, m.yty, float32(c.alpha), float32(c.reg)),
	}, nil
}

// finish derives the item norms.
func (m *model) finish() {
	k := m.k
	m.norm = make([]float32, m.numItems)
	for i := range m.numItems {
		f := m.y[i*k : (i+1)*k]
		m.norm[i] = float32(math.Sqrt(float64(blas32.Sdot(k, f, 1, f, 1))))
	}
}

// Bytes returns the memory the loaded model holds, and how much of it is
// the factors themselves.
func (r *Ranker) Bytes() (total, factors int) {
	m := r.m.Load()
	if m == nil {
		return 0, 0
	}
	factors = 4 * (cap(m.x) + cap(m.y))
	return factors + 8*cap(m.yty) + 4*cap(m.norm) + m.consumed.Bytes(), factors
}

func (r *Ranker) model() (*model, error) {
	m := r.m.Load()
	if m == nil {
		return nil, fmt.Errorf("%s: %w", Name, sdk.ErrNotTrained)
	}
	return m, nil
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
	w.Int(m.k)
	w.Int(m.numUsers)
	w.Int(m.numItems)
	w.Float64(float64(m.alpha))
	w.Float64(float64(m.reg))
	w.Float32s(m.x)
	w.Float32s(m.y)
	for _, v := range m.yty {
		w.Float64(v)
	}
	w.Matrix(m.consumed)
}

// Load implements sdk.Ranker. It reads straight into the model's slices,
// so loading needs little more memory than the model itself.
func (r *Ranker) Load(rd io.Reader) error {
	mr, err := modelio.NewReader(rd, magic)
	if err != nil {
		return err
	}
	m := &model{}
	m.k = mr.Int(1, 512)
	m.numUsers = mr.Int(0, math.MaxInt32)
	m.numItems = mr.Int(0, math.MaxInt32)
	m.alpha = float32(mr.Float64())
	m.reg = float32(mr.Float64())
	if mr.Err() == nil && (m.numUsers*m.k > math.MaxInt32 || m.numItems*m.k > math.MaxInt32) {
		mr.Fail(fmt.Errorf("%w: %d×%d factors", modelio.ErrCorrupt, m.numUsers+m.numItems, m.k))
	}
	m.x = mr.Float32s(m.numUsers * m.k)
	m.y = mr.Float32s(m.numItems * m.k)
	if mr.Err() == nil {
		m.yty = make([]float64, m.k*m.k)
		for i := range m.yty {
			m.yty[i] = mr.Float64()
		}
	}
	m.consumed = mr.Matrix(m.numUsers, m.numItems, math.MaxInt32)
	if err := mr.Close(); err != nil {
		return err
	}
	m.finish()
	m.version = fmt.Sprintf("%s-%08x", Name, mr.Sum32())
	r.m.Store(m)
	return nil
}
