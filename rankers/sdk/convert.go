package sdk

import (
	"time"

	rankerpb "github.com/limelight-hq/limelight/rankers/proto"
)

func infoToProto(in Info) *rankerpb.DescribeResponse {
	out := &rankerpb.DescribeResponse{Name: in.Name, Version: in.Version, Description: in.Description}
	if in.Capabilities.Has(UserItems) {
		out.Capabilities = append(out.Capabilities, rankerpb.Capability_CAPABILITY_USER_ITEMS)
	}
	if in.Capabilities.Has(ItemItems) {
		out.Capabilities = append(out.Capabilities, rankerpb.Capability_CAPABILITY_ITEM_ITEMS)
	}
	if in.Needs.Has(NeedInteractions) {
		out.Needs = append(out.Needs, rankerpb.Need_NEED_INTERACTIONS)
	}
	if in.Needs.Has(NeedItemFeatures) {
		out.Needs = append(out.Needs, rankerpb.Need_NEED_ITEM_FEATURES)
	}
	for _, p := range in.Params {
		out.Params = append(out.Params, &rankerpb.ParamSpec{
			Name: p.Name, Kind: rankerpb.ParamKind(p.Kind), Min: p.Min, Max: p.Max,
			Default: p.Default, LogScale: p.LogScale, Doc: p.Doc,
		})
	}
	return out
}

func infoFromProto(in *rankerpb.DescribeResponse) Info {
	out := Info{Name: in.GetName(), Version: in.GetVersion(), Description: in.GetDescription()}
	for _, c := range in.GetCapabilities() {
		switch c {
		case rankerpb.Capability_CAPABILITY_USER_ITEMS:
			out.Capabilities |= UserItems
		case rankerpb.Capability_CAPABILITY_ITEM_ITEMS:
			out.Capabilities |= ItemItems
		}
	}
	for _, n := range in.GetNeeds() {
		switch n {
		case rankerpb.Need_NEED_INTERACTIONS:
			out.Needs |= NeedInteractions
		case rankerpb.Need_NEED_ITEM_FEATURES:
			out.Needs |= NeedItemFeatures
		}
	}
	for _, p := range in.GetParams() {
		out.Params = append(out.Params, ParamSpec{
			Name: p.GetName(), Kind: ParamKind(p.GetKind()), Min: p.GetMin(), Max: p.GetMax(),
			Default: p.GetDefault(), LogScale: p.GetLogScale(), Doc: p.GetDoc(),
		})
	}
	return out
}

func featuresToProto(f *ItemFeatures) *rankerpb.ItemFeatures {
	return &rankerpb.ItemFeatures{
		Category: f.Category, Tags: f.Tags, Title: f.Title, Body: f.Body,
		Language: f.Language, PublishedAt: f.PublishedAt,
	}
}

func featuresFromProto(f *rankerpb.ItemFeatures) ItemFeatures {
	return ItemFeatures{
		Category: f.GetCategory(), Tags: f.GetTags(), Title: f.GetTitle(), Body: f.GetBody(),
		Language: f.GetLanguage(), PublishedAt: f.GetPublishedAt(),
	}
}

func queryToProto(q Query) *rankerpb.RecommendRequest {
	out := &rankerpb.RecommendRequest{
		User: q.User, K: int32(min(q.K, 1<<30)), Exclude: q.Exclude, Candidates: q.Candidates,
		IncludeConsumed: q.IncludeConsumed,
	}
	if q.K < 0 {
		out.K = -1
	}
	if len(q.History) > 0 {
		hs := make([]rankerpb.ItemWeight, len(q.History))
		out.History = make([]*rankerpb.ItemWeight, len(q.History))
		for i, h := range q.History {
			hs[i].Item, hs[i].Weight = h.Item, h.Weight
			out.History[i] = &hs[i]
		}
	}
	return out
}

func queryFromProto(in *rankerpb.RecommendRequest) Query {
	q := Query{
		User: in.GetUser(), K: int(in.GetK()), Exclude: in.GetExclude(), Candidates: in.GetCandidates(),
		IncludeConsumed: in.GetIncludeConsumed(),
	}
	if len(q.Candidates) == 0 {
		q.Candidates = nil
	}
	if hs := in.GetHistory(); len(hs) > 0 {
		q.History = make([]ItemWeight, len(hs))
		for i, h := range hs {
			q.History[i] = ItemWeight{Item: h.GetItem(), Weight: h.GetWeight()}
		}
	}
	return q
}

func scoredToProto(s []Scored) *rankerpb.ScoredItems {
	out := &rankerpb.ScoredItems{Items: make([]int32, len(s)), Scores: make([]float32, len(s))}
	for i, x := range s {
		out.Items[i], out.Scores[i] = x.Item, x.Score
	}
	return out
}

func scoredFromProto(items []int32, scores []float32) []Scored {
	n := min(len(items), len(scores))
	out := make([]Scored, n)
	for i := range n {
		out[i] = Scored{Item: items[i], Score: scores[i]}
	}
	return out
}

func reportToProto(r Report) *rankerpb.TrainReport {
	return &rankerpb.TrainReport{
		DurationSeconds: r.Duration.Seconds(), Metrics: r.Metrics, ModelVersion: r.ModelVersion,
	}
}

func reportFromProto(r *rankerpb.TrainReport) Report {
	return Report{
		Duration:     time.Duration(r.GetDurationSeconds() * float64(time.Second)),
		Metrics:      r.GetMetrics(),
		ModelVersion: r.GetModelVersion(),
	}
}
