package seed

import "math/rand/v2"

// alias samples an index in proportion to fixed weights in O(1) (Vose's alias
// method), so drawing a million interactions over tens of thousands of items
// never scans the items.
type alias struct {
	prob  []float64
	alias []int32
}

// newAlias builds a sampler over w. Weights must be non-negative with a
// positive sum; zero-weight indexes are never drawn.
func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]float64, n), alias: make([]int32, n)}
	var sum float64
	for _, x := range w {
		sum += x
	}
	scaled := make([]float64, n)
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s] = scaled[s]
		a.alias[s] = l
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// Leftovers are 1 up to rounding error.
	for _, i := range large {
		a.prob[i], a.alias[i] = 1, i
	}
	for _, i := range small {
		if w[i] > 0 {
			a.prob[i], a.alias[i] = 1, i
		} else {
			// A zero weight left over by rounding: never return it.
			a.prob[i], a.alias[i] = 0, firstPositive(w)
		}
	}
	return a
}

func firstPositive(w []float64) int32 {
	for i, x := range w {
		if x > 0 {
			return int32(i)
		}
	}
	return 0
}

// sample draws one index using a single uniform variate.
func (a *alias) sample(r *rand.Rand) int {
	n := len(a.prob)
	x := r.Float64() * float64(n)
	i := int(x)
	if i >= n {
		i = n - 1
	}
	if x-float64(i) < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
