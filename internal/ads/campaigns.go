// Package ads runs partners' campaigns: it picks the ad of highest expected
// value for each sponsored slot of a feed, records impressions as served,
// tracks clicks through signed tokens (/r/{token}) and conversions, and posts
// the spend to the ledger (partner → platform, with the creator's share for
// the creator whose content the ad ran beside). A campaign never spends past
// its budget, outside its schedule, or over its frequency cap.
package ads

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/campaign"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/partner"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
)

// CampaignInput describes a new campaign.
type CampaignInput struct {
	PartnerID pulid.ID
	Name      string
	// Currency of budget and bid; empty means the partner's currency.
	Currency    string
	BudgetMinor int64
	Pricing     campaign.Pricing
	// BidMinor is per thousand impressions (CPM), per click (CPC) or per conversion (CPA).
	BidMinor         int64
	StartsAt, EndsAt time.Time
	// Targeting: each non-empty list must match the content an ad runs
	// beside (any of its tags, its category, its creator).
	TargetTags, TargetCategories []string
	TargetInfluencers            []pulid.ID
	// FrequencyCap is impressions per user per UTC day; 0 means no cap.
	FrequencyCap int
}

// CreateCampaign validates and stores a campaign.
func CreateCampaign(ctx context.Context, client *ent.Client, in CampaignInput) (*ent.Campaign, error) {
	p, err := client.Partner.Query().Where(partner.ID(in.PartnerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "partner %s not found", in.PartnerID)
	}
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	if in.Currency == "" {
		in.Currency = p.Currency
	}
	if err := ledger.CheckCurrency(in.Currency); err != nil {
		return nil, err
	}
	switch {
	case in.BudgetMinor <= 0:
		return nil, apperr.Errorf(apperr.BadInput, "budgetMinor must be positive")
	case in.BidMinor <= 0:
		return nil, apperr.Errorf(apperr.BadInput, "bidMinor must be positive")
	case in.BidMinor > in.BudgetMinor && in.Pricing != campaign.PricingCPM:
		return nil, apperr.Errorf(apperr.BadInput, "bidMinor must not exceed budgetMinor")
	case campaign.PricingValidator(in.Pricing) != nil:
		return nil, apperr.Errorf(apperr.BadInput, "pricing must be CPM, CPC or CPA")
	case in.StartsAt.IsZero() || in.EndsAt.IsZero() || !in.StartsAt.Before(in.EndsAt):
		return nil, apperr.Errorf(apperr.BadInput, "startsAt must be before endsAt")
	case in.FrequencyCap < 0:
		return nil, apperr.Errorf(apperr.BadInput, "frequencyCap must not be negative")
	}
	infs := make([]string, len(in.TargetInfluencers))
	if len(in.TargetInfluencers) > 0 {
		n, err := client.Influencer.Query().Where(influencer.IDIn(in.TargetInfluencers...)).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("create campaign: %w", err)
		}
		if n != len(in.TargetInfluencers) {
			return nil, apperr.Errorf(apperr.NotFound, "a targeted influencer does not exist")
		}
		for i, id := range in.TargetInfluencers {
			infs[i] = string(id)
		}
	}
	c, err := client.Campaign.Create().SetPartnerID(in.PartnerID).SetName(in.Name).SetCurrency(in.Currency).
		SetBudgetMinor(in.BudgetMinor).SetPricing(in.Pricing).SetBidMinor(in.BidMinor).
		SetStartsAt(in.StartsAt.UTC()).SetEndsAt(in.EndsAt.UTC()).SetTargetTags(in.TargetTags).
		SetTargetCategories(in.TargetCategories).SetTargetInfluencers(infs).SetFrequencyCap(in.FrequencyCap).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	return c, nil
}

// AdInput describes a new ad.
type AdInput struct {
	CampaignID  pulid.ID
	Title, Body string
	TargetURL   string
}

// CreateAd adds a creative to a campaign; TargetURL is where clicks go.
func CreateAd(ctx context.Context, client *ent.Client, in AdInput) (*ent.Ad, error) {
	u, err := url.Parse(in.TargetURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, apperr.Errorf(apperr.BadInput, "targetUrl must be an absolute http(s) URL")
	}
	if ok, err := client.Campaign.Query().Where(campaign.ID(in.CampaignID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("create ad: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "campaign %s not found", in.CampaignID)
	}
	a, err := client.Ad.Create().SetCampaignID(in.CampaignID).SetTitle(in.Title).SetBody(in.Body).
		SetTargetURL(in.TargetURL).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create ad: %w", err)
	}
	return a, nil
}
