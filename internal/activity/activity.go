// Package activity ingests interactions: views, likes, comments, shares,
// clicks and skips that fans produce on content.
package activity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/apperr"
)

// MaxBatch is the largest batch Record accepts.
const MaxBatch = 1000

// MaxFutureSkew is how far in the future an occurredAt may lie (clock skew).
const MaxFutureSkew = 5 * time.Minute

// MaxAge is how far in the past an occurredAt may lie.
const MaxAge = 365 * 24 * time.Hour

// Kinds are the interaction kinds, in the order used for reporting.
var Kinds = []interaction.Kind{
	interaction.KindVIEW, interaction.KindLIKE, interaction.KindCOMMENT,
	interaction.KindSHARE, interaction.KindCLICK, interaction.KindSKIP,
}

// DefaultWeights is how much each kind says about interest. A skip is a
// negative signal.
var DefaultWeights = map[interaction.Kind]float64{
	interaction.KindVIEW:    1,
	interaction.KindLIKE:    3,
	interaction.KindCOMMENT: 4,
	interaction.KindSHARE:   5,
	interaction.KindCLICK:   2,
	interaction.KindSKIP:    -1,
}

// Item is one interaction to record.
type Item struct {
	UserID     pulid.ID
	ContentID  pulid.ID
	Kind       interaction.Kind
	DwellMs    int
	Ranker     string
	OccurredAt time.Time // zero means now
	EventID    string    // optional idempotency key, unique per user
}

// Rejection says why the item at Index was not stored.
type Rejection struct {
	Index   int
	Code    apperr.Code
	Message string
}

// Result summarises a batch.
type Result struct {
	Accepted   int         // stored now
	Duplicates int         // already stored under the same (user, eventID)
	Rejected   []Rejection // invalid, not stored
}

// Record validates each item on its own and stores the valid ones in one
// transaction; invalid items are reported and not stored. A batch larger than
// MaxBatch, or an empty one, is rejected as a whole with BAD_INPUT.
func Record(ctx context.Context, client *ent.Client, items []Item, now time.Time) (Result, error) {
	if len(items) == 0 {
		return Result{}, apperr.Errorf(apperr.BadInput, "no interactions given")
	}
	if len(items) > MaxBatch {
		return Result{}, apperr.Errorf(apperr.BadInput, "batch of %d interactions exceeds the limit of %d", len(items), MaxBatch)
	}
	res, err := record(ctx, client, items, now)
	if ent.IsConstraintError(err) {
		// A concurrent retry stored some of the same event IDs first; the
		// second pass sees them and reports them as duplicates.
		res, err = record(ctx, client, items, now)
	}
	return res, err
}

func record(ctx context.Context, client *ent.Client, items []Item, now time.Time) (Result, error) {
	var res Result
	reject := func(i int, code apperr.Code, format string, args ...any) {
		res.Rejected = append(res.Rejected, Rejection{Index: i, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	valid := make([]bool, len(items))
	userIDs, contentIDs := map[pulid.ID]bool{}, map[pulid.ID]bool{}
	for i, it := range items {
		switch {
		case !it.UserID.Valid():
			reject(i, apperr.BadInput, "userId %q is not a valid ID", it.UserID)
		case !it.ContentID.Valid():
			reject(i, apperr.BadInput, "contentId %q is not a valid ID", it.ContentID)
		case interaction.KindValidator(it.Kind) != nil:
			reject(i, apperr.BadInput, "unknown kind %q", it.Kind)
		case it.DwellMs < 0 || it.DwellMs > 24*3600*1000:
			reject(i, apperr.BadInput, "dwellMs must be between 0 and 86400000")
		case len(it.Ranker) > 64:
			reject(i, apperr.BadInput, "ranker must be at most 64 characters")
		case len(it.EventID) > 64:
			reject(i, apperr.BadInput, "eventId must be at most 64 characters")
		case !it.OccurredAt.IsZero() && it.OccurredAt.After(now.Add(MaxFutureSkew)):
			reject(i, apperr.BadInput, "occurredAt is in the future")
		case !it.OccurredAt.IsZero() && it.OccurredAt.Before(now.Add(-MaxAge)):
			reject(i, apperr.BadInput, "occurredAt is more than a year ago")
		default:
			valid[i] = true
			userIDs[it.UserID] = true
			contentIDs[it.ContentID] = true
		}
	}
	knownUsers, err := existing(ctx, userIDs, func(ids []pulid.ID) ([]pulid.ID, error) {
		return client.User.Query().Where(user.IDIn(ids...)).IDs(ctx)
	})
	if err != nil {
		return res, fmt.Errorf("look up users: %w", err)
	}
	knownContent, err := existing(ctx, contentIDs, func(ids []pulid.ID) ([]pulid.ID, error) {
		return client.Content.Query().Where(content.IDIn(ids...), content.StatusEQ(content.StatusPUBLISHED)).IDs(ctx)
	})
	if err != nil {
		return res, fmt.Errorf("look up content: %w", err)
	}
	// Event IDs already stored, and repeats inside the batch.
	type key struct {
		user  pulid.ID
		event string
	}
	seen := map[key]bool{}
	var events []string
	for i, it := range items {
		if valid[i] && it.EventID != "" {
			events = append(events, it.EventID)
		}
	}
	if len(events) > 0 {
		var rows []struct {
			UserID  pulid.ID `json:"user_id"`
			EventID string   `json:"event_id"`
		}
		err := client.Interaction.Query().
			Where(interaction.EventIDIn(events...), interaction.UserIDIn(keys(userIDs)...)).
			Select(interaction.FieldUserID, interaction.FieldEventID).Scan(ctx, &rows)
		if err != nil {
			return res, fmt.Errorf("look up event ids: %w", err)
		}
		for _, r := range rows {
			seen[key{r.UserID, r.EventID}] = true
		}
	}
	var creates []*ent.InteractionCreate
	for i, it := range items {
		if !valid[i] {
			continue
		}
		if !knownUsers[it.UserID] {
			reject(i, apperr.NotFound, "user %s not found", it.UserID)
			continue
		}
		if !knownContent[it.ContentID] {
			reject(i, apperr.NotFound, "content %s not found", it.ContentID)
			continue
		}
		if it.EventID != "" {
			k := key{it.UserID, it.EventID}
			if seen[k] {
				res.Duplicates++
				continue
			}
			seen[k] = true
		}
		at := it.OccurredAt
		if at.IsZero() {
			at = now
		}
		c := client.Interaction.Create().
			SetUserID(it.UserID).SetContentID(it.ContentID).SetKind(it.Kind).
			SetDwellMs(it.DwellMs).SetRanker(it.Ranker).SetOccurredAt(at.UTC())
		if it.EventID != "" {
			c.SetEventID(it.EventID)
		}
		creates = append(creates, c)
	}
	if len(creates) > 0 {
		if err := client.Interaction.CreateBulk(creates...).Exec(ctx); err != nil {
			return res, fmt.Errorf("store interactions: %w", err)
		}
	}
	res.Accepted = len(creates)
	slices.SortFunc(res.Rejected, func(a, b Rejection) int { return a.Index - b.Index })
	return res, nil
}

func keys(m map[pulid.ID]bool) []pulid.ID {
	out := make([]pulid.ID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// existing returns which of ids exist, querying in chunks that stay under
// SQLite's and PostgreSQL's bind-parameter limits.
func existing(ctx context.Context, ids map[pulid.ID]bool, query func([]pulid.ID) ([]pulid.ID, error)) (map[pulid.ID]bool, error) {
	all := keys(ids)
	found := make(map[pulid.ID]bool, len(all))
	for start := 0; start < len(all); start += 500 {
		end := min(start+500, len(all))
		got, err := query(all[start:end])
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			found[id] = true
		}
	}
	return found, nil
}
