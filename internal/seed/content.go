package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// contents creates the content items, sorted by publish time, and plants
// their popularity: a Zipf law (exponent 1) over a random ranking, damped for
// items published late in the window since they had less time to be seen.
func (g *generator) contents(infl []Influencer) []Content {
	r := g.rng(streamContents)
	n, ni := g.cfg.Contents, g.cfg.Influencers

	// Owners: every creator gets one item while items last, the rest go by
	// reach; shuffled so first items are not all published first.
	owner := make([]int32, n)
	for j := range min(n, ni) {
		owner[j] = int32(j)
	}
	if n > ni {
		reach := newAlias(g.inflPower)
		for j := ni; j < n; j++ {
			owner[j] = int32(reach.sample(r))
		}
	}
	r.Shuffle(n, func(i, j int) { owner[i], owner[j] = owner[j], owner[i] })

	// Leave at least an hour (or a tenth of the window) after the last
	// publication so every item can be interacted with.
	span := g.nowMs - g.startMs
	gap := min(int64(3_600_000), span/10)
	g.pubMs = make([]int64, n)
	for j := range g.pubMs {
		g.pubMs[j] = g.startMs + r.Int64N(span-gap)
	}
	slices.Sort(g.pubMs)

	g.contentCat = make([]int8, n)
	g.contentKind = make([]int8, n)
	g.pop = make([]float64, n)
	ranks := r.Perm(n)
	kindWeights := []float64{45, 30, 10, 15}
	contents := make([]Content, n)
	for j := range contents {
		o := int(owner[j])
		ci := int(g.inflCat[o])
		if r.Float64() < 0.1 {
			// An off-topic item: any other category.
			ci = (ci + 1 + r.IntN(len(categories)-1)) % len(categories)
		}
		cat := &categories[ci]
		kind := pick(r, kindWeights)
		lang := "en"
		if r.Float64() < 0.1 {
			switch countries[g.inflCountry[o]].code {
			case "JP":
				lang = "ja"
			case "KR":
				lang = "ko"
			default:
				lang = oneOf(r, []string{"ja", "ko"})
			}
		}
		tags := contentTags(r, cat)
		lead := tags // the item's own category words, for its title
		if slices.Contains(sharedTags, tags[len(tags)-1]) {
			lead = tags[:len(tags)-1]
		}
		var title, body string
		switch lang {
		case "ja":
			title, body = compose(r, jaTitles, jaBodies, cat.ja, cat.ja, "")
		case "ko":
			title, body = compose(r, koTitles, koBodies, cat.ko, cat.ko, " ")
		default:
			title, body = compose(r, enTitles, enBodies, lead, append(slices.Clone(cat.tags), cat.phrases...), " ")
			title = capitalise(title)
		}
		contents[j] = Content{
			Influencer:  o,
			Kind:        contentKinds[kind],
			Title:       title,
			Body:        body,
			Tags:        tags,
			Category:    cat.name,
			Language:    lang,
			PublishedAt: g.time(g.pubMs[j]),
		}
		g.contentCat[j] = int8(ci)
		g.contentKind[j] = int8(kind)
		age := float64(g.nowMs-g.pubMs[j]) / float64(span)
		g.pop[j] = (0.25 + 0.75*age) / float64(ranks[j]+1)
	}
	return contents
}

// contentTags draws 2–5 distinct tags from the category's vocabulary; about
// a third of the items swap one for a shared tag.
func contentTags(r *rand.Rand, cat *category) []string {
	tags := pickDistinct(r, cat.tags, 2+r.IntN(4))
	if r.Float64() < 0.3 {
		tags[len(tags)-1] = oneOf(r, sharedTags)
	}
	return tags
}

// compose fills a title template and two body sentences with category words.
// The title's first word comes from lead (an item's own tags, for English)
// so titles and tags agree; the rest come from pool.
func compose(r *rand.Rand, titles, bodies, lead, pool []string, sep string) (title, body string) {
	fill := func(tmpl string, first []string) string {
		args := make([]any, strings.Count(tmpl, "%s"))
		for i := range args {
			from := pool
			if i == 0 {
				from = first
			}
			// Redraw a few times rather than say "skits, skits".
			w := oneOf(r, from)
			for try := 0; try < 4 && slices.Contains(args[:i], any(w)); try++ {
				w = oneOf(r, from)
			}
			args[i] = w
		}
		return fmt.Sprintf(tmpl, args...)
	}
	title = fill(oneOf(r, titles), lead)
	i := r.IntN(len(bodies))
	j := (i + 1 + r.IntN(len(bodies)-1)) % len(bodies)
	body = fill(bodies[i], lead) + sep + fill(bodies[j], pool)
	return title, body
}

func capitalise(s string) string {
	c, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(c)) + s[n:]
}

// partners creates the brands and their products. Each partner focuses on
// one category (most of its products) and prices are scattered around the
// product's typical price, ending in 99 (or 00 for round prices).
func (g *generator) partners() ([]Partner, []Product) {
	r := g.rng(streamPartners)
	partners := make([]Partner, g.cfg.Partners)
	focus := make([]int, len(partners))
	cats := r.Perm(len(categories))
	for i := range partners {
		p := partnerNames[i%len(partnerNames)]
		name := p.name
		if i >= len(partnerNames) {
			name = fmt.Sprintf("%s %d", p.name, i/len(partnerNames)+1)
		}
		partners[i] = Partner{Name: name, Currency: p.currency}
		focus[i] = cats[i%len(cats)]
	}

	products := make([]Product, g.cfg.Products)
	seen := make(map[string]int, len(products)) // partner+name → copies so far
	for i := range products {
		p := i % len(partners)
		if i >= len(partners) {
			p = r.IntN(len(partners))
		}
		ci := focus[p]
		if r.Float64() < 0.3 {
			ci = r.IntN(len(categories))
		}
		cat := &categories[ci]
		item := oneOf(r, cat.products)
		name := oneOf(r, productAdjectives) + " " + item.noun
		key := fmt.Sprintf("%d\x00%s", p, name)
		seen[key]++
		if k := seen[key]; k > 1 {
			name = fmt.Sprintf("%s %d", name, k)
		}
		price := float64(item.price) * math.Exp(0.25*r.NormFloat64())
		minor := int64(math.Round(price/100))*100 - 1
		if item.price%100 == 0 {
			minor++
		}
		products[i] = Product{
			Partner:    p,
			Name:       name,
			PriceMinor: max(minor, 99),
			Currency:   partners[p].Currency,
			Category:   cat.name,
		}
	}
	return partners, products
}
