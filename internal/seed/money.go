package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/campaign"
	"github.com/limelight-hq/limelight/internal/ads"
	"github.com/limelight-hq/limelight/internal/commerce"
	"github.com/limelight-hq/limelight/internal/tips"
)

// LoadMoney gives a loaded world something to earn: per partner a CPM
// campaign with an ad (targeting its products' category), product URLs and
// affiliate links on matching content, and tips from fans to creators they
// follow, all posted through the real services (ledger included).
func LoadMoney(ctx context.Context, client *ent.Client, w *World, ids *IDs, now time.Time) error {
	for i, p := range w.Partners {
		slug := strings.ToLower(strings.Fields(p.Name + " brand")[0])
		var category string
		for j, pr := range w.Products {
			if pr.Partner != i {
				continue
			}
			if category == "" {
				category = pr.Category
			}
			url := fmt.Sprintf("https://%s.example/products/%d", slug, j)
			if err := client.Product.UpdateOneID(ids.Products[j]).SetURL(url).Exec(ctx); err != nil {
				return fmt.Errorf("product url: %w", err)
			}
		}
		c, err := ads.CreateCampaign(ctx, client, ads.CampaignInput{
			PartnerID: ids.Partners[i], Name: p.Name + " launch", BudgetMinor: 50_000, Pricing: campaign.PricingCPM,
			BidMinor: 400, StartsAt: now.Add(-24 * time.Hour), EndsAt: now.Add(30 * 24 * time.Hour),
			TargetCategories: targets(i, category), FrequencyCap: 3,
		})
		if err != nil {
			return fmt.Errorf("demo campaign: %w", err)
		}
		if _, err := ads.CreateAd(ctx, client, ads.AdInput{CampaignID: c.ID, Title: p.Name + ": new season",
			Body: "Made for " + category + " fans.", TargetURL: fmt.Sprintf("https://%s.example/", slug)}); err != nil {
			return fmt.Errorf("demo ad: %w", err)
		}
	}
	// A link on the first content of each product's category (two per partner).
	linked := map[int]int{}
	for j, pr := range w.Products {
		if linked[pr.Partner] == 2 {
			continue
		}
		for k, c := range w.Contents {
			if c.Category == pr.Category {
				if _, err := commerce.CreateLink(ctx, client, commerce.LinkInput{ProductID: ids.Products[j],
					ContentID: ids.Contents[k], Code: fmt.Sprintf("demo-%d", j), CommissionBps: 800, AttributionDays: 7}); err != nil {
					return fmt.Errorf("demo link: %w", err)
				}
				linked[pr.Partner]++
				break
			}
		}
	}
	// Tips: every 20th follow comes with a tip.
	cfg := tips.DefaultConfig()
	for i := 0; i < len(w.Follows); i += 20 {
		f := w.Follows[i]
		_, _, err := tips.Send(ctx, client, cfg, tips.Request{
			UserID: ids.Users[f.User], InfluencerID: ids.Influencers[f.Influencer],
			AmountMinor: int64(100 * (1 + i%20)), Currency: "USD", Message: "Thanks for the great content!",
			IdempotencyKey: fmt.Sprintf("demo-tip-%d", i),
		}, f.At) // when the fan followed, so earnings and forecasts have a history
		if err != nil {
			return fmt.Errorf("demo tip: %w", err)
		}
	}
	return nil
}

// targets leaves the first partner's campaign untargeted, so every feed has
// an eligible ad, and points the others at their products' category.
func targets(partner int, category string) []string {
	if partner == 0 || category == "" {
		return nil
	}
	return []string{category}
}
