package als

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/limelight-hq/limelight/rankers/internal/csr"
)

// blas32 is gonum's pure-Go BLAS; its float32 dot, axpy and rank-1 update
// kernels are SSE assembly on amd64.
var blas32 gonum.Implementation

// gramBlock is how many rows one partial Gram matrix sums. The partition
// depends only on the row count, so the result does not depend on the
// number of workers.
const gramBlock = 2048

// gram returns FᵀF for the rows×k matrix f, in float64, row-major k×k.
// Partial sums over fixed blocks of rows run in parallel (float32, gonum's
// rank-1 update) and are added up in block order.
func gram(f []float32, k int) []float64 {
	rows := len(f) / k
	nb := (rows + gramBlock - 1) / gramBlock
	parts := make([][]float32, nb)
	parallel(nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			p := make([]float32, k*k)
			for r := b * gramBlock; r < min((b+1)*gramBlock, rows); r++ {
				row := f[r*k : (r+1)*k]
				blas32.Sger(k, k, 1, row, 1, row, 1, p, k)
			}
			parts[b] = p
		}
	})
	g := make([]float64, k*k)
	for _, p := range parts {
		for i, v := range p {
			g[i] += float64(v)
		}
	}
	return g
}

// parallel runs f over [0,n) in chunks of size chunk on GOMAXPROCS
// goroutines. f must not depend on which goroutine runs which chunk.
func parallel(n, chunk int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				f(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}

// solver holds what one half-iteration shares across rows.
type solver struct {
	k     int
	g     []float32 // FᵀF + λI of the fixed side, k×k
	fixed []float32 // the fixed side's factors
	alpha float32
	steps int
}

// confidence returns Hu–Koren–Volinsky's confidence and preference for a
// summed interaction weight w: c = 1 + α|w|, p = 1 for engagement, 0 for
// a net skip or dislike.
func confidence(alpha, w float32) (c, p float32) {
	if w > 0 {
		return 1 + alpha*w, 1
	}
	return 1 - alpha*w, 0
}

// solveAll updates every row of x (rows of m) with CG steps against the
// fixed side. Each row's update reads only that row, the fixed side and
// g, so the result is the same whatever the scheduling.
func (s *solver) solveAll(x []float32, m *csr.Matrix) {
	k := s.k
	parallel(m.Rows(), 64, func(lo, hi int) {
		buf := make([]float32, 3*k)
		for u := lo; u < hi; u++ {
			cols, vals := m.Row(u)
			s.solveRow(x[u*k:(u+1)*k], cols, vals, buf)
		}
	})
}

// solveRow runs s.steps conjugate-gradient steps on
//
//	(FᵀF + λI + Σᵢ (cᵢ−1) fᵢfᵢᵀ) x = Σᵢ cᵢpᵢ fᵢ
//
// warm-started from the current x (Takács, Pilászy, Tikk 2011).
func (s *solver) solveRow(x []float32, cols []int32, vals []float32, buf []float32) {
	k := s.k
	r, p, ap := buf[:k], buf[k:2*k], buf[2*k:3*k]
	// r = b − A x
	blas32.Sgemv(blas.NoTrans, k, k, -1, s.g, k, x, 1, 0, r, 1)
	for j, i := range cols {
		f := s.fixed[int(i)*k : int(i)*k+k]
		c, pref := confidence(s.alpha, vals[j])
		blas32.Saxpy(k, c*pref-(c-1)*blas32.Sdot(k, f, 1, x, 1), f, 1, r, 1)
	}
	copy(p, r)
	rs := blas32.Sdot(k, r, 1, r, 1)
	for range s.steps {
		if rs < 1e-20 {
			break
		}
		// ap = A p
		blas32.Sgemv(blas.NoTrans, k, k, 1, s.g, k, p, 1, 0, ap, 1)
		for j, i := range cols {
			f := s.fixed[int(i)*k : int(i)*k+k]
			c, _ := confidence(s.alpha, vals[j])
			blas32.Saxpy(k, (c-1)*blas32.Sdot(k, f, 1, p, 1), f, 1, ap, 1)
		}
		pap := blas32.Sdot(k, p, 1, ap, 1)
		if pap <= 0 || math.IsNaN(float64(pap)) {
			break
		}
		a := rs / pap
		blas32.Saxpy(k, a, p, 1, x, 1)
		blas32.Saxpy(k, -a, ap, 1, r, 1)
		rsNew := blas32.Sdot(k, r, 1, r, 1)
		beta := rsNew / rs
		for t := range p {
			p[t] = r[t] + beta*p[t]
		}
		rs = rsNew
	}
}

// withRidge returns g + λI as float32.
func withRidge(g []float64, k int, reg float64) []float32 {
	out := make([]float32, k*k)
	for i, v := range g {
		out[i] = float32(v)
	}
	for i := range k {
		out[i*k+i] += float32(reg)
	}
	return out
}

// loss returns the training objective per stored entry,
//
//	Σ_u Σ_i c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²),
//
// computed without visiting unobserved pairs: their part is xᵀ(YᵀY)x.
func loss(x, y []float32, k int, m *csr.Matrix, yty []float64, alpha, reg float32) float64 {
	rows := m.Rows()
	g := withRidge(yty, k, 0)
	parts := make([]float64, (rows+gramBlock-1)/gramBlock)
	parallel(len(parts), 1, func(lo, hi int) {
		gx := make([]float32, k)
		for b := lo; b < hi; b++ {
			var sum float64
			for u := b * gramBlock; u < min((b+1)*gramBlock, rows); u++ {
				xu := x[u*k : (u+1)*k]
				blas32.Sgemv(blas.NoTrans, k, k, 1, g, k, xu, 1, 0, gx, 1)
				sum += float64(blas32.Sdot(k, xu, 1, gx, 1))
				cols, vals := m.Row(u)
				for j, i := range cols {
					c, p := confidence(alpha, vals[j])
					s := float64(blas32.Sdot(k, xu, 1, y[int(i)*k:int(i)*k+k], 1))
					sum += float64(c-1)*s*s - 2*float64(c*p)*s + float64(c*p*p)
				}
			}
			parts[b] = sum
		}
	})
	var total float64
	for _, p := range parts {
		total += p
	}
	total += float64(reg) * (sumSquares(x) + sumSquares(y))
	return total / float64(max(1, m.NNZ()))
}

func sumSquares(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}
