package auth

import (
	"context"
	"fmt"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/ad"
	"github.com/limelight-hq/limelight/ent/productlink"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// Owners are the parties an entity belongs to: a partner, a creator, or
// both (a conversion belongs to the partner who sold and the creator who
// earned). Empty fields mean no owner of that kind.
type Owners struct {
	Partner    pulid.ID
	Influencer pulid.ID
}

// Allows reports whether p may act on something owned by o. ADMIN always
// may; APP and other roles without an owner never pass an ownership check.
func (o Owners) Allows(p *Principal) bool {
	if p == nil {
		return false
	}
	switch p.Role {
	case Admin:
		return true
	case Partner:
		return o.Partner != "" && p.Owns(o.Partner)
	case Influencer:
		return o.Influencer != "" && p.Owns(o.Influencer)
	}
	return false
}

// OwnersOf resolves who owns the entity with the given ID: partners own
// themselves, their campaigns, ads, products and product links; creators
// own themselves, their content, payouts and tips; conversions and product
// links belong to both sides. A string that is not an ID is looked up as a
// product link code. Unknown entities have no owners (and so pass no check).
func OwnersOf(ctx context.Context, c *ent.Client, ref string) (Owners, error) {
	id := pulid.ID(ref)
	var o Owners
	var err error
	switch id.Prefix() {
	case "PA":
		o.Partner = id
	case "IN":
		o.Influencer = id
	case "CA":
		var v *ent.Campaign
		if v, err = c.Campaign.Get(ctx, id); err == nil {
			o.Partner = v.PartnerID
		}
	case "AD":
		var v *ent.Ad
		if v, err = c.Ad.Query().Where(ad.ID(id)).WithCampaign().Only(ctx); err == nil && v.Edges.Campaign != nil {
			o.Partner = v.Edges.Campaign.PartnerID
		}
	case "PR":
		var v *ent.Product
		if v, err = c.Product.Get(ctx, id); err == nil {
			o.Partner = v.PartnerID
		}
	case "PL":
		var v *ent.ProductLink
		if v, err = c.ProductLink.Get(ctx, id); err == nil {
			o, err = linkOwners(ctx, c, v)
		}
	case "CO":
		var v *ent.Content
		if v, err = c.Content.Get(ctx, id); err == nil {
			o.Influencer = v.InfluencerID
		}
	case "CV":
		var v *ent.Conversion
		if v, err = c.Conversion.Get(ctx, id); err == nil {
			o = Owners{Partner: v.PartnerID, Influencer: v.InfluencerID}
		}
	case "PO":
		var v *ent.Payout
		if v, err = c.Payout.Get(ctx, id); err == nil {
			o.Influencer = v.InfluencerID
		}
	case "TI":
		var v *ent.Tip
		if v, err = c.Tip.Get(ctx, id); err == nil {
			o.Influencer = v.InfluencerID
		}
	default:
		if ref == "" || len(ref) > 64 {
			return Owners{}, nil
		}
		var v *ent.ProductLink
		if v, err = c.ProductLink.Query().Where(productlink.Code(ref)).Only(ctx); err == nil {
			o, err = linkOwners(ctx, c, v)
		}
	}
	if ent.IsNotFound(err) {
		return Owners{}, nil
	}
	if err != nil {
		return Owners{}, fmt.Errorf("resolve owner of %s: %w", ref, err)
	}
	return o, nil
}

func linkOwners(ctx context.Context, c *ent.Client, l *ent.ProductLink) (Owners, error) {
	p, err := c.Product.Get(ctx, l.ProductID)
	if err != nil {
		return Owners{}, err
	}
	co, err := c.Content.Get(ctx, l.ContentID)
	if err != nil {
		return Owners{}, err
	}
	return Owners{Partner: p.PartnerID, Influencer: co.InfluencerID}, nil
}
