package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/limelight-hq/limelight/internal/eval"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/ingest"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// EvalCmd evaluates rankers offline, and tunes one with --tune.
type EvalCmd struct {
	Rankers      []string      `arg:"" optional:"" help:"Rankers to evaluate: built-in names, plugin binary paths, or names in --rankers-dir's manifest (default: every built-in)."`
	Demo         bool          `name:"demo" help:"Evaluate on a generated demo world instead of the database."`
	DemoSeed     int64         `name:"demo-seed" default:"42" help:"Seed of the --demo world."`
	File         string        `name:"file" type:"existingfile" help:"Evaluate on an interactions file (MovieLens u.data or CSV) instead of the database."`
	Format       string        `name:"format" enum:",movielens,csv" default:"" help:"Layout of --file (default: guessed)."`
	Split        string        `name:"split" enum:"random,temporal,loo" default:"random" help:"How test data is held out: random per-user fraction, temporal cut, or leave-one-out."`
	Fraction     float64       `name:"fraction" default:"0.2" help:"Held-out fraction for random and temporal splits."`
	SplitSeed    uint64        `name:"seed" default:"1" help:"Random seed of the split (and of the search with --tune)."`
	K            int           `name:"k" default:"10" help:"Cut-off for the metrics."`
	HalfLife     time.Duration `name:"half-life" help:"Decay half-life of interaction weights (default: the server's; negative: no decay)."`
	JSON         bool          `name:"json" help:"Print JSON instead of a table."`
	RankersDir   string        `name:"rankers-dir" env:"LIMELIGHT_RANKERS_DIR" help:"Directory of external ranker plugins (with rankers.json)."`
	RankerParams string        `name:"ranker-params" env:"LIMELIGHT_RANKER_PARAMS" type:"existingfile" help:"JSON file of hyperparameters per ranker ({\"als\": {\"factors\": \"32\"}})."`

	Tune    bool    `name:"tune" group:"tuning" help:"Tune the (single) ranker's hyperparameters on a validation split carved out of the training data."`
	Trials  int     `name:"trials" group:"tuning" default:"20" help:"Budget of parameter sets to try (the defaults first)."`
	Search  string  `name:"search" group:"tuning" enum:"random,grid" default:"random" help:"Search method."`
	Space   string  `name:"space" group:"tuning" help:"Parameters and ranges to search, e.g. factors=16:128,alpha=0.5:50:log (default: every declared parameter but seed)."`
	Fix     string  `name:"fix" group:"tuning" help:"Parameters held fixed, e.g. iterations=10."`
	Metric  string  `name:"metric" group:"tuning" enum:"ndcg,map,recall,precision,hit_rate" default:"ndcg" help:"Metric maximised on the validation split."`
	ValFrac float64 `name:"validation-fraction" group:"tuning" default:"0.2" help:"Share of each user's training items held out for validation."`
	Points  int     `name:"grid-points" group:"tuning" default:"3" help:"Grid points per numeric parameter."`
	Save    string  `name:"save" group:"tuning" help:"Merge the best parameters into this JSON file, for serve/train --ranker-params."`
}

// Run loads the data, splits it, and evaluates or tunes.
func (c *EvalCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	p := feed.DefaultPipeline()
	if c.HalfLife > 0 {
		p.HalfLife = c.HalfLife
	} else if c.HalfLife < 0 {
		p.HalfLife = 0
	}
	d, from, err := c.load(ctx, g, log, p)
	if err != nil {
		return err
	}
	split, err := eval.Holdout(d, eval.SplitConfig{Kind: eval.SplitKind(c.Split), Fraction: c.Fraction, Seed: c.SplitSeed})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d users, %d items, %d pairs; %s split holds out %d items of %d users\n",
		from, d.NumUsers, d.NumItems, d.Len(), c.Split, split.HeldOut(), len(split.Test))
	params := map[string]sdk.Params{}
	if c.RankerParams != "" {
		if params, err = eval.LoadParams(c.RankerParams); err != nil {
			return err
		}
	}
	names := c.Rankers
	if len(names) == 0 {
		names = builtin.Names()
	}
	if c.Tune {
		if len(names) != 1 {
			return fmt.Errorf("--tune takes exactly one ranker, got %v", names)
		}
		return c.tune(ctx, names[0], split)
	}
	var results []eval.Result
	for _, name := range names {
		m, err := eval.Open(ctx, name, c.RankersDir)
		if err != nil {
			return err
		}
		res, err := eval.Evaluate(ctx, m, split, params[m.Info().Name], c.K)
		m.Close()
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	if c.JSON {
		return eval.WriteJSON(os.Stdout, map[string]any{"data": from, "split": c.Split, "fraction": c.Fraction,
			"seed": c.SplitSeed, "users": d.NumUsers, "items": d.NumItems, "results": results})
	}
	return eval.WriteTable(os.Stdout, results)
}

func (c *EvalCmd) load(ctx context.Context, g *Globals, log *slog.Logger, p feed.Pipeline) (*sdk.Dataset, string, error) {
	switch {
	case c.Demo && c.File != "":
		return nil, "", fmt.Errorf("--demo and --file are exclusive")
	case c.Demo:
		cfg := seed.Demo()
		cfg.Seed = c.DemoSeed
		w, err := seed.Generate(cfg)
		if err != nil {
			return nil, "", err
		}
		return eval.FromWorld(w, p), fmt.Sprintf("demo world (seed %d)", c.DemoSeed), nil
	case c.File != "":
		f, err := os.Open(c.File)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		res, err := ingest.Parse(f, ingest.Options{Format: ingest.Format(c.Format), Progress: progressLine("read")})
		if err != nil {
			return nil, "", err
		}
		return eval.FromRecords(res.Records, p), c.File, nil
	}
	st, err := openStore(ctx, g, log)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	p.Window = 100 * 365 * 24 * time.Hour // imported datasets may be old: take everything
	d, err := eval.FromDB(ctx, st.Client, p)
	return d, "database", err
}

func (c *EvalCmd) tune(ctx context.Context, name string, split *eval.Split) error {
	m, err := eval.Open(ctx, name, c.RankersDir)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg := eval.TuneConfig{Method: c.Search, Trials: c.Trials, Seed: c.SplitSeed, Metric: c.Metric, K: c.K,
		Validation: eval.SplitConfig{Kind: eval.SplitKind(c.Split), Fraction: c.ValFrac, Seed: c.SplitSeed + 1},
		GridPoints: c.Points,
		Progress: func(i int, t eval.Trial) {
			v, _ := t.Validation.Get(c.Metric)
			fmt.Fprintf(os.Stderr, "trial %d/%d: %s@%d %.4f (%.2fs) %s\n", i+1, c.Trials, c.Metric, c.K, v, t.TrainSeconds, eval.FormatParams(t.Params))
		}}
	if c.Space != "" {
		if cfg.Space, err = eval.ParseSpace(c.Space); err != nil {
			return err
		}
	}
	if cfg.Fixed, err = eval.ParseParams(c.Fix); err != nil {
		return err
	}
	res, err := eval.Tune(ctx, m, split, cfg)
	if err != nil {
		return err
	}
	if c.Save != "" {
		if err := eval.SaveParams(c.Save, res.Ranker, res.Best); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "saved the best %s parameters to %s\n", res.Ranker, c.Save)
	}
	if c.JSON {
		return eval.WriteJSON(os.Stdout, res)
	}
	return eval.WriteTuneReport(os.Stdout, res)
}

// progressLine returns a progress callback that rewrites one stderr line.
func progressLine(what string) func(int) {
	return func(n int) { fmt.Fprintf(os.Stderr, "\r%s %d lines...", what, n) }
}

// loadRankerParams reads a --ranker-params file: hyperparameters per ranker
// name, as `eval --tune --save` writes it. An empty path means none.
func loadRankerParams(path string) (map[string]sdk.Params, error) {
	if path == "" {
		return nil, nil
	}
	return eval.LoadParams(path)
}
