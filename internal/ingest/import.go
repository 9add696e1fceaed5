package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/store"
)

// ImportedHandle is the handle of the creator that owns imported items.
const ImportedHandle = "imported"

// Summary says what Import did.
type Summary struct {
	// Records is how many records were given.
	Records int `json:"records"`
	// Imported is how many interactions were stored.
	Imported int `json:"imported"`
	// Duplicates is how many were already stored (or repeated in the file).
	Duplicates int `json:"duplicates"`
	// NewUsers and NewItems count the users and items created.
	NewUsers int `json:"new_users"`
	NewItems int `json:"new_items"`
}

// batch is the rows per INSERT: within both stores' bind-parameter limits.
const batch = 500

var plainID = regexp.MustCompile(`^[a-z0-9_]+$`)

// Handle returns the user handle of an external user ID from source: the
// readable "<source>_<id>" when that is a valid handle, else source and a
// hash of the ID. The same ID always gives the same handle.
func Handle(source, id string) string {
	if h := source + "_" + id; plainID.MatchString(id) && len(h) <= 30 {
		return h
	}
	sum := sha256.Sum256([]byte(id))
	return source + "_" + hex.EncodeToString(sum[:6])
}

// ExternalID is how an imported user or item's ID is stored.
func ExternalID(source, id string) string { return source + ":" + id }

// Import stores records from source (a short lowercase name such as "ml")
// in one transaction: users and items the database does not have yet are
// created (items under the "imported" creator), then the interactions,
// each keyed by its line hash so that importing the same file again stores
// nothing new. Any failure stores nothing.
func Import(ctx context.Context, client *ent.Client, source string, recs []Record, progress func(done int)) (Summary, error) {
	sum := Summary{Records: len(recs)}
	if !regexp.MustCompile(`^[a-z][a-z0-9]{0,9}$`).MatchString(source) {
		return sum, fmt.Errorf("source %q must be 1-10 lowercase letters and digits", source)
	}
	err := store.WithTx(ctx, client, func(tx *ent.Tx) error {
		inf, err := importedCreator(ctx, tx)
		if err != nil {
			return err
		}
		users, err := ensureUsers(ctx, tx, source, recs, &sum)
		if err != nil {
			return err
		}
		items, err := ensureItems(ctx, tx, source, inf, recs, &sum)
		if err != nil {
			return err
		}
		stored, err := storedEvents(ctx, tx, users)
		if err != nil {
			return err
		}
		var creates []*ent.InteractionCreate
		flush := func() error {
			if len(creates) == 0 {
				return nil
			}
			// DO NOTHING guards against a concurrent import of the same file.
			err := tx.Interaction.CreateBulk(creates...).
				OnConflictColumns(interaction.FieldUserID, interaction.FieldEventID).DoNothing().Exec(ctx)
			creates = creates[:0]
			return err
		}
		for i, r := range recs {
			uid := users[r.User]
			key := event{uid, r.EventID}
			if stored[key] {
				sum.Duplicates++ // imported before, or the same line twice in this file
				continue
			}
			stored[key] = true
			w := 1.0
			if r.Rating > 0 {
				w = r.Rating
			}
			creates = append(creates, tx.Interaction.Create().SetUserID(uid).SetContentID(items[r.Item]).
				SetKind(r.Kind).SetWeight(w).SetOccurredAt(r.At).SetEventID(r.EventID))
			sum.Imported++
			if len(creates) == batch {
				if err := flush(); err != nil {
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
				if progress != nil {
					progress(i + 1)
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Summary{Records: len(recs)}, fmt.Errorf("import: %w", err)
	}
	return sum, nil
}

// event identifies a stored interaction: event IDs are unique per user.
type event struct {
	user pulid.ID
	id   string
}

// storedEvents returns the imported interactions the users already have.
func storedEvents(ctx context.Context, tx *ent.Tx, users map[string]pulid.ID) (map[event]bool, error) {
	ids := make([]pulid.ID, 0, len(users))
	for _, id := range users {
		ids = append(ids, id)
	}
	out := map[event]bool{}
	for lo := 0; lo < len(ids); lo += batch {
		var rows []struct {
			UserID  pulid.ID `json:"user_id"`
			EventID string   `json:"event_id"`
		}
		err := tx.Interaction.Query().
			Where(interaction.UserIDIn(ids[lo:min(lo+batch, len(ids))]...), interaction.EventIDHasPrefix(eventPrefix)).
			Select(interaction.FieldUserID, interaction.FieldEventID).Scan(ctx, &rows)
		if err != nil {
			return nil, fmt.Errorf("read imported interactions: %w", err)
		}
		for _, r := range rows {
			out[event{r.UserID, r.EventID}] = true
		}
	}
	return out, nil
}

func importedCreator(ctx context.Context, tx *ent.Tx) (pulid.ID, error) {
	inf, err := tx.Influencer.Query().Where(influencer.Handle(ImportedHandle)).Only(ctx)
	if ent.IsNotFound(err) {
		inf, err = tx.Influencer.Create().SetHandle(ImportedHandle).SetDisplayName("Imported items").
			SetBio("Owner of items imported from datasets.").Save(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("imported creator: %w", err)
	}
	return inf.ID, nil
}

// distinct returns the distinct values of f over recs, sorted.
func distinct(recs []Record, f func(Record) string) []string {
	set := map[string]bool{}
	for _, r := range recs {
		set[f(r)] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func ensureUsers(ctx context.Context, tx *ent.Tx, source string, recs []Record, sum *Summary) (map[string]pulid.ID, error) {
	ids := distinct(recs, func(r Record) string { return r.User })
	out := make(map[string]pulid.ID, len(ids))
	for lo := 0; lo < len(ids); lo += batch {
		chunk := ids[lo:min(lo+batch, len(ids))]
		ext := make([]string, len(chunk))
		for i, id := range chunk {
			ext[i] = ExternalID(source, id)
		}
		found, err := tx.User.Query().Where(user.ExternalIDIn(ext...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		have := map[string]pulid.ID{}
		for _, u := range found {
			have[*u.ExternalID] = u.ID
		}
		var creates []*ent.UserCreate
		for i, id := range chunk {
			if uid, ok := have[ext[i]]; ok {
				out[id] = uid
				continue
			}
			uid := pulid.MustNew("US")
			out[id] = uid
			creates = append(creates, tx.User.Create().SetID(uid).SetHandle(Handle(source, id)).
				SetDisplayName(truncate(source+" user "+id, 100)).SetExternalID(ext[i]))
		}
		if len(creates) > 0 {
			if err := tx.User.CreateBulk(creates...).Exec(ctx); err != nil {
				return nil, fmt.Errorf("create users: %w", err)
			}
			sum.NewUsers += len(creates)
		}
	}
	return out, nil
}

func ensureItems(ctx context.Context, tx *ent.Tx, source string, inf pulid.ID, recs []Record, sum *Summary) (map[string]pulid.ID, error) {
	// An item is published at its first interaction, and described by the
	// first record that has a title or tags.
	type desc struct {
		first time.Time
		title string
		tags  []string
	}
	descs := map[string]*desc{}
	for _, r := range recs {
		d := descs[r.Item]
		if d == nil {
			d = &desc{first: r.At}
			descs[r.Item] = d
		}
		if r.At.Before(d.first) {
			d.first = r.At
		}
		if d.title == "" && r.Title != "" {
			d.title = r.Title
		}
		if d.tags == nil && r.Tags != nil {
			d.tags = r.Tags
		}
	}
	ids := distinct(recs, func(r Record) string { return r.Item })
	out := make(map[string]pulid.ID, len(ids))
	for lo := 0; lo < len(ids); lo += batch {
		chunk := ids[lo:min(lo+batch, len(ids))]
		ext := make([]string, len(chunk))
		for i, id := range chunk {
			ext[i] = ExternalID(source, id)
		}
		found, err := tx.Content.Query().Where(content.ExternalIDIn(ext...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read items: %w", err)
		}
		have := map[string]pulid.ID{}
		for _, c := range found {
			have[*c.ExternalID] = c.ID
		}
		var creates []*ent.ContentCreate
		for i, id := range chunk {
			if cid, ok := have[ext[i]]; ok {
				out[id] = cid
				continue
			}
			d := descs[id]
			title := d.title
			if title == "" {
				title = truncate(source+" item "+id, 300)
			}
			cid := pulid.MustNew("CO")
			out[id] = cid
			c := tx.Content.Create().SetID(cid).SetInfluencerID(inf).SetKind(content.KindVIDEO).
				SetTitle(title).SetPublishedAt(d.first).SetCreatedAt(d.first).SetExternalID(ext[i])
			if len(d.tags) > 0 {
				c.SetTags(d.tags).SetCategory(truncate(d.tags[0], 50))
			}
			creates = append(creates, c)
		}
		if len(creates) > 0 {
			if err := tx.Content.CreateBulk(creates...).Exec(ctx); err != nil {
				return nil, fmt.Errorf("create items: %w", err)
			}
			sum.NewItems += len(creates)
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary.
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
