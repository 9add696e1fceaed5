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

	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
)

// Globals are settings shared by every subcommand.
type Globals struct {
	Database string `name:"database" env:"DATABASE_URL" help:"postgres:// URL or SQLite file path (default: limelight.db in the working directory)."`
}

// CLI is the command line: every flag has an environment twin; flags win.
type CLI struct {
	Globals
	Serve ServeCmd `cmd:"" default:"withargs" help:"Serve the GraphQL API (the default)."`
	Seed  SeedCmd  `cmd:"" help:"Load a generated demo world into an empty database."`
}

// ServeCmd serves HTTP.
type ServeCmd struct {
	Addr       string `name:"addr" env:"LIMELIGHT_ADDR" default:"localhost:8080" help:"Address to listen on."`
	Demo       bool   `name:"demo" env:"LIMELIGHT_DEMO" default:"true" negatable:"" help:"Seed the demo world when the database is empty."`
	RankersDir string `name:"rankers-dir" env:"LIMELIGHT_RANKERS_DIR" help:"Directory of external ranker plugins (with rankers.json)."`
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
	if c.Demo {
		if example, err = seedIfEmpty(ctx, st, log, seed.Demo()); err != nil {
			return err
		}
	}
	resolver := graph.NewResolver(graph.Deps{Client: st.Client, Logger: log})
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
		log.Info("try this query in GraphiQL", "query", example)
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
	log.Info("seeded demo world", "users", len(w.Users), "influencers", len(w.Influencers),
		"contents", len(w.Contents), "interactions", len(w.Interactions), "took", time.Since(start).Round(time.Millisecond))
	return exampleQuery(string(ids.Users[0])), nil
}

func exampleQuery(userID string) string {
	return fmt.Sprintf(`{ userProfile(userId: %q) { user { handle } interests { tag weight } topInfluencers { influencer { handle } weight } } influencers(first: 3, orderBy: {field: FOLLOWER_COUNT, direction: DESC}) { totalCount edges { node { handle followerCount } } } }`, userID)
}
