package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Search methods.
const (
	// RandomSearch draws each trial's parameters independently, uniformly
	// (log-uniformly for LogScale parameters) within their ranges.
	RandomSearch = "random"
	// GridSearch tries the points of a regular grid (log-spaced for
	// LogScale parameters), a random subset when the grid exceeds the budget.
	GridSearch = "grid"
)

// Range is the search range of one hyperparameter.
type Range struct {
	// Min and Max bound a numeric parameter, inclusive.
	Min, Max float64
	// Log searches the range on a log scale (needs Min > 0).
	Log bool
	// Int rounds values to integers.
	Int bool
	// Values, when set, lists the values to choose from instead.
	Values []string
}

// TuneConfig configures a hyperparameter search.
type TuneConfig struct {
	// Method is RandomSearch (default) or GridSearch.
	Method string
	// Trials is the budget: how many parameter sets are trained and scored
	// on the validation split, the declared defaults first. Default 20.
	Trials int
	// Seed makes the search reproducible.
	Seed uint64
	// Metric is what is maximised on the validation split (see Metrics.Get);
	// default "ndcg".
	Metric string
	// K is the cut-off; default 10.
	K int
	// Space restricts the search to these parameters and ranges; nil means
	// every declared numeric or bool parameter but "seed", over its declared
	// range (log scale where declared, or where the range spans two orders
	// of magnitude).
	Space map[string]Range
	// Fixed parameters are passed to every trial and not searched.
	Fixed sdk.Params
	// Validation says how the validation split is carved out of the
	// training data; the test split is never seen while tuning.
	Validation SplitConfig
	// GridPoints is the number of grid points per numeric parameter; default 3.
	GridPoints int
	// Progress, if set, is called after each trial.
	Progress func(i int, t Trial)
}

// Trial is one scored parameter set.
type Trial struct {
	Params       sdk.Params `json:"params"`
	Validation   Metrics    `json:"validation"`
	TrainSeconds float64    `json:"train_seconds"`
}

// TuneResult is the outcome of Tune.
type TuneResult struct {
	Ranker string  `json:"ranker"`
	Metric string  `json:"metric"`
	Trials []Trial `json:"trials"`
	// Best is the parameter set with the best validation score.
	Best sdk.Params `json:"best"`
	// Test is Best trained on the whole training split, scored on the test split.
	Test Result `json:"test"`
	// DefaultTest is the declared defaults, trained and scored the same way.
	DefaultTest Result `json:"default_test"`
}

// Tune searches m's hyperparameters on a validation split carved out of
// s.Train, then trains the best set and the defaults on all of s.Train and
// scores both on s.Test.
func Tune(ctx context.Context, m Model, s *Split, cfg TuneConfig) (*TuneResult, error) {
	if cfg.Method == "" {
		cfg.Method = RandomSearch
	}
	if cfg.Trials <= 0 {
		cfg.Trials = 20
	}
	if cfg.Metric == "" {
		cfg.Metric = "ndcg"
	}
	if cfg.K <= 0 {
		cfg.K = 10
	}
	if cfg.GridPoints <= 1 {
		cfg.GridPoints = 3
	}
	if _, ok := (Metrics{}).Get(cfg.Metric); !ok {
		return nil, fmt.Errorf("unknown metric %q", cfg.Metric)
	}
	info := m.Info()
	space, err := searchSpace(info.Params, cfg.Space, cfg.Fixed)
	if err != nil {
		return nil, err
	}
	if len(space) == 0 {
		return nil, fmt.Errorf("ranker %s declares no hyperparameters to tune", info.Name)
	}
	candidates, err := proposals(space, cfg)
	if err != nil {
		return nil, err
	}
	val, err := Holdout(s.Train, cfg.Validation)
	if err != nil {
		return nil, fmt.Errorf("validation split: %w", err)
	}

	out := &TuneResult{Ranker: info.Name, Metric: cfg.Metric}
	bestScore := math.Inf(-1)
	for i, p := range candidates {
		res, err := Evaluate(ctx, m, val, p, cfg.K)
		if err != nil {
			return nil, fmt.Errorf("trial %d %v: %w", i, p, err)
		}
		t := Trial{Params: p, Validation: res.Metrics, TrainSeconds: res.TrainSeconds}
		out.Trials = append(out.Trials, t)
		if cfg.Progress != nil {
			cfg.Progress(i, t)
		}
		if v, _ := res.Metrics.Get(cfg.Metric); v > bestScore {
			bestScore, out.Best = v, p
		}
	}
	if out.Test, err = Evaluate(ctx, m, s, out.Best, cfg.K); err != nil {
		return nil, err
	}
	if out.DefaultTest, err = Evaluate(ctx, m, s, cfg.Fixed, cfg.K); err != nil {
		return nil, err
	}
	return out, nil
}

// searchSpace turns declared specs (and optional overrides) into ranges.
func searchSpace(specs []sdk.ParamSpec, override map[string]Range, fixed sdk.Params) (map[string]Range, error) {
	byName := map[string]sdk.ParamSpec{}
	for _, s := range specs {
		byName[s.Name] = s
	}
	out := map[string]Range{}
	if override != nil {
		for name, r := range override {
			s, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("ranker declares no parameter %q", name)
			}
			r.Int = s.Kind == sdk.ParamInt
			if r.Values == nil && (r.Min > r.Max || r.Min < s.Min || r.Max > s.Max) {
				return nil, fmt.Errorf("range of %s [%g,%g] is outside the declared [%g,%g]", name, r.Min, r.Max, s.Min, s.Max)
			}
			if r.Log && r.Min <= 0 {
				r.Log = false
			}
			out[name] = r
		}
		return out, nil
	}
	for _, s := range specs {
		if _, ok := fixed[s.Name]; ok || s.Name == "seed" {
			continue
		}
		switch s.Kind {
		case sdk.ParamInt, sdk.ParamFloat:
			// A range spanning two orders of magnitude is searched on a log
			// scale even if not declared so: uniform draws over 1..512
			// factors would spend most trials on the slowest models.
			wide := s.Min > 0 && s.Max/s.Min >= 100
			out[s.Name] = Range{Min: s.Min, Max: s.Max, Log: (s.LogScale || wide) && s.Min > 0, Int: s.Kind == sdk.ParamInt}
		case sdk.ParamBool:
			out[s.Name] = Range{Values: []string{"false", "true"}}
		}
	}
	return out, nil
}

// proposals returns the parameter sets to try: the defaults first, then
// random draws or grid points, Trials in all.
func proposals(space map[string]Range, cfg TuneConfig) ([]sdk.Params, error) {
	names := make([]string, 0, len(space))
	for n := range space {
		names = append(names, n)
	}
	slices.Sort(names)
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7e57))
	with := func(p sdk.Params) sdk.Params {
		for k, v := range cfg.Fixed {
			p[k] = v
		}
		return p
	}
	out := []sdk.Params{with(sdk.Params{})}
	switch cfg.Method {
	case RandomSearch:
		for len(out) < cfg.Trials {
			p := sdk.Params{}
			for _, n := range names {
				p[n] = draw(r, space[n])
			}
			out = append(out, with(p))
		}
	case GridSearch:
		axes := make([][]string, len(names))
		total := 1
		for i, n := range names {
			axes[i] = gridAxis(space[n], cfg.GridPoints)
			total *= len(axes[i])
			if total > 1<<20 {
				return nil, errors.New("grid too large: narrow the space or lower the grid points")
			}
		}
		pick := make([]int, total)
		for i := range pick {
			pick[i] = i
		}
		if total > cfg.Trials-1 {
			r.Shuffle(total, func(a, b int) { pick[a], pick[b] = pick[b], pick[a] })
			pick = pick[:cfg.Trials-1]
			slices.Sort(pick)
		}
		for _, idx := range pick {
			p := sdk.Params{}
			for i := len(names) - 1; i >= 0; i-- {
				p[names[i]] = axes[i][idx%len(axes[i])]
				idx /= len(axes[i])
			}
			out = append(out, with(p))
		}
	default:
		return nil, fmt.Errorf("unknown search method %q (want random or grid)", cfg.Method)
	}
	return out, nil
}

func draw(r *rand.Rand, rg Range) string {
	if rg.Values != nil {
		return rg.Values[r.IntN(len(rg.Values))]
	}
	var v float64
	if rg.Log {
		v = math.Exp(math.Log(rg.Min) + r.Float64()*(math.Log(rg.Max)-math.Log(rg.Min)))
	} else {
		v = rg.Min + r.Float64()*(rg.Max-rg.Min)
	}
	return formatValue(v, rg)
}

func gridAxis(rg Range, points int) []string {
	if rg.Values != nil {
		return rg.Values
	}
	var out []string
	for i := range points {
		f := float64(i) / float64(points-1)
		var v float64
		if rg.Log {
			v = math.Exp(math.Log(rg.Min) + f*(math.Log(rg.Max)-math.Log(rg.Min)))
		} else {
			v = rg.Min + f*(rg.Max-rg.Min)
		}
		if s := formatValue(v, rg); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func formatValue(v float64, rg Range) string {
	v = math.Min(math.Max(v, rg.Min), rg.Max)
	if rg.Int {
		return strconv.Itoa(int(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// ParseSpace parses "name=min:max[:log],name=a|b|c" into ranges.
func ParseSpace(s string) (map[string]Range, error) {
	out := map[string]Range{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("search space %q: want name=min:max or name=a|b", part)
		}
		if strings.Contains(val, "|") {
			out[name] = Range{Values: strings.Split(val, "|")}
			continue
		}
		f := strings.Split(val, ":")
		if len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "log") {
			return nil, fmt.Errorf("search space %q: want name=min:max or name=min:max:log", part)
		}
		lo, err1 := strconv.ParseFloat(f[0], 64)
		hi, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("search space %q: bounds must be numbers", part)
		}
		out[name] = Range{Min: lo, Max: hi, Log: len(f) == 3}
	}
	return out, nil
}

// ParseParams parses "name=value,name=value".
func ParseParams(s string) (sdk.Params, error) {
	out := sdk.Params{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter %q: want name=value", part)
		}
		out[k] = v
	}
	return out, nil
}

// WriteTuneReport writes a tuning result as text: the trials by score, the
// best parameters and the test metrics of best and default.
func WriteTuneReport(w io.Writer, r *TuneResult) error {
	trials := slices.Clone(r.Trials)
	slices.SortStableFunc(trials, func(a, b Trial) int {
		x, _ := a.Validation.Get(r.Metric)
		y, _ := b.Validation.Get(r.Metric)
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	fmt.Fprintf(w, "%s: %d trials, validation %s@%d (best first)\n", r.Ranker, len(r.Trials), r.Metric, r.Test.K)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range trials {
		v, _ := t.Validation.Get(r.Metric)
		fmt.Fprintf(tw, "  %.4f\t%.2fs\t%s\n", v, t.TrainSeconds, FormatParams(t.Params))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nbest parameters: %s\n\ntest split:\n", FormatParams(r.Best))
	best, def := r.Test, r.DefaultTest
	best.Ranker, def.Ranker = r.Ranker+" (tuned)", r.Ranker+" (defaults)"
	return WriteTable(w, []Result{best, def})
}

// FormatParams writes params as sorted name=value pairs; "defaults" for none.
func FormatParams(p sdk.Params) string {
	if len(p) == 0 {
		return "(defaults)"
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, " ")
}

// SaveParams merges params for ranker into the JSON file at path (a map
// from ranker name to parameters, what `serve --ranker-params` reads).
func SaveParams(path, ranker string, p sdk.Params) error {
	all := map[string]sdk.Params{}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &all); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	all[ranker] = p
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadParams reads a file written by SaveParams.
func LoadParams(path string) (map[string]sdk.Params, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	all := map[string]sdk.Params{}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("ranker params %s: %w", path, err)
	}
	return all, nil
}
