// Package graph is Limelight's GraphQL layer: the schema, thin resolvers
// over the domain services in internal/, and the HTTP handler.
package graph

import (
	"log/slog"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/profile"
	"github.com/limelight-hq/limelight/internal/ratelimit"
)

// Resolver is the root resolver; it holds the dependencies resolvers call.
type Resolver struct {
	client  *ent.Client
	profile profile.Config
	now     func() time.Time
	log     *slog.Logger
	limiter *ratelimit.Limiter
	dev     bool
	feed    *feed.Service
	money   moneyConfig
}

// Deps are what the GraphQL layer needs.
type Deps struct {
	// Client is the ent client over the store.
	Client *ent.Client
	// Logger receives internal errors; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now in UTC.
	Now func() time.Time
	// RateLimit is the per-key token bucket; zero means ratelimit defaults.
	RateLimit ratelimit.Config
	// Dev allows introspection without an ADMIN key (development mode).
	Dev bool
	// Feed serves recommendations; nil disables them.
	Feed *feed.Service
}

// NewResolver builds the root resolver.
func NewResolver(d Deps) *Resolver {
	r := &Resolver{client: d.Client, profile: profile.DefaultConfig(), now: d.Now, log: d.Logger, feed: d.Feed}
	if r.now == nil {
		r.now = func() time.Time { return time.Now().UTC() }
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.log = slog.New(requestIDHandler{r.log.Handler()})
	r.limiter = ratelimit.New(d.RateLimit)
	r.dev = d.Dev
	r.money = defaultMoneyConfig()
	hideUnpublished(d.Client)
	return r
}
