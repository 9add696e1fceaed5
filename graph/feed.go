package graph

import (
	"context"
	"sort"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/feed"
)

// errNoFeed is returned by feed fields when the server runs without rankers.
var errNoFeed = apperr.Errorf(apperr.Unavailable, "recommendations are not enabled on this server")

func toConnection(p *feed.Page) *RecommendationConnection {
	c := &RecommendationConnection{Edges: []*RecommendationEdge{}, PageInfo: &RecommendationPageInfo{HasNextPage: p.HasNext},
		TotalCount: p.Total, Ranker: p.Ranker, Fallback: p.Fallback}
	if p.Fallback {
		r := p.Reason
		c.FallbackReason = &r
	}
	for _, it := range p.Items {
		c.Edges = append(c.Edges, &RecommendationEdge{Cursor: it.Cursor, Node: it.Content, Score: it.Score, Ranker: it.Ranker, Reason: it.Reason})
	}
	if n := len(p.Items); n > 0 {
		end := p.Items[n-1].Cursor
		c.PageInfo.EndCursor = &end
	}
	return c
}

func toMetrics(m map[string]float64) []*Metric {
	out := make([]*Metric, 0, len(m))
	for k, v := range m {
		out = append(out, &Metric{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func toRanker(ri feed.RankerInfo) *Ranker {
	r := &Ranker{Name: ri.Name, Version: ri.Info.Version, Description: ri.Info.Description,
		Capabilities: []string{}, Status: string(ri.State), Restarts: ri.Restarts, Builtin: ri.Builtin,
		LastTrainedAt: ri.TrainedAt, TrainedOnInteractions: ri.Interactions, Metrics: toMetrics(ri.Metrics), Params: []*RankerParam{}}
	if c := ri.Info.Capabilities.String(); c != "" {
		r.Capabilities = splitCaps(c)
	}
	if ri.LastError != "" {
		e := ri.LastError
		r.LastError = &e
	}
	if ri.ModelVersion != "" {
		v := ri.ModelVersion
		r.ModelVersion = &v
	}
	for _, p := range ri.Info.Params {
		rp := &RankerParam{Name: p.Name, Kind: p.Kind.String(), Default: p.Default, Description: p.Doc}
		if p.Min != 0 || p.Max != 0 {
			lo, hi := p.Min, p.Max
			rp.Min, rp.Max = &lo, &hi
		}
		r.Params = append(r.Params, rp)
	}
	return r
}

func splitCaps(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func toTrainReport(r *feed.TrainReport) *TrainReport {
	return &TrainReport{Ranker: r.Ranker, ModelVersion: r.ModelVersion, DurationMs: int(r.Duration.Milliseconds()),
		Interactions: r.Interactions, Users: r.Users, Items: r.Items, Metrics: toMetrics(r.Metrics), TrainedAt: r.TrainedAt}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func (r *Resolver) toInfluencerRecommendations(ctx context.Context, scores []feed.InfluencerScore) ([]*InfluencerRecommendation, error) {
	ids := make([]pulid.ID, len(scores))
	for i, s := range scores {
		ids[i] = s.InfluencerID
	}
	infs, err := r.client.Influencer.Query().Where(influencer.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[pulid.ID]*ent.Influencer{}
	for _, i := range infs {
		byID[i.ID] = i
	}
	out := []*InfluencerRecommendation{}
	for _, s := range scores {
		if inf := byID[s.InfluencerID]; inf != nil {
			out = append(out, &InfluencerRecommendation{Influencer: inf, Score: s.Score, Reason: s.Reason})
		}
	}
	return out, nil
}
