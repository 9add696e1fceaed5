package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// SplitKind is how held-out data is chosen.
type SplitKind string

// The split kinds.
const (
	// Random holds out a fraction of each user's positive items, at random.
	Random SplitKind = "random"
	// Temporal holds out everything after a time cut: the newest Fraction of
	// all interactions. Only users with training data are evaluated.
	Temporal SplitKind = "temporal"
	// LeaveOneOut holds out each user's newest positive item.
	LeaveOneOut SplitKind = "loo"
)

// SplitConfig configures a split.
type SplitConfig struct {
	// Kind is the split kind; default Random.
	Kind SplitKind
	// Fraction is the held-out share for Random (of each user's positive
	// items) and Temporal (of all interactions, by time). Default 0.2.
	Fraction float64
	// Seed makes Random and LeaveOneOut's tie-breaks reproducible.
	Seed uint64
}

func (c *SplitConfig) setDefaults() error {
	if c.Kind == "" {
		c.Kind = Random
	}
	if c.Fraction == 0 {
		c.Fraction = 0.2
	}
	switch c.Kind {
	case Random, Temporal, LeaveOneOut:
	default:
		return fmt.Errorf("unknown split %q (want random, temporal or loo)", c.Kind)
	}
	if c.Fraction <= 0 || c.Fraction >= 1 || math.IsNaN(c.Fraction) {
		return fmt.Errorf("split fraction %v must be between 0 and 1", c.Fraction)
	}
	return nil
}

// Split is a training set and, per user, the held-out relevant items.
type Split struct {
	// Train is what rankers train on; it has every user and item of the
	// original dataset, so indexes agree.
	Train *sdk.Dataset
	// Test maps a user to their held-out positive items. Only users with
	// both training and held-out positives appear.
	Test map[int32]map[int32]bool

	once    sync.Once
	trained map[int32]map[int32]bool
}

// Users returns the evaluated users, sorted.
func (s *Split) Users() []int32 {
	out := make([]int32, 0, len(s.Test))
	for u := range s.Test {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// HeldOut counts the held-out items.
func (s *Split) HeldOut() int {
	n := 0
	for _, rel := range s.Test {
		n += len(rel)
	}
	return n
}

// Holdout splits d as configured. d must have one row per (user, item), as
// Aggregate and feed.Build produce; held-out rows are positive ones only
// (negative signals stay in training). It returns an error for a bad config
// or when nothing could be held out.
func Holdout(d *sdk.Dataset, cfg SplitConfig) (*Split, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if cfg.Kind != Random && len(d.Times) != d.Len() {
		return nil, fmt.Errorf("split %s needs interaction times", cfg.Kind)
	}
	held := make([]bool, d.Len())
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))

	// Row indexes of each user's positive rows.
	byUser := map[int32][]int{}
	for j := range d.Len() {
		if d.Weights[j] > 0 {
			byUser[d.Users[j]] = append(byUser[d.Users[j]], j)
		}
	}
	users := make([]int32, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users) // iterate in a fixed order: the random stream is then reproducible

	switch cfg.Kind {
	case Random:
		for _, u := range users {
			rows := byUser[u]
			if len(rows) < 2 {
				continue
			}
			n := int(math.Round(cfg.Fraction * float64(len(rows))))
			n = max(1, min(n, len(rows)-1))
			r.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
			for _, j := range rows[:n] {
				held[j] = true
			}
		}
	case LeaveOneOut:
		for _, u := range users {
			rows := byUser[u]
			if len(rows) < 2 {
				continue
			}
			r.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] }) // random among ties
			newest := rows[0]
			for _, j := range rows[1:] {
				if d.Times[j] > d.Times[newest] {
					newest = j
				}
			}
			held[newest] = true
		}
	case Temporal:
		times := slices.Clone(d.Times)
		sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
		cut := times[min(len(times)-1, int(float64(len(times))*(1-cfg.Fraction)))]
		for j := range d.Len() {
			if d.Times[j] >= cut && d.Weights[j] > 0 {
				held[j] = true
			}
		}
	}

	train := &sdk.Dataset{NumUsers: d.NumUsers, NumItems: d.NumItems, Features: d.Features}
	trained := map[int32]bool{}
	test := map[int32]map[int32]bool{}
	for j := range d.Len() {
		u, it := d.Users[j], d.Items[j]
		if held[j] {
			if test[u] == nil {
				test[u] = map[int32]bool{}
			}
			test[u][it] = true
			continue
		}
		train.Users = append(train.Users, u)
		train.Items = append(train.Items, it)
		train.Weights = append(train.Weights, d.Weights[j])
		if len(d.Times) > 0 {
			train.Times = append(train.Times, d.Times[j])
		}
		if d.Weights[j] > 0 {
			trained[u] = true
		}
	}
	for u := range test {
		if !trained[u] {
			delete(test, u) // nothing to rank from: a cold user, not this evaluation's question
		}
	}
	if len(test) == 0 {
		return nil, fmt.Errorf("split %s held out nothing: too few interactions per user", cfg.Kind)
	}
	return &Split{Train: train, Test: test}, nil
}
