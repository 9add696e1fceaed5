package seed

import (
	"context"
	"fmt"
	"strings"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/store"
)

// IDs are the database IDs of a loaded world, indexed like its slices.
type IDs struct {
	Users       []pulid.ID
	Influencers []pulid.ID
	Contents    []pulid.ID
	Partners    []pulid.ID
	Products    []pulid.ID
}

// batch is the number of rows per INSERT: under SQLite's and PostgreSQL's
// bind-parameter limits for every table here.
const batch = 1000

// Load writes w into the database in one transaction, so a failed load leaves
// nothing behind.
func Load(ctx context.Context, client *ent.Client, w *World) (*IDs, error) {
	ids := &IDs{}
	err := store.WithTx(ctx, client, func(tx *ent.Tx) error {
		var err error
		ids.Users, err = insert(ctx, w.Users, func(u User) (*ent.UserCreate, pulid.ID) {
			id := pulid.MustNew("US")
			c := tx.User.Create().SetID(id).SetHandle(u.Handle).SetDisplayName(u.DisplayName).SetCountry(u.Country)
			if ab := ageBracket(u.AgeBracket); ab != "" {
				c.SetAgeBracket(ab)
			}
			return c, id
		}, func(cs []*ent.UserCreate) error { return tx.User.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("users: %w", err)
		}
		followers := make([]int, len(w.Influencers))
		for _, f := range w.Follows {
			followers[f.Influencer]++
		}
		i := 0
		ids.Influencers, err = insert(ctx, w.Influencers, func(in Influencer) (*ent.InfluencerCreate, pulid.ID) {
			id := pulid.MustNew("IN")
			c := tx.Influencer.Create().SetID(id).SetHandle(in.Handle).SetDisplayName(in.DisplayName).
				SetBio(in.Bio).SetCategory(in.Category).SetCountry(in.Country).SetFollowerCount(followers[i])
			i++
			return c, id
		}, func(cs []*ent.InfluencerCreate) error { return tx.Influencer.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("influencers: %w", err)
		}
		_, err = insert(ctx, w.Follows, func(f Follow) (*ent.FollowCreate, pulid.ID) {
			return tx.Follow.Create().SetUserID(ids.Users[f.User]).SetInfluencerID(ids.Influencers[f.Influencer]).SetCreatedAt(f.At), ""
		}, func(cs []*ent.FollowCreate) error { return tx.Follow.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("follows: %w", err)
		}
		ids.Contents, err = insert(ctx, w.Contents, func(c Content) (*ent.ContentCreate, pulid.ID) {
			id := pulid.MustNew("CO")
			return tx.Content.Create().SetID(id).SetInfluencerID(ids.Influencers[c.Influencer]).
				SetKind(content.Kind(c.Kind)).SetTitle(c.Title).SetBody(c.Body).SetTags(c.Tags).
				SetCategory(c.Category).SetLanguage(c.Language).SetPublishedAt(c.PublishedAt).
				SetCreatedAt(c.PublishedAt), id
		}, func(cs []*ent.ContentCreate) error { return tx.Content.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("contents: %w", err)
		}
		_, err = insert(ctx, w.Interactions, func(x Interaction) (*ent.InteractionCreate, pulid.ID) {
			return tx.Interaction.Create().SetUserID(ids.Users[x.User]).SetContentID(ids.Contents[x.Content]).
				SetKind(interaction.Kind(x.Kind)).SetDwellMs(x.DwellMs).SetOccurredAt(x.At), ""
		}, func(cs []*ent.InteractionCreate) error { return tx.Interaction.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("interactions: %w", err)
		}
		ids.Partners, err = insert(ctx, w.Partners, func(p Partner) (*ent.PartnerCreate, pulid.ID) {
			id := pulid.MustNew("PA")
			return tx.Partner.Create().SetID(id).SetName(p.Name).SetCurrency(p.Currency), id
		}, func(cs []*ent.PartnerCreate) error { return tx.Partner.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("partners: %w", err)
		}
		ids.Products, err = insert(ctx, w.Products, func(p Product) (*ent.ProductCreate, pulid.ID) {
			id := pulid.MustNew("PR")
			return tx.Product.Create().SetID(id).SetPartnerID(ids.Partners[p.Partner]).SetName(p.Name).
				SetPriceMinor(p.PriceMinor).SetCurrency(p.Currency).SetCategory(p.Category), id
		}, func(cs []*ent.ProductCreate) error { return tx.Product.CreateBulk(cs...).Exec(ctx) })
		if err != nil {
			return fmt.Errorf("products: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load world: %w", err)
	}
	return ids, nil
}

// Empty reports whether the database has no users yet (nothing seeded).
func Empty(ctx context.Context, client *ent.Client) (bool, error) {
	ok, err := client.User.Query().Where(user.IDNEQ("")).Exist(ctx)
	return !ok, err
}

// ageBracket maps "18-24" to the stored enum value "AGE_18_24".
func ageBracket(s string) user.AgeBracket {
	if s == "" {
		return ""
	}
	return user.AgeBracket("AGE_" + strings.NewReplacer("-", "_", "+", "_PLUS").Replace(s))
}

// insert builds a create per row and saves them in batches. build sets each
// row's ID, so the IDs come back in row order without reading them back.
func insert[R, C any](ctx context.Context, rows []R, build func(R) (C, pulid.ID), save func([]C) error) ([]pulid.ID, error) {
	var out []pulid.ID
	for start := 0; start < len(rows); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+batch, len(rows))
		cs := make([]C, 0, end-start)
		for _, r := range rows[start:end] {
			c, id := build(r)
			cs = append(cs, c)
			out = append(out, id)
		}
		if err := save(cs); err != nil {
			return nil, err
		}
	}
	return out, nil
}
