package graph

import (
	"context"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/activity"
	"github.com/limelight-hq/limelight/internal/profile"
)

func toItem(in *InteractionInput) activity.Item {
	it := activity.Item{UserID: in.UserID, ContentID: in.ContentID, Kind: in.Kind}
	if in.DwellMs != nil {
		it.DwellMs = *in.DwellMs
	}
	if in.Ranker != nil {
		it.Ranker = *in.Ranker
	}
	if in.OccurredAt != nil {
		it.OccurredAt = *in.OccurredAt
	}
	if in.EventID != nil {
		it.EventID = *in.EventID
	}
	return it
}

func toRecordPayload(res activity.Result) *RecordInteractionsPayload {
	p := &RecordInteractionsPayload{Accepted: res.Accepted, Duplicates: res.Duplicates, Rejected: []*RejectedItem{}}
	for _, r := range res.Rejected {
		p.Rejected = append(p.Rejected, &RejectedItem{Index: r.Index, Code: string(r.Code), Message: r.Message})
	}
	return p
}

func (r *Resolver) toUserProfile(ctx context.Context, p *profile.User) (*UserProfile, error) {
	u, err := r.client.User.Get(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := &UserProfile{User: u, InteractionCount: p.Interactions, ActiveHours: p.ActiveHours[:],
		Interests: []*TagWeight{}, Activity: []*KindCount{}, TopInfluencers: []*InfluencerWeight{}}
	for _, t := range p.Interests {
		out.Interests = append(out.Interests, &TagWeight{Tag: t.Key, Weight: t.Weight})
	}
	for _, k := range activity.Kinds {
		out.Activity = append(out.Activity, &KindCount{Kind: k, Count: p.Counts[k]})
	}
	ids := make([]pulid.ID, len(p.TopInfluencers))
	for i, t := range p.TopInfluencers {
		ids[i] = t.Key
	}
	byID, err := r.influencersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, t := range p.TopInfluencers {
		if inf := byID[t.Key]; inf != nil {
			out.TopInfluencers = append(out.TopInfluencers, &InfluencerWeight{Influencer: inf, Weight: t.Weight})
		}
	}
	return out, nil
}

func (r *Resolver) toInfluencerStats(ctx context.Context, s *profile.Influencer) (*InfluencerStats, error) {
	inf, err := r.client.Influencer.Get(ctx, s.InfluencerID)
	if err != nil {
		return nil, err
	}
	out := &InfluencerStats{Influencer: inf, From: s.From, To: s.To, Followers: s.Followers,
		Views: s.Views, EngagementRate: s.EngagementRate, FollowerGrowth: []*DayCount{}, TopContent: []*ContentEngagement{}}
	for _, d := range s.FollowerGrowth {
		out.FollowerGrowth = append(out.FollowerGrowth, &DayCount{Day: d.Day, Count: d.Count})
	}
	ids := make([]pulid.ID, len(s.TopContent))
	for i, c := range s.TopContent {
		ids[i] = c.ContentID
	}
	cs, err := r.client.Content.Query().Where(content.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[pulid.ID]*ent.Content{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	for _, c := range s.TopContent {
		if co := byID[c.ContentID]; co != nil {
			out.TopContent = append(out.TopContent, &ContentEngagement{Content: co, Views: c.Views, Engagements: c.Engagements})
		}
	}
	return out, nil
}

// influencersByID loads influencers in one query, keyed by ID; missing ones
// are absent.
func (r *Resolver) influencersByID(ctx context.Context, ids []pulid.ID) (map[pulid.ID]*ent.Influencer, error) {
	infs, err := r.client.Influencer.Query().Where(influencer.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[pulid.ID]*ent.Influencer, len(infs))
	for _, i := range infs {
		byID[i.ID] = i
	}
	return byID, nil
}
