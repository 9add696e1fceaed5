package feed

import (
	"math"
	"sort"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

type pair struct{ u, i int32 }

// Pairs sums weighted interactions into one weight per (user, item),
// remembering the time of each pair's last interaction. It is how both the
// server's training and offline evaluation build datasets.
type Pairs struct {
	sums map[pair]float64
	last map[pair]int64
}

// NewPairs returns an empty accumulator.
func NewPairs() *Pairs { return &Pairs{sums: map[pair]float64{}, last: map[pair]int64{}} }

// Add adds weight w for user on item at Unix second at.
func (p *Pairs) Add(user, item int32, w float64, at int64) {
	k := pair{user, item}
	p.sums[k] += w
	if at > p.last[k] {
		p.last[k] = at
	}
}

// Dataset returns the pairs whose weight did not cancel out, sorted by user
// then item.
func (p *Pairs) Dataset(numUsers, numItems int, features []sdk.ItemFeatures) *sdk.Dataset {
	keys := make([]pair, 0, len(p.sums))
	for k, w := range p.sums {
		if math.Abs(w) > 1e-6 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].u != keys[b].u {
			return keys[a].u < keys[b].u
		}
		return keys[a].i < keys[b].i
	})
	d := &sdk.Dataset{
		NumUsers: numUsers, NumItems: numItems,
		Users: make([]int32, len(keys)), Items: make([]int32, len(keys)),
		Weights: make([]float32, len(keys)), Times: make([]int64, len(keys)),
		Features: features,
	}
	for j, k := range keys {
		d.Users[j], d.Items[j] = k.u, k.i
		d.Weights[j] = float32(p.sums[k])
		d.Times[j] = p.last[k]
	}
	return d
}
