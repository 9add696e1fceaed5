package eval

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/ingest"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Event is one raw interaction in dense index space, before aggregation.
type Event struct {
	User, Item int32
	Kind       interaction.Kind
	// At is the Unix time in seconds.
	At int64
}

// Aggregate turns raw events into a dataset the way the server's training
// pipeline does: one row per (user, item) with the kind weights summed and
// decayed by age relative to now (the newest event when now is zero), and
// the time of the pair's last event. Pairs whose weight cancels out are
// dropped. features may be nil.
func Aggregate(numUsers, numItems int, events []Event, features []sdk.ItemFeatures, p feed.Pipeline) *sdk.Dataset {
	var now int64
	for _, e := range events {
		now = max(now, e.At)
	}
	pairs := feed.NewPairs()
	halfLife := p.HalfLife.Seconds()
	for _, e := range events {
		w := p.Weights[e.Kind]
		if w == 0 {
			continue
		}
		if halfLife > 0 {
			w *= math.Exp2(-float64(now-e.At) / halfLife)
		}
		pairs.Add(e.User, e.Item, w, e.At)
	}
	return pairs.Dataset(numUsers, numItems, features)
}

// FromWorld builds a dataset straight from a generated world, without a
// database: users and items are indexed as in the world's slices.
func FromWorld(w *seed.World, p feed.Pipeline) *sdk.Dataset {
	events := make([]Event, len(w.Interactions))
	for j, x := range w.Interactions {
		events[j] = Event{User: int32(x.User), Item: int32(x.Content), Kind: interaction.Kind(x.Kind), At: x.At.Unix()}
	}
	features := make([]sdk.ItemFeatures, len(w.Contents))
	for i, c := range w.Contents {
		features[i] = sdk.ItemFeatures{Category: c.Category, Tags: c.Tags, Title: c.Title, Body: c.Body,
			Language: c.Language, PublishedAt: c.PublishedAt.Unix()}
	}
	return Aggregate(len(w.Users), len(w.Contents), events, features, p)
}

// FromDB builds a dataset from the stored interactions with the server's
// own pipeline (feed.Build), as of the newest stored interaction so that
// old imported data is neither cut off by the window nor decayed to nothing.
func FromDB(ctx context.Context, client *ent.Client, p feed.Pipeline) (*sdk.Dataset, error) {
	newest, err := client.Interaction.Query().Order(ent.Desc(interaction.FieldOccurredAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("the database has no interactions to evaluate on")
	}
	if err != nil {
		return nil, fmt.Errorf("read newest interaction: %w", err)
	}
	now := newest.OccurredAt.Add(time.Second)
	d, _, _, err := feed.Build(ctx, client, p, nil, now)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// FromRecords builds a dataset from records read from a file (see
// ingest.Parse): users and items are indexed in sorted order of their IDs,
// and items take their title and tags from the first record that has them.
func FromRecords(recs []ingest.Record, p feed.Pipeline) *sdk.Dataset {
	userIdx, itemIdx := map[string]int32{}, map[string]int32{}
	var users, items []string
	for _, r := range recs {
		if _, ok := userIdx[r.User]; !ok {
			userIdx[r.User] = 0
			users = append(users, r.User)
		}
		if _, ok := itemIdx[r.Item]; !ok {
			itemIdx[r.Item] = 0
			items = append(items, r.Item)
		}
	}
	slices.Sort(users)
	slices.Sort(items)
	for i, u := range users {
		userIdx[u] = int32(i)
	}
	for i, it := range items {
		itemIdx[it] = int32(i)
	}
	features := make([]sdk.ItemFeatures, len(items))
	events := make([]Event, len(recs))
	for j, r := range recs {
		it := itemIdx[r.Item]
		events[j] = Event{User: userIdx[r.User], Item: it, Kind: r.Kind, At: r.At.Unix()}
		f := &features[it]
		if f.Title == "" && r.Title != "" {
			f.Title = r.Title
		}
		if f.Tags == nil && r.Tags != nil {
			f.Tags = r.Tags
			f.Category = r.Tags[0]
		}
	}
	return Aggregate(len(users), len(items), events, features, p)
}
