package topk

import "slices"

// Skip is a set of items a ranking must leave out.
type Skip []int32

// NewSkip returns the union of the given item lists.
func NewSkip(lists ...[]int32) Skip {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	s := make(Skip, 0, n)
	for _, l := range lists {
		s = append(s, l...)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// Has reports whether item is in the set.
func (s Skip) Has(item int32) bool {
	if len(s) < 16 {
		return slices.Contains(s, item)
	}
	_, ok := slices.BinarySearch(s, item)
	return ok
}
