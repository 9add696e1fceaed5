// Package eval evaluates rankers offline: it splits interactions into
// training and held-out data (random per-user holdout, temporal cut or
// leave-one-out), trains each ranker on the training part, ranks the full
// catalogue for every held-out user (excluding what they trained on), and
// scores the rankings with Precision, Recall, NDCG, MAP and HitRate at k and
// catalogue coverage. It also tunes a ranker's declared hyperparameters on a
// validation split carved out of the training data.
package eval

import "math"

// Metrics are ranking-quality numbers at a cut-off k, averaged over the
// evaluated users (Coverage is over the catalogue).
type Metrics struct {
	// Precision is hits in the top k divided by k.
	Precision float64 `json:"precision"`
	// Recall is hits in the top k divided by the user's held-out items.
	Recall float64 `json:"recall"`
	// NDCG is the discounted cumulative gain of the top k (binary
	// relevance, log2 discount) divided by the best achievable.
	NDCG float64 `json:"ndcg"`
	// MAP is the mean average precision at k: the precision at each hit,
	// summed and divided by min(k, held-out items).
	MAP float64 `json:"map"`
	// HitRate is the share of users with at least one hit in the top k.
	HitRate float64 `json:"hit_rate"`
	// Coverage is the share of the catalogue that appears in anyone's top k.
	Coverage float64 `json:"coverage"`
	// Users is how many users were evaluated.
	Users int `json:"users"`
}

// userMetrics holds one user's scores at k.
type userMetrics struct {
	precision, recall, ndcg, ap, hit float64
}

// score computes one user's metrics for a ranking (best first) against the
// set of relevant items. Only the first k entries of ranked count; a ranking
// shorter than k is scored as if padded with misses.
func score(ranked []int32, relevant map[int32]bool, k int) userMetrics {
	var m userMetrics
	if k <= 0 || len(relevant) == 0 {
		return m
	}
	hits := 0
	var dcg, sumPrec float64
	for i, it := range ranked[:min(k, len(ranked))] {
		if !relevant[it] {
			continue
		}
		hits++
		dcg += 1 / math.Log2(float64(i)+2)
		sumPrec += float64(hits) / float64(i+1)
	}
	var idcg float64
	for i := range min(k, len(relevant)) {
		idcg += 1 / math.Log2(float64(i)+2)
	}
	m.precision = float64(hits) / float64(k)
	m.recall = float64(hits) / float64(len(relevant))
	m.ndcg = dcg / idcg
	m.ap = sumPrec / float64(min(k, len(relevant)))
	if hits > 0 {
		m.hit = 1
	}
	return m
}

// accumulator averages userMetrics and tracks coverage.
type accumulator struct {
	sum      userMetrics
	n        int
	seen     map[int32]bool
	numItems int
}

func newAccumulator(numItems int) *accumulator {
	return &accumulator{seen: map[int32]bool{}, numItems: numItems}
}

func (a *accumulator) add(ranked []int32, relevant map[int32]bool, k int) {
	m := score(ranked, relevant, k)
	a.sum.precision += m.precision
	a.sum.recall += m.recall
	a.sum.ndcg += m.ndcg
	a.sum.ap += m.ap
	a.sum.hit += m.hit
	a.n++
	for _, it := range ranked[:min(k, len(ranked))] {
		a.seen[it] = true
	}
}

func (a *accumulator) metrics() Metrics {
	out := Metrics{Users: a.n}
	if a.n > 0 {
		n := float64(a.n)
		out.Precision, out.Recall, out.NDCG = a.sum.precision/n, a.sum.recall/n, a.sum.ndcg/n
		out.MAP, out.HitRate = a.sum.ap/n, a.sum.hit/n
	}
	if a.numItems > 0 {
		out.Coverage = float64(len(a.seen)) / float64(a.numItems)
	}
	return out
}

// Get returns the metric named name ("precision", "recall", "ndcg", "map",
// "hit_rate" or "coverage"), and false for an unknown name.
func (m Metrics) Get(name string) (float64, bool) {
	switch name {
	case "precision":
		return m.Precision, true
	case "recall":
		return m.Recall, true
	case "ndcg":
		return m.NDCG, true
	case "map":
		return m.MAP, true
	case "hit_rate", "hitrate":
		return m.HitRate, true
	case "coverage":
		return m.Coverage, true
	}
	return 0, false
}
