// Package topk selects the k best-scored items without sorting them all.
package topk

import (
	"container/heap"
	"math"
	"slices"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Selector keeps the k best (item, score) pairs pushed into it: higher
// score first, lower item index first among equal scores, so that answers
// do not depend on the order items were scanned in.
type Selector struct {
	k int
	h minHeap
}

// New returns a Selector for the best k items.
func New(k int) *Selector {
	return &Selector{k: k, h: make(minHeap, 0, min(k, 1024))}
}

// Push offers an item. NaN scores are ignored.
func (s *Selector) Push(item int32, score float32) {
	if score != score || s.k <= 0 {
		return
	}
	x := sdk.Scored{Item: item, Score: score}
	if len(s.h) < s.k {
		heap.Push(&s.h, x)
		return
	}
	if worse(x, s.h[0]) {
		return
	}
	s.h[0] = x
	heap.Fix(&s.h, 0)
}

// Floor returns the score an item must beat to get in, or -Inf while
// fewer than k items are held. Callers use it to skip work.
func (s *Selector) Floor() float32 {
	if len(s.h) < s.k {
		return float32(math.Inf(-1))
	}
	return s.h[0].Score
}

// Len returns how many items are held.
func (s *Selector) Len() int { return len(s.h) }

// Sorted returns the items held, best first, and empties the Selector.
func (s *Selector) Sorted() []sdk.Scored {
	out := []sdk.Scored(s.h)
	s.h = nil
	slices.SortFunc(out, func(a, b sdk.Scored) int {
		switch {
		case worse(b, a):
			return -1
		case worse(a, b):
			return 1
		}
		return 0
	})
	return out
}

// worse reports whether a ranks below b.
func worse(a, b sdk.Scored) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.Item > b.Item)
}

type minHeap []sdk.Scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(sdk.Scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
