package seed

import (
	"cmp"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"
	"unicode"
)

// small is a world big enough to show the planted structure and quick to build.
func small() Config {
	return Config{
		Seed: 7, Users: 1500, Influencers: 100, Contents: 1500,
		Interactions: 60_000, Days: 60, Partners: 3, Products: 30,
	}
}

func generate(t testing.TB, cfg Config) *World {
	t.Helper()
	w, err := Generate(cfg)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return w
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := small()
	a, b := generate(t, cfg), generate(t, cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two worlds from the same config differ")
	}
	cfg.Seed++
	c := generate(t, cfg)
	if reflect.DeepEqual(a.Interactions, c.Interactions) || reflect.DeepEqual(a.Users, c.Users) {
		t.Fatal("a different seed gave the same world")
	}
}

func TestGenerateShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"demo", Demo()},
		{"small", small()},
		{"bench 10k", Bench(10_000)},
		{"one of each", Config{Users: 1, Influencers: 1, Contents: 1, Interactions: 1, Days: 1, Partners: 1, Products: 1}},
		{"fewer interactions than users", Config{Seed: 3, Users: 500, Influencers: 20, Contents: 300, Interactions: 200, Days: 7, Partners: 1, Products: 5}},
		{"fewer contents than creators and categories", Config{Seed: 4, Users: 50, Influencers: 30, Contents: 5, Interactions: 400, Days: 3, Partners: 2, Products: 3}},
		{"more partners than names", Config{Seed: 5, Users: 20, Influencers: 3, Contents: 40, Interactions: 100, Days: 30, Partners: 20, Products: 100}},
		{"non-UTC now", Config{Seed: 6, Users: 40, Influencers: 5, Contents: 50, Interactions: 500, Days: 10, Partners: 1, Products: 2,
			Now: time.Date(2025, 3, 30, 1, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkWorld(t, tt.cfg, generate(t, tt.cfg))
		})
	}
}

var handleRE = regexp.MustCompile(`^[a-z0-9_]{3,30}$`)

// checkWorld verifies the invariants every generated world promises.
func checkWorld(t *testing.T, cfg Config, w *World) {
	t.Helper()
	now := cfg.Now
	if now.IsZero() {
		now = DefaultNow
	}
	start := now.Add(-time.Duration(cfg.Days) * 24 * time.Hour)
	inWindow := func(at time.Time) bool { return !at.Before(start) && at.Before(now) && at.Location() == time.UTC }

	if got, want := []int{len(w.Users), len(w.Influencers), len(w.Contents), len(w.Interactions), len(w.Partners), len(w.Products)},
		[]int{cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions, cfg.Partners, cfg.Products}; !slices.Equal(got, want) {
		t.Fatalf("counts users, influencers, contents, interactions, partners, products = %v, want %v", got, want)
	}
	if len(w.Categories) != 12 {
		t.Errorf("%d categories, want 12", len(w.Categories))
	}

	handles := map[string]bool{}
	checkHandle := func(h string) {
		if !handleRE.MatchString(h) {
			t.Errorf("handle %q is not 3–30 chars of [a-z0-9_]", h)
		}
		if handles[h] {
			t.Errorf("handle %q is not unique", h)
		}
		handles[h] = true
	}
	ages := map[string]bool{"13-17": true, "18-24": true, "25-34": true, "35-44": true, "45-54": true, "55+": true}
	for i, u := range w.Users {
		checkHandle(u.Handle)
		if !ages[u.AgeBracket] || len(u.Country) != 2 || u.DisplayName == "" {
			t.Errorf("user %d: bad profile %+v", i, u)
		}
		if len(u.Tastes) != len(w.Categories) {
			t.Fatalf("user %d: %d tastes, want %d", i, len(u.Tastes), len(w.Categories))
		}
		var sum float64
		for _, x := range u.Tastes {
			if x < 0 {
				t.Errorf("user %d: negative taste %v", i, x)
			}
			sum += x
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("user %d: tastes sum to %v", i, sum)
		}
	}
	for i, in := range w.Influencers {
		checkHandle(in.Handle)
		if !slices.Contains(w.Categories, in.Category) || len(in.Country) != 2 || in.DisplayName == "" || in.Bio == "" {
			t.Errorf("influencer %d: bad profile %+v", i, in)
		}
	}
	if cfg.Influencers >= len(w.Categories) {
		cats := map[string]bool{}
		for _, in := range w.Influencers {
			cats[in.Category] = true
		}
		if len(cats) != len(w.Categories) {
			t.Errorf("creators cover %d categories, want all %d", len(cats), len(w.Categories))
		}
	}

	posts := make([]int, len(w.Influencers))
	for i, c := range w.Contents {
		posts[c.Influencer]++
		if !slices.Contains([]string{ContentVideo, ContentPost, ContentLive, ContentAudio}, c.Kind) {
			t.Errorf("content %d: kind %q", i, c.Kind)
		}
		if !slices.Contains(w.Categories, c.Category) || c.Title == "" || c.Body == "" {
			t.Errorf("content %d: bad %+v", i, c)
		}
		if len(c.Tags) < 2 || len(c.Tags) > 5 {
			t.Errorf("content %d: %d tags", i, len(c.Tags))
		}
		for j, tag := range c.Tags {
			if !regexp.MustCompile(`^[a-z]+$`).MatchString(tag) || slices.Contains(c.Tags[:j], tag) {
				t.Errorf("content %d: bad or repeated tag %q in %v", i, tag, c.Tags)
			}
		}
		switch c.Language {
		case "en":
		case "ja", "ko":
			if !hasCJK(c.Title) || !hasCJK(c.Body) {
				t.Errorf("content %d: %s title %q / body %q has no CJK text", i, c.Language, c.Title, c.Body)
			}
		default:
			t.Errorf("content %d: language %q", i, c.Language)
		}
		if !inWindow(c.PublishedAt) {
			t.Errorf("content %d: published %v outside [%v, %v)", i, c.PublishedAt, start, now)
		}
		if i > 0 && c.PublishedAt.Before(w.Contents[i-1].PublishedAt) {
			t.Errorf("content %d: published before content %d", i, i-1)
		}
	}
	if cfg.Contents >= cfg.Influencers {
		for i, n := range posts {
			if n == 0 {
				t.Errorf("influencer %d has no content", i)
			}
		}
	}

	kinds := []string{KindView, KindLike, KindComment, KindShare, KindClick, KindSkip}
	perUser := make([]int, len(w.Users))
	for i, x := range w.Interactions {
		if x.User < 0 || x.User >= len(w.Users) || x.Content < 0 || x.Content >= len(w.Contents) {
			t.Fatalf("interaction %d: index out of range %+v", i, x)
		}
		perUser[x.User]++
		if !slices.Contains(kinds, x.Kind) {
			t.Errorf("interaction %d: kind %q", i, x.Kind)
		}
		if !inWindow(x.At) {
			t.Errorf("interaction %d: at %v outside [%v, %v)", i, x.At, start, now)
		}
		if pub := w.Contents[x.Content].PublishedAt; x.At.Before(pub) {
			t.Errorf("interaction %d: at %v before content published %v", i, x.At, pub)
		}
		if i > 0 && x.At.Before(w.Interactions[i-1].At) {
			t.Errorf("interaction %d: not sorted by At", i)
		}
		switch x.Kind {
		case KindView:
			if x.DwellMs < 2_000 || x.DwellMs > 300_000 {
				t.Errorf("interaction %d: view dwell %d ms", i, x.DwellMs)
			}
		case KindSkip:
			if x.DwellMs <= 0 || x.DwellMs >= 3_000 {
				t.Errorf("interaction %d: skip dwell %d ms", i, x.DwellMs)
			}
		default:
			if x.DwellMs < 0 || x.DwellMs > 60_000 {
				t.Errorf("interaction %d: %s dwell %d ms", i, x.Kind, x.DwellMs)
			}
		}
	}
	if cfg.Interactions >= 3*cfg.Users {
		for u, n := range perUser {
			if n < 3 {
				t.Errorf("user %d has %d interactions, want at least 3", u, n)
			}
		}
	}

	type pair struct{ u, i int }
	followed := map[pair]bool{}
	perFan := make([]int, len(w.Users))
	for k, f := range w.Follows {
		if f.User < 0 || f.User >= len(w.Users) || f.Influencer < 0 || f.Influencer >= len(w.Influencers) {
			t.Fatalf("follow %d: index out of range %+v", k, f)
		}
		if followed[pair{f.User, f.Influencer}] {
			t.Errorf("follow %d: user %d follows influencer %d twice", k, f.User, f.Influencer)
		}
		followed[pair{f.User, f.Influencer}] = true
		perFan[f.User]++
		if !inWindow(f.At) {
			t.Errorf("follow %d: at %v outside the window", k, f.At)
		}
		if k > 0 && f.At.Before(w.Follows[k-1].At) {
			t.Errorf("follow %d: not sorted by At", k)
		}
	}
	for u, n := range perFan {
		if lo, hi := min(3, cfg.Influencers), min(10, cfg.Influencers); n < lo || n > hi {
			t.Errorf("user %d follows %d creators, want %d–%d", u, n, lo, hi)
		}
	}

	names := map[string]bool{}
	for i, p := range w.Partners {
		if names[p.Name] || (p.Currency != "USD" && p.Currency != "EUR") {
			t.Errorf("partner %d: duplicate name or bad currency %+v", i, p)
		}
		names[p.Name] = true
	}
	for i, p := range w.Products {
		if p.Partner < 0 || p.Partner >= len(w.Partners) {
			t.Fatalf("product %d: partner out of range", i)
		}
		if p.Currency != w.Partners[p.Partner].Currency || p.PriceMinor <= 0 || p.Name == "" || !slices.Contains(w.Categories, p.Category) {
			t.Errorf("product %d: bad %+v", i, p)
		}
	}
}

func hasCJK(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return true
		}
	}
	return false
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"zero users", func(c *Config) { c.Users = 0 }},
		{"negative influencers", func(c *Config) { c.Influencers = -1 }},
		{"zero contents", func(c *Config) { c.Contents = 0 }},
		{"zero interactions", func(c *Config) { c.Interactions = 0 }},
		{"zero days", func(c *Config) { c.Days = 0 }},
		{"negative partners", func(c *Config) { c.Partners = -3 }},
		{"zero products", func(c *Config) { c.Products = 0 }},
		{"too many users", func(c *Config) { c.Users = maxSize + 1 }},
		{"too many days", func(c *Config) { c.Days = 100*366 + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := small()
			tt.mutate(&cfg)
			if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig", err)
			}
			if w, err := Generate(cfg); !errors.Is(err, ErrInvalidConfig) || w != nil {
				t.Errorf("Generate() = %v, %v; want nil, ErrInvalidConfig", w, err)
			}
		})
	}
	if err := (Config{}).Validate(); err == nil {
		t.Error("the zero Config is valid")
	}
	for _, cfg := range []Config{Demo(), Bench(1_000_000), small()} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", cfg, err)
		}
	}
	if Bench(0).Validate() == nil {
		t.Error("Bench(0) is valid")
	}
}

func TestBenchSizes(t *testing.T) {
	t.Parallel()
	c := Bench(1_000_000)
	if c.Interactions != 1_000_000 || c.Users != 50_000 || c.Contents != 20_000 {
		t.Errorf("Bench(1e6) = %+v, want 1e6 interactions, 50,000 users, 20,000 items", c)
	}
}

func TestDefaultNow(t *testing.T) {
	t.Parallel()
	w := generate(t, Config{Seed: 1, Users: 10, Influencers: 2, Contents: 10, Interactions: 50, Days: 2, Partners: 1, Products: 1})
	last := w.Interactions[len(w.Interactions)-1].At
	if !last.Before(DefaultNow) || last.Before(DefaultNow.Add(-48*time.Hour)) {
		t.Errorf("last interaction at %v, want in the 2 days before %v", last, DefaultNow)
	}
}

// TestPlantedStructure checks the statistical shape the generator promises:
// fans mostly consume their favourite categories, the kind mix, skips on
// off-taste content, a share of CJK content and a power law over items.
func TestPlantedStructure(t *testing.T) {
	t.Parallel()
	checkPlanted(t, generate(t, small()))
}

func checkPlanted(t *testing.T, w *World) {
	cat := catIndex(w)
	var onTaste, onSkip, offSkip, on, off int
	kinds := map[string]int{}
	views := map[[2]int]int{}
	var repeats int
	for _, x := range w.Interactions {
		tastes := w.Users[x.User].Tastes
		taste := tastes[cat[x.Content]]
		kinds[x.Kind]++
		if taste >= 0.1 {
			onTaste++
		}
		if taste >= 0.5*slices.Max(tastes) {
			on++
			if x.Kind == KindSkip {
				onSkip++
			}
		} else {
			off++
			if x.Kind == KindSkip {
				offSkip++
			}
		}
		if x.Kind == KindView {
			k := [2]int{x.User, x.Content}
			if views[k]++; views[k] > 1 {
				repeats++
			}
		}
	}
	n := float64(len(w.Interactions))
	if share := float64(onTaste) / n; share < 0.7 {
		t.Errorf("%.2f of interactions in a category the fan has taste ≥ 0.1 for, want ≥ 0.7", share)
	}
	for _, u := range w.Users {
		s := slices.Sorted(slices.Values(u.Tastes))
		if top3 := s[len(s)-1] + s[len(s)-2] + s[len(s)-3]; top3 < 0.8 {
			t.Errorf("top three tastes hold %.2f, want ≥ 0.8: %v", top3, u.Tastes)
			break
		}
	}
	want := map[string]float64{KindView: 0.70, KindLike: 0.12, KindComment: 0.04, KindShare: 0.03, KindClick: 0.06, KindSkip: 0.05}
	for k, p := range want {
		if got := float64(kinds[k]) / n; math.Abs(got-p) > 0.2*p+0.005 {
			t.Errorf("%s share %.3f, want about %.2f", k, got, p)
		}
	}
	if onRate, offRate := float64(onSkip)/float64(on), float64(offSkip)/float64(off); offRate < 3*onRate {
		t.Errorf("skip rate %.3f off taste vs %.3f on taste, want skips concentrated off taste", offRate, onRate)
	}
	if r := float64(repeats) / float64(kinds[KindView]); r > 0.05 {
		t.Errorf("%.3f of views repeat a (user, content) view, want few", r)
	}

	cjk, home := 0, 0
	for _, c := range w.Contents {
		if c.Language != "en" {
			cjk++
		}
		if c.Category == w.Influencers[c.Influencer].Category {
			home++
		}
	}
	if share := float64(home) / float64(len(w.Contents)); share < 0.85 || share > 0.95 {
		t.Errorf("%.3f of content is in its creator's category, want about 0.90", share)
	}
	if share := float64(cjk) / float64(len(w.Contents)); share < 0.06 || share > 0.14 {
		t.Errorf("%.3f of content is ja/ko, want about 0.10", share)
	}

	// Power law: the top 1% of items draw far more than 1% of interactions.
	counts := make([]int, len(w.Contents))
	for _, x := range w.Interactions {
		counts[x.Content]++
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	var head int
	for _, c := range counts[:len(counts)/100] {
		head += c
	}
	if share := float64(head) / n; share < 0.08 {
		t.Errorf("top 1%% of items draw %.3f of interactions, want a heavy head", share)
	}
}

func catIndex(w *World) []int {
	cat := make([]int, len(w.Contents))
	for i, c := range w.Contents {
		cat[i] = slices.Index(w.Categories, c.Category)
	}
	return cat
}

// TestPersonalisedBeatsPopularity holds out each fan's latest items and
// checks that even a crude personalised ranker (category profile ×
// popularity) clearly beats global popularity on NDCG@10, while popularity
// still beats chance.
func TestPersonalisedBeatsPopularity(t *testing.T) {
	t.Parallel()
	checkPersonalisation(t, generate(t, small()))
}

func checkPersonalisation(t *testing.T, w *World) {
	cat := catIndex(w)
	nu, ni, nc := len(w.Users), len(w.Contents), len(w.Categories)

	// Per fan, distinct positive items in time order; the last fifth is held out.
	seq := make([][]int, nu)
	seen := make([]map[int]bool, nu)
	for u := range seen {
		seen[u] = map[int]bool{}
	}
	for _, x := range w.Interactions {
		if x.Kind != KindSkip && !seen[x.User][x.Content] {
			seen[x.User][x.Content] = true
			seq[x.User] = append(seq[x.User], x.Content)
		}
	}
	train := make([]map[int]bool, nu)
	test := make([][]int, nu)
	pop := make([]float64, ni)
	profile := make([][]float64, nu)
	for u, items := range seq {
		cut := len(items) - min(len(items), max(1, len(items)/5))
		train[u] = map[int]bool{}
		profile[u] = make([]float64, nc)
		for _, i := range items[:cut] {
			train[u][i] = true
			pop[i]++
			profile[u][cat[i]]++
		}
		test[u] = items[cut:]
	}

	ndcg := func(score func(u, i int) float64) float64 {
		var total float64
		var users int
		for u := range nu {
			if len(test[u]) == 0 || len(train[u]) == 0 {
				continue
			}
			users++
			top := topK(10, ni, func(i int) (float64, bool) { return score(u, i), !train[u][i] })
			held := map[int]bool{}
			for _, i := range test[u] {
				held[i] = true
			}
			var dcg, ideal float64
			for rank, i := range top {
				if held[i] {
					dcg += 1 / math.Log2(float64(rank+2))
				}
			}
			for rank := range min(10, len(test[u])) {
				ideal += 1 / math.Log2(float64(rank+2))
			}
			total += dcg / ideal
		}
		return total / float64(users)
	}
	popular := ndcg(func(u, i int) float64 { return pop[i] })
	personal := ndcg(func(u, i int) float64 { return (profile[u][cat[i]] + 0.1) * pop[i] })
	chance := ndcg(func(u, i int) float64 { return float64((i*7919 + u*104729) % ni) })
	t.Logf("NDCG@10: personal %.4f, popularity %.4f, chance %.4f", personal, popular, chance)
	if personal < 1.3*popular {
		t.Errorf("personalised NDCG@10 %.4f, want ≥ 1.3 × popularity %.4f", personal, popular)
	}
	if popular < 3*chance {
		t.Errorf("popularity NDCG@10 %.4f, want ≥ 3 × chance %.4f", popular, chance)
	}
}

// topK returns the k best-scoring eligible items out of n, best first, ties
// to the lower index.
func topK(k, n int, score func(i int) (float64, bool)) []int {
	type scored struct {
		i int
		s float64
	}
	var best []scored
	for i := range n {
		s, ok := score(i)
		if !ok || (len(best) == k && s <= best[k-1].s) {
			continue
		}
		j := sort.Search(len(best), func(j int) bool { return best[j].s < s })
		best = slices.Insert(best, j, scored{i, s})
		if len(best) > k {
			best = best[:k]
		}
	}
	out := make([]int, len(best))
	for j, b := range best {
		out[j] = b.i
	}
	return out
}

func TestSortByTimeIsStable(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	const start = int64(1_700_000_000_000)
	for _, spread := range []int64{1, 1000, 90 * msPerDay, 1 << 45} {
		events := make([]event, 5000)
		for i := range events {
			events[i] = event{at: start + r.Int64N(spread), user: int32(i)}
		}
		want := slices.Clone(events)
		slices.SortStableFunc(want, func(a, b event) int { return cmp.Compare(a.at, b.at) })
		if got := sortByTime(events, start); !slices.Equal(got, want) {
			t.Errorf("spread %d: radix sort differs from a stable sort", spread)
		}
	}
}

func BenchmarkGenerate1M(b *testing.B) {
	cfg := Bench(1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
