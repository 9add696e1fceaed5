// Package profile describes users and creators from their interactions:
// a fan's interests and habits, a creator's audience and engagement.
package profile

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/follow"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/activity"
	"github.com/limelight-hq/limelight/internal/apperr"
)

// Config tunes profiles.
type Config struct {
	// HalfLife is the age at which an interaction counts half.
	HalfLife time.Duration
	// Window bounds how far back a user profile looks.
	Window time.Duration
	// Weights is the interest weight of each kind.
	Weights map[interaction.Kind]float64
	// TopTags and TopInfluencers bound the lists returned.
	TopTags, TopInfluencers int
}

// DefaultConfig is what the server uses.
func DefaultConfig() Config {
	return Config{
		HalfLife: 14 * 24 * time.Hour, Window: 180 * 24 * time.Hour,
		Weights: activity.DefaultWeights, TopTags: 20, TopInfluencers: 10,
	}
}

// Weighted is a key with a weight.
type Weighted[K any] struct {
	Key    K
	Weight float64
}

// User is a fan's profile.
type User struct {
	UserID         pulid.ID
	Interests      []Weighted[string] // tag weights, summing to 1
	Counts         map[interaction.Kind]int
	ActiveHours    [24]int // interactions by UTC hour
	TopInfluencers []Weighted[pulid.ID]
	Interactions   int
}

// ForUser computes the profile of userID as of now.
func ForUser(ctx context.Context, client *ent.Client, cfg Config, userID pulid.ID, now time.Time) (*User, error) {
	if ok, err := client.User.Query().Where(user.ID(userID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("user profile: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "user %s not found", userID)
	}
	var rows []struct {
		ContentID  pulid.ID         `json:"content_id"`
		Kind       interaction.Kind `json:"kind"`
		OccurredAt time.Time        `json:"occurred_at"`
	}
	err := client.Interaction.Query().
		Where(interaction.UserID(userID), interaction.OccurredAtGTE(now.Add(-cfg.Window))).
		Select(interaction.FieldContentID, interaction.FieldKind, interaction.FieldOccurredAt).
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("user profile: %w", err)
	}
	ids := map[pulid.ID]bool{}
	for _, r := range rows {
		ids[r.ContentID] = true
	}
	contents := map[pulid.ID]*ent.Content{}
	all := make([]pulid.ID, 0, len(ids))
	for id := range ids {
		all = append(all, id)
	}
	for start := 0; start < len(all); start += 500 {
		cs, err := client.Content.Query().Where(content.IDIn(all[start:min(start+500, len(all))]...)).
			Select(content.FieldID, content.FieldTags, content.FieldInfluencerID).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("user profile: %w", err)
		}
		for _, c := range cs {
			contents[c.ID] = c
		}
	}
	p := &User{UserID: userID, Counts: map[interaction.Kind]int{}, Interactions: len(rows)}
	tags := map[string]float64{}
	creators := map[pulid.ID]float64{}
	for _, r := range rows {
		p.Counts[r.Kind]++
		p.ActiveHours[r.OccurredAt.UTC().Hour()]++
		c := contents[r.ContentID]
		if c == nil {
			continue
		}
		w := cfg.Weights[r.Kind] * decay(now.Sub(r.OccurredAt), cfg.HalfLife)
		for _, t := range c.Tags {
			tags[t] += w
		}
		creators[c.InfluencerID] += w
	}
	p.Interests = top(tags, cfg.TopTags, true)
	p.TopInfluencers = top(creators, cfg.TopInfluencers, false)
	return p, nil
}

func decay(age, halfLife time.Duration) float64 {
	if age < 0 {
		age = 0
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

// top returns the n heaviest positive entries, heaviest first, ties by key.
// With normalise, weights are scaled to sum to 1 over all positive entries.
func top[K ~string](m map[K]float64, n int, normalise bool) []Weighted[K] {
	var out []Weighted[K]
	sum := 0.0
	for k, w := range m {
		if w > 0 {
			out = append(out, Weighted[K]{k, w})
			sum += w
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	if normalise && sum > 0 {
		for i := range out {
			out[i].Weight /= sum
		}
	}
	return out
}

// DayCount is a count on one UTC day.
type DayCount struct {
	Day   time.Time
	Count int
}

// ContentEngagement is how one piece of content did in a window.
type ContentEngagement struct {
	ContentID   pulid.ID
	Views       int
	Engagements int
}

// Influencer is a creator's statistics in [From, To).
type Influencer struct {
	InfluencerID   pulid.ID
	From, To       time.Time
	Followers      int
	FollowerGrowth []DayCount
	Views          int
	Engagements    int
	EngagementRate float64 // engagements per view
	TopContent     []ContentEngagement
}

// MaxStatsWindow bounds influencer statistics windows.
const MaxStatsWindow = 366 * 24 * time.Hour

// ForInfluencer computes statistics of influencerID over [from, to).
func ForInfluencer(ctx context.Context, client *ent.Client, influencerID pulid.ID, from, to time.Time) (*Influencer, error) {
	if !to.After(from) {
		return nil, apperr.Errorf(apperr.BadInput, "to must be after from")
	}
	if to.Sub(from) > MaxStatsWindow {
		return nil, apperr.Errorf(apperr.BadInput, "window is longer than 366 days")
	}
	inf, err := client.Influencer.Get(ctx, influencerID)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "influencer %s not found", influencerID)
	}
	if err != nil {
		return nil, fmt.Errorf("influencer stats: %w", err)
	}
	s := &Influencer{InfluencerID: inf.ID, From: from.UTC(), To: to.UTC(), Followers: inf.FollowerCount}

	var follows []struct {
		CreatedAt time.Time `json:"created_at"`
	}
	err = client.Follow.Query().
		Where(follow.InfluencerID(influencerID), follow.CreatedAtGTE(from), follow.CreatedAtLT(to)).
		Select(follow.FieldCreatedAt).Scan(ctx, &follows)
	if err != nil {
		return nil, fmt.Errorf("influencer stats: %w", err)
	}
	days := map[time.Time]int{}
	for _, f := range follows {
		days[f.CreatedAt.UTC().Truncate(24*time.Hour)]++
	}
	for d := s.From.Truncate(24 * time.Hour); d.Before(s.To); d = d.Add(24 * time.Hour) {
		s.FollowerGrowth = append(s.FollowerGrowth, DayCount{Day: d, Count: days[d]})
	}

	var groups []struct {
		ContentID pulid.ID         `json:"content_id"`
		Kind      interaction.Kind `json:"kind"`
		Count     int              `json:"count"`
	}
	err = client.Interaction.Query().
		Where(interaction.HasContentWith(content.InfluencerID(influencerID)),
			interaction.OccurredAtGTE(from), interaction.OccurredAtLT(to)).
		GroupBy(interaction.FieldContentID, interaction.FieldKind).
		Aggregate(distinctUsers).Scan(ctx, &groups)
	if err != nil {
		return nil, fmt.Errorf("influencer stats: %w", err)
	}
	perContent := map[pulid.ID]*ContentEngagement{}
	for _, g := range groups {
		ce := perContent[g.ContentID]
		if ce == nil {
			ce = &ContentEngagement{ContentID: g.ContentID}
			perContent[g.ContentID] = ce
		}
		switch g.Kind {
		case interaction.KindVIEW:
			ce.Views += g.Count
			s.Views += g.Count
		case interaction.KindLIKE, interaction.KindCOMMENT, interaction.KindSHARE:
			ce.Engagements += g.Count
			s.Engagements += g.Count
		}
	}
	if s.Views > 0 {
		s.EngagementRate = float64(s.Engagements) / float64(s.Views)
	}
	for _, ce := range perContent {
		s.TopContent = append(s.TopContent, *ce)
	}
	sort.Slice(s.TopContent, func(i, j int) bool {
		a, b := s.TopContent[i], s.TopContent[j]
		if a.Views+a.Engagements != b.Views+b.Engagements {
			return a.Views+a.Engagements > b.Views+b.Engagements
		}
		return a.ContentID < b.ContentID
	})
	if len(s.TopContent) > 10 {
		s.TopContent = s.TopContent[:10]
	}
	return s, nil
}

// distinctUsers counts the different users in a group: one fan repeating a
// view (or a bot flooding likes) counts once, so stats are hard to inflate.
func distinctUsers(s *sql.Selector) string {
	return sql.As(sql.Count(sql.Distinct(s.C(interaction.FieldUserID))), "count")
}
