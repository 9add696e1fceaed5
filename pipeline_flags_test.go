package main

import (
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/interaction"
)

func TestPipelineFlags(t *testing.T) {
	p, err := PipelineFlags{TrainHalfLife: 24 * time.Hour, BurstMax: 10, KindWeights: map[string]float64{"LIKE": 5, "SKIP": 0}}.pipeline()
	if err != nil {
		t.Fatal(err)
	}
	if p.HalfLife != 24*time.Hour || p.BurstMax != 10 || p.Weights[interaction.KindLIKE] != 5 ||
		p.Weights[interaction.KindSKIP] != 0 || p.Weights[interaction.KindVIEW] != 1 || p.RepeatWindow != 30*time.Minute {
		t.Fatalf("pipeline = %+v", p)
	}
	for _, bad := range []PipelineFlags{
		{TrainHalfLife: -time.Hour},
		{BurstMax: -1},
		{KindWeights: map[string]float64{"STARE": 1}},
		{KindWeights: map[string]float64{"VIEW": 1000}},
	} {
		if _, err := bad.pipeline(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
