package graph

import (
	"context"
	"sort"
	"strings"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/ads"
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
		r.Capabilities = strings.Split(c, "|")
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
		rp := &RankerParam{Name: p.Name, Kind: p.Kind.String(), Default: p.Default, Value: p.Default, Description: p.Doc}
		if v, ok := ri.Params[p.Name]; ok {
			rp.Value = v
		}
		if p.Min != 0 || p.Max != 0 {
			lo, hi := p.Min, p.Max
			rp.Min, rp.Max = &lo, &hi
		}
		r.Params = append(r.Params, rp)
	}
	return r
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
	byID, err := r.influencersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []*InfluencerRecommendation{}
	for _, s := range scores {
		if inf := byID[s.InfluencerID]; inf != nil {
			out = append(out, &InfluencerRecommendation{Influencer: inf, Score: s.Score, Reason: s.Reason})
		}
	}
	return out, nil
}

// blendAds puts sponsored slots (one in every AdLoad edges) into a feed page
// without changing its size: organic items pushed past the end are left for
// the next page, which continues after the last organic edge shown. Ads never
// fail a feed: if picking fails, the page stays organic.
func (r *Resolver) blendAds(ctx context.Context, userID pulid.ID, conn *RecommendationConnection, p *feed.Page) {
	cfg := ads.DefaultConfig()
	slots := ads.Positions(len(p.Items), cfg.AdLoad)
	if len(slots) == 0 {
		return
	}
	beside := make([]ads.ContentRef, len(slots))
	for i, pos := range slots {
		beside[i] = ads.RefOf(p.Items[pos-1].Content)
	}
	tags, creators, err := r.feed.Interests(ctx, p)
	if err != nil {
		r.log.WarnContext(ctx, "reading interests for ads failed; serving an organic page", "err", err)
		return
	}
	placed, err := ads.Pick(ctx, r.client, ads.Request{UserID: userID, Slots: len(slots), Context: beside, Now: r.now(),
		Interests: tags, Creators: creators, Config: &cfg})
	if err != nil {
		r.log.WarnContext(ctx, "picking ads failed; serving an organic page", "err", err)
		return
	}
	if len(placed) == 0 {
		return
	}
	bySlot := map[int]ads.Placement{}
	for _, pl := range placed {
		bySlot[slots[pl.Slot]] = pl
	}
	organic := conn.Edges
	edges := make([]*RecommendationEdge, 0, len(organic))
	next := 0
	for pos := 0; len(edges) < len(organic); pos++ {
		if pl, ok := bySlot[pos]; ok && next > 0 {
			reason := "sponsored"
			if pl.Beside.ContentID != "" {
				reason = "sponsored, matched to the content above"
			}
			edges = append(edges, &RecommendationEdge{
				Cursor: organic[next-1].Cursor, Score: pl.ExpectedValue, Ranker: "ads", Reason: reason,
				Node: &SponsoredContent{ID: pl.ImpressionID, Ad: pl.Ad, ClickURL: pl.ClickURL, Label: "Sponsored"},
			})
			continue
		}
		edges = append(edges, organic[next])
		next++
	}
	if next < len(organic) {
		conn.PageInfo.HasNextPage = true
	}
	conn.Edges = edges
	end := organic[next-1].Cursor
	conn.PageInfo.EndCursor = &end
}
