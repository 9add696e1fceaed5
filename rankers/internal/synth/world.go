package synth

import (
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// KindWeights are the interaction weights FromWorld uses, by kind.
var KindWeights = map[string]float32{
	seed.KindView: 1, seed.KindClick: 1.5, seed.KindLike: 3, seed.KindComment: 4, seed.KindShare: 5, seed.KindSkip: -1,
}

// FromWorld turns a generated world into a ranker dataset: users and
// contents keep their indexes, interactions are weighted by KindWeights.
func FromWorld(w *seed.World) *sdk.Dataset {
	n := len(w.Interactions)
	d := &sdk.Dataset{
		NumUsers: len(w.Users), NumItems: len(w.Contents),
		Users: make([]int32, n), Items: make([]int32, n), Weights: make([]float32, n), Times: make([]int64, n),
		Features: make([]sdk.ItemFeatures, len(w.Contents)),
	}
	for j, x := range w.Interactions {
		d.Users[j], d.Items[j] = int32(x.User), int32(x.Content)
		d.Weights[j] = KindWeights[x.Kind]
		if d.Weights[j] == 0 {
			d.Weights[j] = 1
		}
		d.Times[j] = x.At.Unix()
	}
	for i, c := range w.Contents {
		d.Features[i] = sdk.ItemFeatures{
			Category: c.Category, Tags: c.Tags, Title: c.Title, Body: c.Body,
			Language: c.Language, PublishedAt: c.PublishedAt.Unix(),
		}
	}
	return d
}
