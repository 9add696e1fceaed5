package sdk

import "fmt"

// Check reports, wrapped in ErrBadInput, what is wrong with q for a model of
// numItems items: K below 1, User below -1, or a candidate or History item
// out of range. Excluded items out of range are harmless and pass. Any User
// from -1 up passes: whether an unknown one can be ranked (from History) is
// the ranker's call, see Known.
func (q Query) Check(numItems int) error {
	if q.K < 1 {
		return fmt.Errorf("%w: k=%d, want at least 1", ErrBadInput, q.K)
	}
	if q.User < -1 {
		return fmt.Errorf("%w: user %d, want an index or -1", ErrBadInput, q.User)
	}
	for _, c := range q.Candidates {
		if c < 0 || int(c) >= numItems {
			return fmt.Errorf("%w: candidate item %d out of range [0,%d)", ErrBadInput, c, numItems)
		}
	}
	for _, h := range q.History {
		if h.Item < 0 || int(h.Item) >= numItems {
			return fmt.Errorf("%w: history item %d out of range [0,%d)", ErrBadInput, h.Item, numItems)
		}
	}
	return nil
}

// Known reports whether q.User is a user of a model with numUsers users.
func (q Query) Known(numUsers int) bool { return q.User >= 0 && int(q.User) < numUsers }

// CheckSimilar reports, wrapped in ErrBadInput, what is wrong with a Similar
// call on a model of numItems items.
func CheckSimilar(item int32, k, numItems int) error {
	if k < 1 {
		return fmt.Errorf("%w: k=%d, want at least 1", ErrBadInput, k)
	}
	if item < 0 || int(item) >= numItems {
		return fmt.Errorf("%w: item %d out of range [0,%d)", ErrBadInput, item, numItems)
	}
	return nil
}
