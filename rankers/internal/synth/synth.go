// Package synth makes synthetic datasets with planted structure for the
// rankers' tests and benchmarks: users and items fall into clusters, users
// mostly engage with their own cluster's items, and popularity is skewed, so
// a ranker that learns the structure measurably beats one that does not.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Config sizes a dataset.
type Config struct {
	// Users, Items and Interactions are the sizes; Interactions is exact.
	Users, Items, Interactions int
	// Clusters is the number of interest groups (and item categories).
	Clusters int
	// InCluster is the share of interactions within the user's cluster.
	InCluster float64
	// Seed makes the dataset reproducible.
	Seed uint64
}

// Bench is the benchmark size: about 50,000 users, 20,000 items.
func Bench(interactions int) Config {
	return Config{Users: 50_000, Items: 20_000, Interactions: interactions, Clusters: 40, InCluster: 0.8, Seed: 1}
}

var words = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike
november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar
dune ember fjord grove harbor iris jade kelp lotus maple nectar onyx pearl quartz raven sage thyme umber`)

// Generate makes a dataset. Item i is in cluster i % Clusters; user u in
// cluster u % Clusters. Within a cluster, item popularity follows a Zipf
// law. Items carry a category, tags and text drawn from their cluster's
// vocabulary, so text similarity has signal too.
func Generate(c Config) *sdk.Dataset {
	rng := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	d := &sdk.Dataset{NumUsers: c.Users, NumItems: c.Items}
	perCluster := make([][]int32, c.Clusters)
	for i := range c.Items {
		perCluster[i%c.Clusters] = append(perCluster[i%c.Clusters], int32(i))
	}
	// Cumulative Zipf(1) weights over a cluster's items, and over all items.
	zipf := func(n int) []float64 {
		cum := make([]float64, n)
		s := 0.0
		for r := range n {
			s += 1 / float64(r+1)
			cum[r] = s
		}
		for r := range cum {
			cum[r] /= s
		}
		return cum
	}
	pick := func(cum []float64) int {
		x := rng.Float64()
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	clusterCum := make([][]float64, c.Clusters)
	for k, items := range perCluster {
		clusterCum[k] = zipf(len(items))
	}
	globalCum := zipf(c.Items)
	globalOrder := rng.Perm(c.Items)

	const t0 = 1_780_000_000
	d.Users = make([]int32, c.Interactions)
	d.Items = make([]int32, c.Interactions)
	d.Weights = make([]float32, c.Interactions)
	d.Times = make([]int64, c.Interactions)
	for j := range c.Interactions {
		u := rng.IntN(c.Users)
		var item int32
		if k := u % c.Clusters; rng.Float64() < c.InCluster && len(perCluster[k]) > 0 {
			item = perCluster[k][pick(clusterCum[k])]
		} else {
			item = int32(globalOrder[pick(globalCum)])
		}
		d.Users[j], d.Items[j] = int32(u), item
		d.Weights[j] = float32(1 + rng.IntN(3))
		d.Times[j] = t0 + rng.Int64N(60*86400)
	}
	d.Features = make([]sdk.ItemFeatures, c.Items)
	for i := range c.Items {
		k := i % c.Clusters
		vocab := func() string { return words[(k*7+rng.IntN(6))%len(words)] }
		var body strings.Builder
		for range 20 {
			if rng.IntN(4) == 0 {
				body.WriteString(words[rng.IntN(len(words))])
			} else {
				body.WriteString(vocab())
			}
			body.WriteByte(' ')
		}
		d.Features[i] = sdk.ItemFeatures{
			Category:    fmt.Sprintf("cat%02d", k),
			Tags:        []string{fmt.Sprintf("topic%02d", k), vocab()},
			Title:       vocab() + " " + vocab() + " " + words[rng.IntN(len(words))],
			Body:        body.String(),
			Language:    "en",
			PublishedAt: t0 - int64(rng.IntN(90*86400)),
		}
	}
	return d
}

// Split holds out, for every user with at least minHistory interactions,
// their latest interaction's item (all of its occurrences) as the test set
// and returns the rest as the training set. test[u] is nil for users not
// held out.
func Split(d *sdk.Dataset, minHistory int) (train *sdk.Dataset, test [][]int32) {
	count := make([]int, d.NumUsers)
	last := make([]int, d.NumUsers)
	for u := range last {
		last[u] = -1
	}
	for j, u := range d.Users {
		count[u]++
		if last[u] < 0 || d.Times[j] > d.Times[last[u]] {
			last[u] = j
		}
	}
	test = make([][]int32, d.NumUsers)
	held := make([]int32, d.NumUsers)
	for u := range held {
		held[u] = -1
		if count[u] >= minHistory {
			held[u] = d.Items[last[u]]
			test[u] = []int32{held[u]}
		}
	}
	train = &sdk.Dataset{NumUsers: d.NumUsers, NumItems: d.NumItems, Features: d.Features}
	for j, u := range d.Users {
		if d.Items[j] == held[u] {
			continue
		}
		train.Users = append(train.Users, u)
		train.Items = append(train.Items, d.Items[j])
		train.Weights = append(train.Weights, d.Weights[j])
		train.Times = append(train.Times, d.Times[j])
	}
	return train, test
}

// NDCG returns the normalised discounted cumulative gain of a ranking
// against a set of relevant items.
func NDCG(ranked []sdk.Scored, relevant []int32) float64 {
	var dcg, ideal float64
	for r, x := range ranked {
		for _, rel := range relevant {
			if x.Item == rel {
				dcg += 1 / math.Log2(float64(r+2))
				break
			}
		}
	}
	for r := range min(len(relevant), len(ranked)) {
		ideal += 1 / math.Log2(float64(r+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}
