// Command limelight is the Limelight server: a GraphQL backend for the
// creator economy. Run it with no arguments to serve (seeding a demo world
// into an empty database); see --help for the other subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"entgo.io/ent/dialect"

	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/metrics"
	"github.com/limelight-hq/limelight/internal/ratelimit"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Globals are settings shared by every subcommand.
type Globals struct {
	Database string `name:"database" env:"DATABASE_URL" help:"postgres:// URL or SQLite file path (default: limelight.db in the working directory)."`
}

// CLI is the command line: every flag has an environment twin; flags win.
type CLI struct {
	Globals
	Serve  ServeCmd  `cmd:"" default:"withargs" help:"Serve the GraphQL API (the default)."`
	Seed   SeedCmd   `cmd:"" help:"Load a generated demo world into an empty database."`
	Train  TrainCmd  `cmd:"" help:"Train rankers on the stored interactions and store their models."`
	Bench  BenchCmd  `cmd:"" help:"Benchmark feeds end to end (HTTP, GraphQL, ranker plugin) on a generated world."`
	Import ImportCmd `cmd:"" help:"Import interactions from a MovieLens u.data or CSV file."`
	Eval   EvalCmd   `cmd:"" help:"Evaluate rankers offline (precision, recall, NDCG, MAP, hit rate, coverage), or tune one with --tune."`
	Ranker RankerCmd `cmd:"" hidden:"" help:"Serve a built-in ranker as a plugin (started by the server itself)."`
	Keys   KeysCmd   `cmd:"" help:"Create, list and revoke API keys."`
}

// RankerCmd is what the host runs to start a built-in ranker plugin.
type RankerCmd struct {
	Name string `arg:"" help:"Built-in ranker name."`
}

// Run serves the plugin until the host stops it.
func (c *RankerCmd) Run() error { return builtin.Serve(c.Name) }

// TrainCmd trains rankers once.
type TrainCmd struct {
	PipelineFlags
	Rankers    []string `arg:"" optional:"" help:"Rankers to train (default: all)."`
	RankersDir string   `name:"rankers-dir" env:"LIMELIGHT_RANKERS_DIR" help:"Directory of external ranker plugins (with rankers.json)."`
	Params     string   `name:"ranker-params" env:"LIMELIGHT_RANKER_PARAMS" type:"existingfile" help:"JSON file of hyperparameters per ranker, e.g. from eval --tune --save."`
}

// Run trains and stores models.
func (c *TrainCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	h, svc, err := startFeedFromFlags(ctx, st, c.RankersDir, c.Params, c.PipelineFlags, log)
	if err != nil {
		return err
	}
	defer h.Close()
	names := c.Rankers
	if len(names) == 0 {
		for _, r := range svc.Rankers() {
			names = append(names, r.Name)
		}
	}
	reps, err := svc.TrainAll(ctx, names, time.Now().UTC())
	if err != nil {
		return err
	}
	for _, rep := range reps {
		log.Info("trained", "ranker", rep.Ranker, "version", rep.ModelVersion, "took", rep.Duration, "interactions", rep.Interactions)
	}
	return nil
}

// startFeedFromFlags reads --ranker-params and the pipeline flags, then
// starts the feed (see startFeed).
func startFeedFromFlags(ctx context.Context, st *store.Store, rankersDir, paramsFile string, pf PipelineFlags, log *slog.Logger) (*host.Host, *feed.Service, error) {
	params, err := loadRankerParams(paramsFile)
	if err != nil {
		return nil, nil, err
	}
	pipe, err := pf.pipeline()
	if err != nil {
		return nil, nil, err
	}
	return startFeed(ctx, st, rankersDir, params, pipe, log)
}

// startFeed starts the ranker plugins and the feed service over them.
func startFeed(ctx context.Context, st *store.Store, rankersDir string, params map[string]sdk.Params, pipe feed.Pipeline, log *slog.Logger) (*host.Host, *feed.Service, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find own binary: %w", err)
	}
	h, err := host.New(ctx, host.Config{Self: self, Builtins: builtin.Names(), Dir: rankersDir, Logger: log,
		OnRestart: metrics.RankerRestarted})
	if err != nil {
		return nil, nil, err
	}
	for _, st := range h.Rankers() {
		metrics.RankerStarted(st.Name)
	}
	cfg := feed.DefaultConfig()
	cfg.Logger = log
	cfg.Params = params
	cfg.Pipeline = pipe
	return h, feed.New(st.Client, st.DB, st.Dialect == dialect.Postgres, h, cfg), nil
}

// ServeCmd serves HTTP.
type ServeCmd struct {
	PipelineFlags
	Addr       string        `name:"addr" env:"LIMELIGHT_ADDR" default:"localhost:8080" help:"Address to listen on."`
	Demo       bool          `name:"demo" env:"LIMELIGHT_DEMO" default:"true" negatable:"" help:"Seed the demo world when the database is empty."`
	RankersDir string        `name:"rankers-dir" env:"LIMELIGHT_RANKERS_DIR" help:"Directory of external ranker plugins (with rankers.json)."`
	Params     string        `name:"ranker-params" env:"LIMELIGHT_RANKER_PARAMS" type:"existingfile" help:"JSON file of hyperparameters per ranker, e.g. from eval --tune --save."`
	Retrain    time.Duration `name:"retrain-every" env:"LIMELIGHT_RETRAIN_EVERY" help:"Retrain all rankers this often (e.g. 6h); 0 never."`
	Dev        bool          `name:"dev" env:"LIMELIGHT_DEV" help:"Development mode: schema introspection without an ADMIN key."`
	RateLimit  float64       `name:"rate-limit" env:"LIMELIGHT_RATE_LIMIT" default:"50" help:"Requests per second per API key (bursts of twice that); negative disables."`
}

// SeedCmd loads a demo world.
type SeedCmd struct {
	Seed         int64 `default:"42" help:"Random seed: the same seed gives the same world."`
	Interactions int   `default:"100000" help:"Number of interactions."`
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	var cli CLI
	kctx := kong.Parse(&cli,
		kong.Name("limelight"),
		kong.Description("Limelight: a GraphQL backend for the creator economy."),
		kong.UsageOnError(),
		kong.Bind(&cli.Globals, log),
	)
	if kctx.Command() == "ranker <name>" {
		// A plugin process: default signal handling, so SIGTERM stops it.
		if err := kctx.Run(); err != nil {
			log.Error("ranker failed", "err", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(); err != nil {
		log.Error("limelight failed", "err", err)
		os.Exit(1)
	}
}

func openStore(ctx context.Context, g *Globals, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, g.Database)
	if err != nil {
		return nil, err
	}
	log.Info("store open", "dialect", st.Dialect)
	return st, nil
}

// Run serves until the context is cancelled (SIGINT or SIGTERM).
func (c *ServeCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	var example string
	// Replicas starting together on an empty database: one seeds and creates
	// the admin key, the others wait and then find both done.
	err = st.Exclusive(ctx, "first-start", func() error {
		if c.Demo {
			if example, err = seedIfEmpty(ctx, st, log, seed.Demo()); err != nil {
				return err
			}
		}
		return bootstrapAdminKey(ctx, st, os.Stdout, log)
	})
	if err != nil {
		return err
	}
	h, svc, err := startFeedFromFlags(ctx, st, c.RankersDir, c.Params, c.PipelineFlags, log)
	if err != nil {
		return err
	}
	defer h.Close()
	missing, err := svc.Load(ctx)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if _, err := svc.TrainAll(ctx, missing, time.Now().UTC()); err != nil {
			log.Error("training failed; the fallback serves feeds meanwhile", "rankers", missing, "err", err)
		}
	}
	go maintainModels(ctx, svc, c.Retrain, log)
	resolver := graph.NewResolver(graph.Deps{Client: st.Client, Logger: log, Feed: svc,
		Dev: c.Dev, RateLimit: ratelimit.Config{Rate: c.RateLimit}})
	srv := &http.Server{
		Addr:              c.Addr,
		Handler:           graph.NewMux(resolver, st),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("serving", "graphiql", "http://"+c.Addr+"/", "graphql", "http://"+c.Addr+"/graphql")
	if example != "" {
		log.Info("try this query in GraphiQL, with an API key in the Headers tab ({\"Authorization\": \"Bearer ll_...\"}: the ADMIN key printed at the first start, or one from `limelight keys create`)", "query", example)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// maintainModels picks up models other replicas trained, and retrains every
// interval if one is set.
func maintainModels(ctx context.Context, svc *feed.Service, every time.Duration, log *slog.Logger) {
	refresh := time.NewTicker(time.Minute)
	defer refresh.Stop()
	var retrain <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		retrain = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			if err := svc.Refresh(ctx); err != nil {
				log.Warn("refreshing models", "err", err)
			}
		case <-retrain:
			var names []string
			for _, r := range svc.Rankers() {
				if r.State == host.StateRunning {
					names = append(names, r.Name)
				}
			}
			if changed, err := svc.Changed(ctx); err == nil && !changed {
				log.Info("scheduled training skipped: nothing changed since the last one")
				continue
			}
			if len(names) > 0 {
				if _, err := svc.TrainAll(ctx, names, time.Now().UTC()); err != nil {
					log.Warn("scheduled training failed", "rankers", names, "err", err)
				}
			}
		}
	}
}

// Run loads a demo world if the database is empty.
func (c *SeedCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := seed.Demo()
	cfg.Seed = c.Seed
	cfg.Interactions = c.Interactions
	_, err = seedIfEmpty(ctx, st, log, cfg)
	return err
}

// seedIfEmpty loads a world ending today into an empty database and returns
// an example query over it.
func seedIfEmpty(ctx context.Context, st *store.Store, log *slog.Logger, cfg seed.Config) (string, error) {
	empty, err := seed.Empty(ctx, st.Client)
	if err != nil {
		return "", err
	}
	if !empty {
		log.Info("database has data; not seeding")
		u, err := st.Client.User.Query().First(ctx)
		if err != nil {
			return "", nil
		}
		return exampleQuery(string(u.ID)), nil
	}
	cfg.Now = time.Now().UTC().Truncate(24 * time.Hour)
	start := time.Now()
	w, err := seed.Generate(cfg)
	if err != nil {
		return "", err
	}
	ids, err := seed.Load(ctx, st.Client, w)
	if err != nil {
		return "", err
	}
	if err := seed.LoadMoney(ctx, st.Client, w, ids, cfg.Now); err != nil {
		return "", err
	}
	log.Info("seeded demo world", "users", len(w.Users), "influencers", len(w.Influencers),
		"contents", len(w.Contents), "interactions", len(w.Interactions), "took", time.Since(start).Round(time.Millisecond))
	return exampleQuery(string(ids.Users[0])), nil
}

func exampleQuery(userID string) string {
	return fmt.Sprintf(`{ recommendations(userId: %q, first: 5) { ranker edges { score ranker reason node { ... on Content { title tags influencer { handle } } ... on SponsoredContent { label clickUrl ad { title } } } } } userProfile(userId: %[1]q) { user { handle } interests { tag weight } topInfluencers { influencer { handle } weight } } influencers(first: 3, orderBy: {field: FOLLOWER_COUNT, direction: DESC}) { totalCount edges { node { handle followerCount } } } }`, userID)
}
