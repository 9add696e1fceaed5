package eval

import (
	"math"
	"testing"
)

func set(items ...int32) map[int32]bool {
	m := map[int32]bool{}
	for _, it := range items {
		m[it] = true
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// Each case is worked out by hand in its comment.
func TestScoreByHand(t *testing.T) {
	t.Parallel()
	l2 := func(x float64) float64 { return 1 / math.Log2(x) }
	cases := []struct {
		name     string
		ranked   []int32
		relevant map[int32]bool
		k        int
		want     userMetrics
	}{{
		// Hits at ranks 1 and 3 of 5; 3 relevant.
		// P = 2/5. R = 2/3. DCG = 1/log2(2) + 1/log2(4) = 1.5;
		// IDCG = 1 + 1/log2(3) + 1/log2(4). AP = (1/1 + 2/3) / min(5,3).
		name: "two hits of three", ranked: []int32{10, 11, 12, 13, 14}, relevant: set(10, 12, 99), k: 5,
		want: userMetrics{precision: 0.4, recall: 2.0 / 3, ndcg: 1.5 / (1 + l2(3) + 0.5), ap: (1 + 2.0/3) / 3, hit: 1},
	}, {
		// No hit at all: everything zero.
		name: "miss", ranked: []int32{1, 2, 3}, relevant: set(4), k: 3,
		want: userMetrics{},
	}, {
		// Perfect: the only relevant item first. P = 1/3 (k = 3), R = 1,
		// NDCG = 1, AP = 1/1 / min(3,1) = 1.
		name: "perfect single", ranked: []int32{7, 1, 2}, relevant: set(7), k: 3,
		want: userMetrics{precision: 1.0 / 3, recall: 1, ndcg: 1, ap: 1, hit: 1},
	}, {
		// The hit at rank 2 is past k = 1: nothing counts.
		name: "hit beyond k", ranked: []int32{1, 7}, relevant: set(7), k: 1,
		want: userMetrics{},
	}, {
		// A ranking shorter than k counts as padded with misses: P = 1/4.
		// Hit at rank 2: DCG = 1/log2(3), IDCG = 1; AP = (1/2) / 1.
		name: "short ranking", ranked: []int32{1, 7}, relevant: set(7), k: 4,
		want: userMetrics{precision: 0.25, recall: 1, ndcg: l2(3), ap: 0.5, hit: 1},
	}, {
		// More relevant items than k: IDCG and AP normalise by k = 2.
		// Hits at 1 and 2: NDCG = 1, AP = (1 + 1) / 2 = 1, R = 2/4.
		name: "more relevant than k", ranked: []int32{1, 2, 3}, relevant: set(1, 2, 3, 4), k: 2,
		want: userMetrics{precision: 1, recall: 0.5, ndcg: 1, ap: 1, hit: 1},
	}}
	for _, c := range cases {
		got := score(c.ranked, c.relevant, c.k)
		if !near(got.precision, c.want.precision) || !near(got.recall, c.want.recall) || !near(got.ndcg, c.want.ndcg) ||
			!near(got.ap, c.want.ap) || got.hit != c.want.hit {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestAccumulatorAveragesAndCoverage(t *testing.T) {
	t.Parallel()
	a := newAccumulator(10)
	a.add([]int32{0, 1}, set(0), 2) // P 1/2, R 1, NDCG 1, AP 1, hit
	a.add([]int32{1, 2}, set(5), 2) // all zero
	m := a.metrics()
	// Means over two users; items 0, 1, 2 of 10 recommended: coverage 0.3.
	if m.Users != 2 || !near(m.Precision, 0.25) || !near(m.Recall, 0.5) || !near(m.NDCG, 0.5) ||
		!near(m.MAP, 0.5) || !near(m.HitRate, 0.5) || !near(m.Coverage, 0.3) {
		t.Fatalf("metrics %+v", m)
	}
	if v, ok := m.Get("ndcg"); !ok || v != m.NDCG {
		t.Errorf("Get(ndcg) = %v %v", v, ok)
	}
	if _, ok := m.Get("accuracy"); ok {
		t.Error("Get knows a metric that does not exist")
	}
}
