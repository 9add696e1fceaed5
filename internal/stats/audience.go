package stats

import (
	"context"
	"fmt"
	"sort"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/follow"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/apperr"
)

// MinAudienceGroup is the smallest group an audience breakdown shows;
// smaller ones are merged into Other so no group points at a few fans.
const MinAudienceGroup = 10

// Other and Unknown are the keys of merged groups and of fans who did not
// say.
const (
	Other   = "other"
	Unknown = "unknown"
)

// Bucket is one group of followers.
type Bucket struct {
	Key   string
	Count int
}

// Audience is a creator's followers by country and age bracket.
type Audience struct {
	InfluencerID pulid.ID
	Followers    int
	MinGroup     int
	Countries    []Bucket
	AgeBrackets  []Bucket
}

// AudienceOf breaks a creator's followers down by country and age bracket.
// Groups under minGroup followers (MinAudienceGroup if 0) are merged into
// "other"; if "other" itself stays under minGroup, the smallest named
// groups join it until it does not, so every shown count is at least
// minGroup (or zero groups are shown).
func AudienceOf(ctx context.Context, client *ent.Client, influencerID pulid.ID, minGroup int) (*Audience, error) {
	if minGroup <= 0 {
		minGroup = MinAudienceGroup
	}
	if ok, err := client.Influencer.Query().Where(influencer.ID(influencerID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "influencer %s not found", influencerID)
	}
	fans := client.User.Query().Where(user.HasFollowsWith(follow.InfluencerID(influencerID)))
	a := &Audience{InfluencerID: influencerID, MinGroup: minGroup}
	var err error
	if a.Countries, a.Followers, err = breakdown(ctx, fans.Clone(), user.FieldCountry, minGroup); err != nil {
		return nil, err
	}
	if a.AgeBrackets, _, err = breakdown(ctx, fans.Clone(), user.FieldAgeBracket, minGroup); err != nil {
		return nil, err
	}
	return a, nil
}

func breakdown(ctx context.Context, q *ent.UserQuery, field string, minGroup int) ([]Bucket, int, error) {
	var rows []struct {
		Country    *string `json:"country"`
		AgeBracket *string `json:"age_bracket"`
		Count      int     `json:"count"`
	}
	if err := q.GroupBy(field).Aggregate(ent.As(ent.Count(), "count")).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("audience by %s: %w", field, err)
	}
	counts := map[string]int{}
	total := 0
	for _, r := range rows {
		k := r.Country
		if field == user.FieldAgeBracket {
			k = r.AgeBracket
		}
		key := Unknown
		if k != nil && *k != "" {
			key = *k
		}
		counts[key] += r.Count
		total += r.Count
	}
	return merge(counts, minGroup), total, nil
}

// merge folds groups under minGroup into Other, then the smallest groups
// into Other while Other is non-empty and under minGroup.
func merge(counts map[string]int, minGroup int) []Bucket {
	var named []Bucket
	other := 0
	for k, n := range counts {
		if n < minGroup || k == Other {
			other += n
		} else {
			named = append(named, Bucket{Key: k, Count: n})
		}
	}
	// Largest first; ties by key so output is stable.
	sort.Slice(named, func(i, j int) bool {
		if named[i].Count != named[j].Count {
			return named[i].Count > named[j].Count
		}
		return named[i].Key < named[j].Key
	})
	for other > 0 && other < minGroup && len(named) > 0 {
		other += named[len(named)-1].Count
		named = named[:len(named)-1]
	}
	out := []Bucket{}
	out = append(out, named...)
	if other >= minGroup {
		out = append(out, Bucket{Key: Other, Count: other})
	}
	return out
}
