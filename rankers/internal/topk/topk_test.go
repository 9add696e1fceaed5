package topk

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

func TestSelectorMatchesFullSort(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n, k := rng.IntN(60), rng.IntN(20)
		var all []sdk.Scored
		s := New(k)
		for i := range n {
			score := float32(rng.IntN(10)) // many ties
			if rng.IntN(15) == 0 {
				score = float32(math.NaN())
			}
			s.Push(int32(i), score)
			if score == score {
				all = append(all, sdk.Scored{Item: int32(i), Score: score})
			}
		}
		slices.SortFunc(all, func(a, b sdk.Scored) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			return cmp.Compare(a.Item, b.Item)
		})
		want := all[:min(k, len(all))]
		if got := s.Sorted(); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("trial %d (n=%d k=%d): got %v, want %v", trial, n, k, got, want)
		}
	}
}

func TestSkip(t *testing.T) {
	t.Parallel()
	var big []int32
	for i := int32(0); i < 100; i += 3 {
		big = append(big, i)
	}
	s := NewSkip([]int32{5, 1}, nil, []int32{5, 9}, big)
	for i := int32(-1); i < 110; i++ {
		want := i == 1 || i == 5 || i == 9 || (i >= 0 && i < 100 && i%3 == 0)
		if s.Has(i) != want {
			t.Errorf("Has(%d) = %v", i, !want)
		}
	}
	if NewSkip().Has(0) {
		t.Error("empty skip has 0")
	}
}
