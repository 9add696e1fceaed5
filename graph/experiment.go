package graph

import (
	"context"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/experiment"
)

// rankerKnown reports whether the feed has a running ranker of that name;
// without a feed service every name passes.
func (r *Resolver) rankerKnown(name string) bool {
	if r.feed == nil {
		return true
	}
	// Only a running ranker: a refused or failed one would be replaced by
	// the fallback for its whole variant, and the results would lie.
	return r.feed.Running(name)
}

// experimentRanker returns the ranker of the user's variant in the running
// experiment, with the experiment; "" and nil when none runs.
func (r *Resolver) experimentRanker(ctx context.Context, userID pulid.ID) (string, *ent.Experiment, error) {
	e, err := experiment.Running(ctx, r.client)
	if err != nil || e == nil {
		return "", nil, err
	}
	return e.Variants[experiment.VariantOf(e, userID)].Ranker, e, nil
}

func toExperimentResults(res *experiment.Results) *ExperimentResults {
	out := &ExperimentResults{Experiment: res.Experiment, From: res.From, To: res.To, Variants: []*VariantResults{}}
	for _, v := range res.Variants {
		vr := &VariantResults{
			Ranker: v.Ranker, Weight: v.Weight, Users: v.Users, Impressions: v.Impressions, Clicks: v.Clicks,
			Ctr: v.CTR, CtrInterval: &Interval{Low: v.CTRInterval.Low, High: v.CTRInterval.High}, CtrPValue: v.CTRPValue,
			Conversions: v.Conversions, Cvr: v.CVR, CvrInterval: &Interval{Low: v.CVRInterval.Low, High: v.CVRInterval.High},
			RevenuePerUser: []*VariantRevenue{},
		}
		for _, rv := range v.Revenue {
			vr.RevenuePerUser = append(vr.RevenuePerUser, &VariantRevenue{Currency: rv.Currency, TotalMinor: int(rv.TotalMinor), PerUserMinor: rv.PerUserMinor})
		}
		out.Variants = append(out.Variants, vr)
	}
	return out
}
