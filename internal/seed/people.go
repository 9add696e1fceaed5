package seed

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

var categoryWeights = func() []float64 {
	w := make([]float64, len(categories))
	for i, c := range categories {
		w[i] = c.weight
	}
	return w
}()

// users creates the fans with planted tastes, and records each fan's UTC
// offset and peak activity hour for the interaction clock.
func (g *generator) users() []User {
	r := g.rng(streamUsers)
	n, nc := g.cfg.Users, len(categories)
	users := make([]User, n)
	tastes := make([]float64, n*nc) // one backing array for all fans
	g.userOffset = make([]int32, n)
	g.userPeak = make([]float32, n)
	for i := range users {
		ci := pick(r, countryWeights)
		t := tastes[i*nc : (i+1)*nc : (i+1)*nc]
		plantTastes(r, t)
		users[i] = User{
			Handle:      fmt.Sprintf("fan_%06d", i),
			DisplayName: personName(r, countries[ci].code, true),
			Country:     countries[ci].code,
			AgeBracket:  ageBrackets[pick(r, ageWeights)],
			Tastes:      t,
		}
		g.userOffset[i] = int32(countries[ci].offset)
		g.userPeak[i] = peakHour(r)
	}
	return users
}

// plantTastes fills t with a preference distribution concentrated on 1–3
// favourite categories (about 90% of the mass, Gamma(2)-distributed among
// them) over a thin random background on every category.
func plantTastes(r *rand.Rand, t []float64) {
	k := 1 + pick(r, []float64{0.3, 0.45, 0.25})
	var bg float64
	for i := range t {
		t[i] = r.ExpFloat64()
		bg += t[i]
	}
	main := 0.86 + 0.1*r.Float64()
	for i := range t {
		t[i] *= (1 - main) / bg
	}
	// Favourites without replacement, biased towards popular categories.
	w := slices.Clone(categoryWeights)
	fav := make([]int, k)
	var favSum float64
	fw := make([]float64, k)
	for j := range fav {
		fav[j] = pick(r, w)
		w[fav[j]] = 0
		fw[j] = r.ExpFloat64() + r.ExpFloat64()
		favSum += fw[j]
	}
	for j, c := range fav {
		t[c] += main * fw[j] / favSum
	}
	var sum float64
	for _, x := range t {
		sum += x
	}
	for i := range t {
		t[i] /= sum
	}
}

// peakHour draws a fan's most active local hour: mostly evenings, some
// mornings, lunch breaks and late nights.
func peakHour(r *rand.Rand) float32 {
	centres := [...]float64{8, 12.5, 20, 22.5}
	h := centres[pick(r, []float64{0.15, 0.2, 0.45, 0.2})] + r.NormFloat64()
	return float32(math.Mod(h+24, 24))
}

// personName returns a display name fitting the country: kanji or hangul for
// Japan and Korea, "Given F." for fans elsewhere and "Given Family" for
// creators.
func personName(r *rand.Rand, country string, fan bool) string {
	switch country {
	case "JP":
		return oneOf(r, jaFamilyNames) + oneOf(r, jaGivenNames).display
	case "KR":
		return oneOf(r, koFamilyNames) + oneOf(r, koGivenNames).display
	}
	given, family := oneOf(r, givenNames).display, oneOf(r, familyNames)
	if fan {
		return given + " " + firstRune(family) + "."
	}
	return given + " " + family
}

func firstRune(s string) string {
	for i := range s {
		if i > 0 {
			return s[:i]
		}
	}
	return s
}

// influencers creates the creators: every category gets one before any gets
// two, then categories follow their popularity. Reach (used to spread content
// and follows) is a power law over a random ranking.
func (g *generator) influencers() []Influencer {
	r := g.rng(streamInfluencers)
	n := g.cfg.Influencers
	infl := make([]Influencer, n)
	g.inflCountry = make([]int, n)
	g.inflPower = make([]float64, n)
	g.inflCat = make([]int8, n)
	firstRound := r.Perm(len(categories))
	ranks := r.Perm(n)
	for i := range infl {
		ci := 0
		if i < len(firstRound) {
			ci = firstRound[i]
		} else {
			ci = pick(r, categoryWeights)
		}
		cat := &categories[ci]
		co := pick(r, countryWeights)
		given := oneOf(r, givenNames)
		switch countries[co].code {
		case "JP":
			given = oneOf(r, jaGivenNames)
		case "KR":
			given = oneOf(r, koGivenNames)
		}
		display := given.display
		switch countries[co].code {
		case "JP":
			display = oneOf(r, jaFamilyNames) + given.display
		case "KR":
			display = oneOf(r, koFamilyNames) + given.display
		default:
			display += " " + oneOf(r, familyNames)
		}
		tags := pickDistinct(r, cat.tags, 2)
		infl[i] = Influencer{
			Handle:      fmt.Sprintf("%s_%s_%d", cat.name, given.handle, i),
			DisplayName: display,
			Bio: fmt.Sprintf("%s sharing %s, %s and %s. %s content every week.",
				cat.bios[r.IntN(2)], tags[0], tags[1], oneOf(r, cat.phrases), cat.label),
			Category: cat.name,
			Country:  countries[co].code,
		}
		g.inflCountry[i] = co
		g.inflCat[i] = int8(ci)
		g.inflPower[i] = 1 / math.Pow(float64(ranks[i]+1), 0.8)
	}
	return infl
}

// pickDistinct returns k distinct elements of s (k ≤ len(s)) in random order.
func pickDistinct(r *rand.Rand, s []string, k int) []string {
	var idx [16]int
	n := len(s)
	for i := range n {
		idx[i] = i
	}
	out := make([]string, k)
	for j := range k {
		m := j + r.IntN(n-j)
		idx[j], idx[m] = idx[m], idx[j]
		out[j] = s[idx[j]]
	}
	return out
}

// follows makes every fan follow 3–10 creators (fewer if there are not that
// many), mostly in their favourite categories and biased to big creators.
func (g *generator) follows(users []User) []Follow {
	r := g.rng(streamFollows)
	nc, ni := len(categories), g.cfg.Influencers
	byCat := make([][]int32, nc)
	for i := range ni {
		c := g.inflCat[i]
		byCat[c] = append(byCat[c], int32(i))
	}
	catAlias := make([]alias, nc)
	has := make([]float64, nc)
	for c, ids := range byCat {
		if len(ids) == 0 {
			continue
		}
		has[c] = 1
		w := make([]float64, len(ids))
		for j, id := range ids {
			w[j] = g.inflPower[id]
		}
		catAlias[c] = newAlias(w)
	}
	global := newAlias(g.inflPower)

	follows := make([]Follow, 0, len(users)*13/2)
	stamp := make([]int32, ni) // stamp[i] == u+1: fan u already follows i
	weights := make([]float64, nc)
	span := g.nowMs - g.startMs
	for u := range users {
		for c := range weights {
			weights[c] = users[u].Tastes[c] * has[c]
		}
		want := min(3+r.IntN(8), ni)
		got := 0
		for tries := 0; got < want && tries < 8*want; tries++ {
			var i int
			if r.Float64() < 0.1 {
				i = global.sample(r)
			} else {
				c := pick(r, weights)
				i = int(byCat[c][catAlias[c].sample(r)])
			}
			if stamp[i] == int32(u+1) {
				continue
			}
			stamp[i] = int32(u + 1)
			got++
			follows = append(follows, Follow{User: u, Influencer: i, At: g.time(g.startMs + r.Int64N(span))})
		}
		// Favourite categories with few creators can exhaust the draws:
		// top up with whoever comes next from a random starting point.
		for i := r.IntN(ni); got < want; i = (i + 1) % ni {
			if stamp[i] != int32(u+1) {
				stamp[i] = int32(u + 1)
				got++
				follows = append(follows, Follow{User: u, Influencer: i, At: g.time(g.startMs + r.Int64N(span))})
			}
		}
	}
	slices.SortFunc(follows, func(a, b Follow) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.User, b.User), cmp.Compare(a.Influencer, b.Influencer))
	})
	return follows
}
