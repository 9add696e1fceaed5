package main

import (
	"fmt"
	"time"

	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/internal/feed"
)

// PipelineFlags tune how interactions become training data; zero values
// keep feed.DefaultPipeline's.
type PipelineFlags struct {
	TrainHalfLife time.Duration      `name:"train-half-life" env:"LIMELIGHT_TRAIN_HALF_LIFE" help:"Age at which an interaction counts half in training (default 1440h)."`
	TrainWindow   time.Duration      `name:"train-window" env:"LIMELIGHT_TRAIN_WINDOW" help:"How far back training reads interactions (default 8760h)."`
	RepeatWindow  time.Duration      `name:"repeat-window" env:"LIMELIGHT_REPEAT_WINDOW" help:"Repeated views of the same content by a user within this count once (default 30m)."`
	BurstMax      int                `name:"burst-max" env:"LIMELIGHT_BURST_MAX" help:"Events per minute from one user beyond which the rest are dropped as noise (default 60)."`
	KindWeights   map[string]float64 `name:"kind-weights" env:"LIMELIGHT_KIND_WEIGHTS" mapsep:"," help:"Training weight per interaction kind, e.g. VIEW=1,LIKE=3,SKIP=-1 (0 leaves a kind out)."`
}

// pipeline applies the flags to the default pipeline.
func (f PipelineFlags) pipeline() (feed.Pipeline, error) {
	p := feed.DefaultPipeline()
	for _, d := range []struct {
		name string
		v    time.Duration
		dst  *time.Duration
	}{{"train-half-life", f.TrainHalfLife, &p.HalfLife}, {"train-window", f.TrainWindow, &p.Window}, {"repeat-window", f.RepeatWindow, &p.RepeatWindow}} {
		switch {
		case d.v < 0:
			return p, fmt.Errorf("--%s must not be negative", d.name)
		case d.v > 0:
			*d.dst = d.v
		}
	}
	if f.BurstMax < 0 {
		return p, fmt.Errorf("--burst-max must not be negative")
	}
	if f.BurstMax > 0 {
		p.BurstMax = f.BurstMax
	}
	if len(f.KindWeights) > 0 {
		w := make(map[interaction.Kind]float64, len(p.Weights))
		for k, v := range p.Weights {
			w[k] = v
		}
		for k, v := range f.KindWeights {
			kind := interaction.Kind(k)
			if err := interaction.KindValidator(kind); err != nil {
				return p, fmt.Errorf("--kind-weights: unknown kind %q", k)
			}
			if v < -100 || v > 100 {
				return p, fmt.Errorf("--kind-weights: %s weight must be between -100 and 100", k)
			}
			w[kind] = v
		}
		p.Weights = w
	}
	return p, nil
}
