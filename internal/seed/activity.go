package seed

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"time"
)

// Interaction kind codes; the strings live in interactionKinds so events
// carry a byte and the output shares constant strings.
const (
	kView uint8 = iota
	kLike
	kComment
	kShare
	kClick
	kSkip
)

var interactionKinds = [...]string{KindView, KindLike, KindComment, KindShare, KindClick, KindSkip}

// The planted choice model.
const (
	// popMix is the share of interactions that ignore taste and follow
	// global popularity (trending content everyone sees).
	popMix = 0.15
	// tasteDamp is the exponent on popularity inside taste-driven choices:
	// lower means more long-tail, more personal picks.
	tasteDamp = 0.5
	// engageOnViewed is the chance a like, comment, share or click lands on
	// something the fan already viewed rather than on a fresh pick.
	engageOnViewed = 0.6
	// rhythm is the share of interactions moved to the fan's active hours.
	rhythm = 0.8
)

// event is the compact, pointer-free form of an interaction used while
// generating and sorting.
type event struct {
	at      int64 // unix ms
	user    int32
	content int32
	dwell   int32
	kind    uint8
}

// viewed is a fan's earlier view, a target for later likes and comments.
type viewed struct {
	content int32
	end     int64 // unix ms the view ended
}

// interactions generates exactly cfg.Interactions events, fan by fan, and
// returns them sorted by time.
func (g *generator) interactions(users []User) []Interaction {
	r := g.rng(streamActivity)
	nc := len(categories)
	counts := g.activityCounts(r)

	// Per-category samplers over popularity^tasteDamp; catMass[c] is the
	// category's total weight, so that drawing a category in proportion to
	// taste × catMass and then an item inside it picks item i with
	// probability ∝ taste[cat(i)] × pop(i)^tasteDamp overall.
	byCat := make([][]int32, nc)
	for j, c := range g.contentCat {
		byCat[c] = append(byCat[c], int32(j))
	}
	catAlias := make([]alias, nc)
	catMass := make([]float64, nc)
	for c, ids := range byCat {
		if len(ids) == 0 {
			continue
		}
		w := make([]float64, len(ids))
		for k, id := range ids {
			w[k] = math.Pow(g.pop[id], tasteDamp)
			catMass[c] += w[k]
		}
		catAlias[c] = newAlias(w)
	}
	global := newAlias(g.pop)

	events := make([]event, 0, g.cfg.Interactions)
	stamp := make([]int32, g.cfg.Contents) // stamp[i] == u+1: fan u has seen i
	var seen []viewed
	cum := make([]float64, nc)
	pickItem := func() int32 {
		if r.Float64() < popMix {
			return int32(global.sample(r))
		}
		x := r.Float64() * cum[nc-1]
		c := 0
		for c < nc-1 && x >= cum[c] {
			c++
		}
		for catMass[c] == 0 { // only after rounding at the top end
			c--
		}
		return byCat[c][catAlias[c].sample(r)]
	}

	for u := range users {
		tastes := users[u].Tastes
		var total, top float64
		for c, t := range tastes {
			total += t * catMass[c]
			cum[c] = total
			top = max(top, t)
		}
		seen = seen[:0]
		uid := int32(u + 1)
		for range counts[u] {
			item := pickItem()
			// Avoid repeats where cheap; the odd repeat survives as noise.
			for try := 0; try < 4 && stamp[item] == uid; try++ {
				item = pickItem()
			}
			rel := tastes[g.contentCat[item]] / top
			kind := drawKind(r, rel)
			if kind != kView && kind != kSkip && len(seen) > 0 && r.Float64() < engageOnViewed {
				v := seen[r.IntN(len(seen))]
				at := min(v.end+1000+r.Int64N(10*60*1000), g.nowMs-1)
				events = append(events, event{at: at, user: int32(u), content: v.content, dwell: g.dwell(r, kind, v.content, 1), kind: kind})
				continue
			}
			stamp[item] = uid
			at := g.clock(r, u, item)
			dwell := g.dwell(r, kind, item, rel)
			if kind == kView {
				seen = append(seen, viewed{content: item, end: at + int64(dwell)})
			}
			events = append(events, event{at: at, user: int32(u), content: item, dwell: dwell, kind: kind})
		}
	}

	events = sortByTime(events, g.startMs)
	out := make([]Interaction, len(events))
	for i, e := range events {
		out[i] = Interaction{
			User:    int(e.user),
			Content: int(e.content),
			Kind:    interactionKinds[e.kind],
			DwellMs: int(e.dwell),
			At:      time.UnixMilli(e.at).UTC(),
		}
	}
	return out
}

// activityCounts splits cfg.Interactions over fans: everyone gets the same
// floor (3, or fewer if there are not enough interactions), and the rest
// follows a heavy-tailed (log-normal) activity level.
func (g *generator) activityCounts(r *rand.Rand) []int32 {
	n, nu := g.cfg.Interactions, g.cfg.Users
	base := min(3, n/nu)
	counts := make([]int32, nu)
	w := make([]float64, nu)
	for i := range counts {
		counts[i] = int32(base)
		w[i] = math.Exp(1.1 * r.NormFloat64())
	}
	active := newAlias(w)
	for range n - base*nu {
		counts[active.sample(r)]++
	}
	return counts
}

// drawKind draws an interaction kind. rel is the fan's taste for the item's
// category relative to their favourite (1 = favourite): skips concentrate on
// off-taste items, the rest keep the overall mix VIEW 70, LIKE 12,
// COMMENT 4, SHARE 3, CLICK 6 (SKIP about 5).
func drawKind(r *rand.Rand, rel float64) uint8 {
	off := 1 - rel
	if r.Float64() < 0.012+0.16*off*off {
		return kSkip
	}
	x := r.Float64() * 95
	switch {
	case x < 70:
		return kView
	case x < 82:
		return kLike
	case x < 86:
		return kComment
	case x < 89:
		return kShare
	default:
		return kClick
	}
}

// Median view time by content kind (VIDEO, POST, LIVE, AUDIO), ms.
var viewMedianMs = [...]float64{45_000, 12_000, 90_000, 120_000}

// dwell returns time spent: views last longer on long-form kinds and on
// items the fan cares about, clamped to 2 s–5 min; skips take under 3 s;
// comments take typing time; likes, shares and clicks are instant.
func (g *generator) dwell(r *rand.Rand, kind uint8, item int32, rel float64) int32 {
	switch kind {
	case kView:
		ms := viewMedianMs[g.contentKind[item]] * math.Exp(0.8*r.NormFloat64()) * (0.5 + rel)
		return int32(min(max(ms, 2_000), 300_000))
	case kSkip:
		return int32(300 + r.IntN(2_500))
	case kComment:
		return int32(5_000 + r.IntN(55_000))
	}
	return 0
}

// clock returns when fan u interacts with item: after publication,
// front-loaded (most attention comes soon after publishing), and usually
// moved to the fan's active hours on that local day.
func (g *generator) clock(r *rand.Rand, u int, item int32) int64 {
	pub := g.pubMs[item]
	x := r.Float64()
	at := min(pub+int64(x*x*float64(g.nowMs-pub)), g.nowMs-1)
	if r.Float64() < rhythm {
		off := int64(g.userOffset[u]) * 60_000
		local := at + off
		day := local - ((local%msPerDay)+msPerDay)%msPerDay // floor, also before 1970
		h := math.Mod(float64(g.userPeak[u])+2.5*r.NormFloat64()+48, 24)
		if cand := day + int64(h*3_600_000) - off; cand >= pub && cand < g.nowMs {
			at = cand
		}
	}
	return at
}

// sortByTime sorts events by time with a stable LSD radix sort on the offset
// from start (several times faster than a comparison sort at a million
// events). Stability keeps ties in generation order, so the result is
// deterministic. It may return the scratch buffer instead of events.
func sortByTime(events []event, start int64) []event {
	const digit = 11
	var top int64
	for _, e := range events {
		top = max(top, e.at-start)
	}
	tmp := make([]event, len(events))
	for shift := 0; shift < bits.Len64(uint64(top)); shift += digit {
		var count [1<<digit + 1]int
		for _, e := range events {
			count[(uint64(e.at-start)>>shift)&(1<<digit-1)+1]++
		}
		for d := 1; d < len(count); d++ {
			count[d] += count[d-1]
		}
		for _, e := range events {
			d := (uint64(e.at-start) >> shift) & (1<<digit - 1)
			tmp[count[d]] = e
			count[d]++
		}
		events, tmp = tmp, events
	}
	return events
}
