// Package seed generates a deterministic, synthetic creator-economy world as
// plain Go structs: fans with planted tastes, creators, follows, content,
// interactions, partners and products. It knows nothing about the database;
// a loader turns a World into rows.
//
// The world is built so that recommenders can be checked against it: every
// fan concentrates on one to three categories, content popularity is
// Zipf-like, and each interaction picks content with probability proportional
// to popularity^0.5 × taste[category], mixed with a pure-popularity component.
// A personalised ranker should therefore clearly beat global popularity on
// held-out data, while popularity stays a reasonable baseline.
//
// Generation is deterministic: the same Config always yields the same World.
package seed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Interaction kinds, as stored in Interaction.Kind.
const (
	KindView    = "VIEW"
	KindLike    = "LIKE"
	KindComment = "COMMENT"
	KindShare   = "SHARE"
	KindClick   = "CLICK"
	KindSkip    = "SKIP"
)

// Content kinds, as stored in Content.Kind.
const (
	ContentVideo = "VIDEO"
	ContentPost  = "POST"
	ContentLive  = "LIVE"
	ContentAudio = "AUDIO"
)

// DefaultNow is the end of the time window when Config.Now is zero.
var DefaultNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// ErrInvalidConfig is wrapped by every error Generate and Config.Validate
// return for a Config that cannot produce a world (non-positive sizes,
// sizes too large to index).
var ErrInvalidConfig = errors.New("invalid seed config")

// maxSize bounds every count so internal int32 indexes cannot overflow.
const maxSize = 1 << 30

// Config sizes and shapes a generated world.
type Config struct {
	// Seed selects the world: the same Seed (and sizes) gives the same World.
	Seed int64
	// Users is the number of fans.
	Users int
	// Influencers is the number of creators.
	Influencers int
	// Contents is the number of content items, spread over influencers by a
	// power law; every influencer gets at least one when Contents ≥ Influencers.
	Contents int
	// Interactions is the exact number of interactions generated.
	Interactions int
	// Days is the length of the time window: content is published and
	// interactions happen within the Days days before Now.
	Days int
	// Now is the end of the time window (exclusive); zero means DefaultNow.
	// Generated times are UTC with millisecond resolution.
	Now time.Time
	// Partners is the number of brands selling products.
	Partners int
	// Products is the number of products, spread over partners.
	Products int
}

// Demo returns the world `go run .` seeds: about 2,000 fans, 150 creators,
// 4,000 content items and 100,000 interactions over 90 days, with 4 partners
// and 40 products. Now is left zero (DefaultNow); set it to time.Now() for a
// world that ends today.
func Demo() Config {
	return Config{
		Seed:         42,
		Users:        2000,
		Influencers:  150,
		Contents:     4000,
		Interactions: 100_000,
		Days:         90,
		Partners:     4,
		Products:     40,
	}
}

// Bench returns a config of exactly n interactions with about n/20 users and
// n/50 content items (1e6 gives 50,000 users × 20,000 items), one creator per
// 25 items, over 90 days. A non-positive n yields a config Generate rejects.
func Bench(n int) Config {
	contents := max(1, n/50)
	return Config{
		Seed:         1,
		Users:        max(1, n/20),
		Influencers:  max(1, contents/25),
		Contents:     contents,
		Interactions: n,
		Days:         90,
		Partners:     8,
		Products:     200,
	}
}

// Validate reports every problem with c, each wrapping ErrInvalidConfig, or
// nil if Generate can build a world from it.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Users", c.Users},
		{"Influencers", c.Influencers},
		{"Contents", c.Contents},
		{"Interactions", c.Interactions},
		{"Days", c.Days},
		{"Partners", c.Partners},
		{"Products", c.Products},
	} {
		switch {
		case f.v <= 0:
			errs = append(errs, fmt.Errorf("%w: %s must be positive, got %d", ErrInvalidConfig, f.name, f.v))
		case f.v > maxSize:
			errs = append(errs, fmt.Errorf("%w: %s must be at most %d, got %d", ErrInvalidConfig, f.name, maxSize, f.v))
		}
	}
	if c.Days > 100*366 {
		errs = append(errs, fmt.Errorf("%w: Days must be at most %d, got %d", ErrInvalidConfig, 100*366, c.Days))
	}
	return errors.Join(errs...)
}

// World is a generated creator-economy world. Fields named User, Influencer,
// Content and Partner in its records are indexes into the matching slices.
type World struct {
	// Categories are the content categories, in a fixed order; User.Tastes is
	// indexed in the same order.
	Categories []string
	// Users are the fans.
	Users []User
	// Influencers are the creators.
	Influencers []Influencer
	// Follows are fan → creator follows, sorted by At ascending.
	Follows []Follow
	// Contents are the content items, sorted by PublishedAt ascending.
	Contents []Content
	// Interactions are fan → content events, sorted by At ascending.
	Interactions []Interaction
	// Partners are the brands.
	Partners []Partner
	// Products are the partners' products.
	Products []Product
}

// User is a fan.
type User struct {
	// Handle is unique, lowercase, 3–30 characters of [a-z0-9_].
	Handle      string
	DisplayName string
	// Country is an ISO 3166-1 alpha-2 code.
	Country string
	// AgeBracket is one of "13-17", "18-24", "25-34", "35-44", "45-54", "55+".
	AgeBracket string
	// Tastes is the planted preference per category (indexed like
	// World.Categories); it sums to 1 and is strongly peaked on 1–3 categories.
	Tastes []float64
}

// Influencer is a creator.
type Influencer struct {
	// Handle is unique (also among users), lowercase, 3–30 characters of
	// [a-z0-9_].
	Handle      string
	DisplayName string
	Bio         string
	// Category is the creator's main category; most of their content is in it.
	Category string
	// Country is an ISO 3166-1 alpha-2 code.
	Country string
}

// Follow is a fan following a creator.
type Follow struct {
	// User and Influencer index World.Users and World.Influencers.
	User, Influencer int
	// At is when the follow happened, inside the window.
	At time.Time
}

// Content is one piece of content by a creator.
type Content struct {
	// Influencer indexes World.Influencers.
	Influencer int
	// Kind is one of ContentVideo, ContentPost, ContentLive, ContentAudio.
	Kind        string
	Title, Body string
	// Tags are 2–5 distinct lowercase ASCII words from the category's
	// vocabulary, sometimes with one shared tag.
	Tags []string
	// Category is the creator's category for about 90% of content.
	Category string
	// Language is "en", "ja" or "ko"; for "ja" and "ko" the title and body
	// are written in that script.
	Language    string
	PublishedAt time.Time
}

// Interaction is one event of a fan on a content item.
type Interaction struct {
	// User and Content index World.Users and World.Contents.
	User, Content int
	// Kind is one of KindView, KindLike, KindComment, KindShare, KindClick,
	// KindSkip.
	Kind string
	// DwellMs is time spent: 2 s–5 min for views, under 3 s for skips, the
	// typing time for comments, and 0 for likes, shares and clicks.
	DwellMs int
	// At is after the content's PublishedAt and inside the window.
	At time.Time
}

// Partner is a brand that sells products through creators.
type Partner struct {
	Name string
	// Currency is "USD" or "EUR".
	Currency string
}

// Product is something a partner sells.
type Product struct {
	// Partner indexes World.Partners.
	Partner int
	Name    string
	// PriceMinor is the price in minor units of Currency.
	PriceMinor int64
	// Currency is the partner's currency.
	Currency string
	Category string
}

// Independent random streams, one per part of the world, so that changing
// how one part is generated does not reshuffle the others.
const (
	streamUsers uint64 = iota + 1
	streamInfluencers
	streamContents
	streamFollows
	streamActivity
	streamPartners
)

const msPerDay = 24 * 60 * 60 * 1000

// generator carries the config and the hidden state (activity hours,
// popularity, publish times) that links the parts of the world.
type generator struct {
	cfg     Config
	startMs int64 // first millisecond of the window
	nowMs   int64 // end of the window, exclusive

	userOffset []int32   // UTC offset of each user's country, minutes
	userPeak   []float32 // hour of day (local) the user is most active

	inflCountry []int     // index into countries
	inflCat     []int8    // category index of each creator
	inflPower   []float64 // creator reach, power-law

	contentCat  []int8    // category index of each content
	contentKind []int8    // index into contentKinds
	pubMs       []int64   // publish time of each content, ms
	pop         []float64 // planted popularity of each content
}

var contentKinds = [...]string{ContentVideo, ContentPost, ContentLive, ContentAudio}

// Generate builds the world described by cfg. It returns an error wrapping
// ErrInvalidConfig if cfg is invalid. The result depends only on cfg.
func Generate(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	now := cfg.Now
	if now.IsZero() {
		now = DefaultNow
	}
	now = now.UTC()
	// Whole milliseconds inside [now-Days, now): round the start up.
	start := now.Add(-time.Duration(cfg.Days) * 24 * time.Hour)
	g := &generator{cfg: cfg, nowMs: now.UnixMilli(), startMs: start.UnixMilli()}
	if g.time(g.startMs).Before(start) { // UnixMilli floors
		g.startMs++
	}

	w := &World{Categories: make([]string, len(categories))}
	for i, c := range categories {
		w.Categories[i] = c.name
	}
	w.Users = g.users()
	w.Influencers = g.influencers()
	w.Contents = g.contents(w.Influencers)
	w.Follows = g.follows(w.Users)
	w.Interactions = g.interactions(w.Users)
	w.Partners, w.Products = g.partners()
	return w, nil
}

func (g *generator) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.cfg.Seed), stream*0x9e3779b97f4a7c15))
}

func (g *generator) time(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// pick returns an index drawn in proportion to w by a linear scan; for the
// short lists (countries, categories) where that beats an alias table.
func pick(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	x := r.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	// Rounding: return the last positive weight.
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return len(w) - 1
}

func oneOf[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

var countryWeights = func() []float64 {
	w := make([]float64, len(countries))
	for i, c := range countries {
		w[i] = c.weight
	}
	return w
}()
