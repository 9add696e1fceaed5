package ads

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/ad"
	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/campaign"
	"github.com/limelight-hq/limelight/ent/predicate"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
	"github.com/limelight-hq/limelight/internal/profile"
)

// Beta is a Beta(A, B) prior on a rate: A prior successes in A+B trials.
type Beta struct{ A, B float64 }

// Mean is the posterior mean after successes in trials.
func (p Beta) Mean(successes, trials int64) float64 {
	return (float64(successes) + p.A) / (float64(trials) + p.A + p.B)
}

// Config tunes ad selection and revenue sharing.
type Config struct {
	// CreatorShareBps is the creator's share of ad spend on their content.
	CreatorShareBps int
	// CTR and CVR are the priors of click-through and conversion rates,
	// updated by each ad's own impressions, clicks and conversions.
	CTR, CVR Beta
	// InterestBoost scales the CTR by 1 + InterestBoost × overlap, where
	// overlap ∈ [0, 1] is the weight of the user's interests (tags and
	// creators) that the campaign targets.
	InterestBoost float64
	// AdLoad is one sponsored item in every AdLoad feed items (see Positions).
	AdLoad int
	// ConversionWindow bounds how long after a click an ad conversion counts.
	ConversionWindow time.Duration
}

// DefaultConfig: creators get half of the spend beside their content; priors
// of 1% CTR and 5% CVR; interests can triple the CTR; one ad in five items.
func DefaultConfig() Config {
	return Config{
		CreatorShareBps: 5000, CTR: Beta{1, 99}, CVR: Beta{1, 19}, InterestBoost: 2,
		AdLoad: 5, ConversionWindow: 7 * 24 * time.Hour,
	}
}

// Positions lists the 0-based positions of sponsored slots in a page of
// size items with one ad in every adLoad items (positions adLoad-1,
// 2·adLoad-1, ...). adLoad < 2 means no ads.
func Positions(size, adLoad int) []int {
	var out []int
	if adLoad < 2 {
		return out
	}
	for p := adLoad - 1; p < size; p += adLoad {
		out = append(out, p)
	}
	return out
}

// ContentRef describes the content a sponsored slot runs beside.
type ContentRef struct {
	ContentID, InfluencerID pulid.ID
	Tags                    []string
	Category                string
}

// RefOf describes a piece of content for targeting.
func RefOf(c *ent.Content) ContentRef {
	return ContentRef{ContentID: c.ID, InfluencerID: c.InfluencerID, Tags: c.Tags, Category: c.Category}
}

// Request asks for ads for the sponsored slots of one feed page.
type Request struct {
	// UserID is who sees the feed; empty for anonymous feeds, which only get
	// campaigns without a frequency cap.
	UserID pulid.ID
	// Slots is how many ads are wanted.
	Slots int
	// Context[i] is the content slot i runs beside (the last one is reused
	// when there are more slots); targeting is matched against it.
	Context []ContentRef
	// Now is the serving time; zero means time.Now.
	Now time.Time
	// Interests are the user's tag weights (summing to 1); nil means compute
	// them, and Creators, from the user's profile.
	Interests map[string]float64
	// Creators are the user's creator weights (summing to 1), with Interests.
	Creators map[string]float64
	// Config overrides DefaultConfig.
	Config *Config
}

// Placement is an ad served in a slot; its impression is already recorded.
type Placement struct {
	// Slot is the index of the slot in the request.
	Slot int
	Ad   *ent.Ad
	// Campaign is the ad's campaign as it was before this impression.
	Campaign *ent.Campaign
	// ImpressionID is the AdEvent of this impression.
	ImpressionID pulid.ID
	// Token is the signed click token; ClickURL is "/r/" + Token.
	Token, ClickURL string
	// Beside is the content the ad runs beside (zero if none).
	Beside ContentRef
	// PredictedCTR and PredictedCVR are the estimates used; ExpectedValue
	// is the expected revenue of the impression in minor units.
	PredictedCTR, PredictedCVR, ExpectedValue float64
	// CostMinor is what this impression cost (CPM only; else 0).
	CostMinor int64
}

type candidate struct {
	ad       *ent.Ad
	camp     *ent.Campaign
	ctr, cvr float64
	ev       float64
}

// Pick chooses an ad for each slot by expected value (bid × predicted CTR,
// × predicted CVR for CPA; bid/1000 for CPM), one ad per campaign per page,
// and records each impression as served: CPM spend is posted to the ledger in
// the same transaction that checks the campaign's budget, schedule and the
// user's frequency cap under a lock, so concurrent feeds can never overspend.
// Fewer placements than slots come back when too few ads are eligible.
func Pick(ctx context.Context, client *ent.Client, req Request) ([]Placement, error) {
	cfg := DefaultConfig()
	if req.Config != nil {
		cfg = *req.Config
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	if req.Slots <= 0 {
		return nil, nil
	}
	if req.Slots > 100 {
		return nil, apperr.Errorf(apperr.BadInput, "at most 100 sponsored slots")
	}
	camps, err := client.Campaign.Query().Where(campaign.StatusEQ(campaign.StatusACTIVE), campaign.StartsAtLTE(now),
		campaign.EndsAtGT(now), func(s *entsql.Selector) {
			s.Where(entsql.ColumnsLT(s.C(campaign.FieldSpentMinor), s.C(campaign.FieldBudgetMinor)))
		}).WithAds(func(q *ent.AdQuery) { q.Where(ad.StatusEQ(ad.StatusACTIVE)) }).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("pick ads: %w", err)
	}
	if len(camps) == 0 {
		return nil, nil
	}
	interests, creators := req.Interests, req.Creators
	if creators == nil {
		creators = map[string]float64{}
	}
	if req.UserID != "" && interests == nil {
		p, err := profile.ForUser(ctx, client, profile.DefaultConfig(), req.UserID, now)
		if err != nil {
			return nil, fmt.Errorf("pick ads: %w", err)
		}
		interests = map[string]float64{}
		for _, t := range p.Interests {
			interests[t.Key] = t.Weight
		}
		sum := 0.0
		for _, t := range p.TopInfluencers {
			sum += t.Weight
		}
		for _, t := range p.TopInfluencers {
			creators[string(t.Key)] = t.Weight / sum
		}
	}
	seen, err := impressionsToday(ctx, client, req.UserID, camps, now)
	if err != nil {
		return nil, err
	}
	// Rank every eligible ad for every slot.
	besides := make([]ContentRef, req.Slots)
	ranked := make([][]candidate, req.Slots)
	for slot := range req.Slots {
		if len(req.Context) > 0 {
			besides[slot] = req.Context[min(slot, len(req.Context)-1)]
		}
		for _, c := range camps {
			if !matches(c, besides[slot]) {
				continue
			}
			if c.FrequencyCap > 0 && (req.UserID == "" || seen[c.ID] >= c.FrequencyCap) {
				continue
			}
			boost := 1 + cfg.InterestBoost*min(1, overlap(c, interests, creators))
			for _, a := range c.Edges.Ads {
				ctr := min(1, cfg.CTR.Mean(a.Clicks, a.Impressions)*boost)
				cvr := cfg.CVR.Mean(a.Conversions, a.Clicks)
				var ev float64
				switch c.Pricing {
				case campaign.PricingCPM:
					ev = float64(c.BidMinor) / 1000
				case campaign.PricingCPC:
					ev = float64(c.BidMinor) * ctr
				case campaign.PricingCPA:
					ev = float64(c.BidMinor) * ctr * cvr
				}
				ranked[slot] = append(ranked[slot], candidate{ad: a, camp: c, ctr: ctr, cvr: cvr, ev: ev})
			}
		}
		slices.SortFunc(ranked[slot], func(x, y candidate) int {
			if c := cmp.Compare(y.ev, x.ev); c != 0 {
				return c
			}
			return cmp.Compare(x.ad.ID, y.ad.ID)
		})
	}
	// Plan the best ad per slot, one per campaign, and record the whole plan
	// in one transaction; a slot whose ad was refused meanwhile (budget, cap,
	// schedule) falls back to the next best, one transaction at a time.
	used := map[pulid.ID]bool{}
	plan := make([]*candidate, req.Slots)
	for slot := range req.Slots {
		for i := range ranked[slot] {
			if cd := &ranked[slot][i]; !used[cd.camp.ID] {
				plan[slot], used[cd.camp.ID] = cd, true
				break
			}
		}
	}
	served, err := serveAll(ctx, client, cfg, req.UserID, plan, besides, now)
	if err != nil {
		return nil, err
	}
	var out []Placement
	for slot := range req.Slots {
		var got *candidate
		var ev *ent.AdEvent
		var cost int64
		if served[slot] != nil {
			got, ev, cost = plan[slot], served[slot].ev, served[slot].cost
		} else if plan[slot] != nil {
			for i := range ranked[slot] {
				cd := &ranked[slot][i]
				if used[cd.camp.ID] {
					continue
				}
				used[cd.camp.ID] = true // served now, or exhausted meanwhile
				e, c, ok, err := serve(ctx, client, cfg, req.UserID, *cd, besides[slot], now)
				if err != nil {
					return out, err
				}
				if ok {
					got, ev, cost = cd, e, c
					break
				}
			}
		}
		if got == nil {
			continue
		}
		token, err := Sign(ctx, client, ev.ID)
		if err != nil {
			return out, err
		}
		out = append(out, Placement{Slot: slot, Ad: got.ad, Campaign: got.camp, ImpressionID: ev.ID, Token: token,
			ClickURL: "/r/" + token, Beside: besides[slot], PredictedCTR: got.ctr, PredictedCVR: got.cvr,
			ExpectedValue: got.ev, CostMinor: cost})
	}
	return out, nil
}

type servedAd struct {
	ev   *ent.AdEvent
	cost int64
}

// serveAll records the planned impressions (nil entries are skipped) in one
// transaction: all their accounts, then their campaigns in ID order, are
// locked first. It returns nil for a slot whose campaign refused it.
func serveAll(ctx context.Context, client *ent.Client, cfg Config, userID pulid.ID, plan []*candidate, besides []ContentRef, now time.Time) ([]*servedAd, error) {
	out := make([]*servedAd, len(plan))
	var accounts []ledger.Account
	var ids []pulid.ID
	for slot, cd := range plan {
		if cd != nil {
			accounts = append(accounts, spendAccounts(cd.camp, besides[slot].InfluencerID)...)
			ids = append(ids, cd.camp.ID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	err := ledger.Exec(ctx, client, accounts, func(ctx context.Context, b *ledger.Book) error {
		clear(out)
		camps, err := b.Tx.Campaign.Query().Where(campaign.IDIn(ids...), ledger.ForUpdate[predicate.Campaign]()).
			Order(campaign.ByID()).Unique(false).All(ctx)
		if err != nil {
			return err
		}
		byID := map[pulid.ID]*ent.Campaign{}
		for _, c := range camps {
			byID[c.ID] = c
		}
		for slot, cd := range plan {
			if cd == nil || byID[cd.camp.ID] == nil {
				continue
			}
			ev, cost, err := impress(ctx, b, cfg, byID[cd.camp.ID], userID, *cd, besides[slot], now)
			if err != nil {
				return err
			}
			if ev != nil {
				out[slot] = &servedAd{ev: ev, cost: cost}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("serve ads: %w", err)
	}
	return out, nil
}

// matches applies targeting: every non-empty dimension must match the content.
func matches(c *ent.Campaign, beside ContentRef) bool {
	if len(c.TargetTags) > 0 && !slices.ContainsFunc(beside.Tags, func(t string) bool { return slices.Contains(c.TargetTags, t) }) {
		return false
	}
	if len(c.TargetCategories) > 0 && !slices.Contains(c.TargetCategories, beside.Category) {
		return false
	}
	if len(c.TargetInfluencers) > 0 && !slices.Contains(c.TargetInfluencers, string(beside.InfluencerID)) {
		return false
	}
	return true
}

// overlap is the weight of the user's interests the campaign targets.
func overlap(c *ent.Campaign, tags, creators map[string]float64) float64 {
	o := 0.0
	for _, t := range c.TargetTags {
		o += tags[t]
	}
	for _, t := range c.TargetCategories {
		o += tags[t]
	}
	for _, i := range c.TargetInfluencers {
		o += creators[i]
	}
	return o
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func impressionsToday(ctx context.Context, client *ent.Client, userID pulid.ID, camps []*ent.Campaign, now time.Time) (map[pulid.ID]int, error) {
	out := map[pulid.ID]int{}
	if userID == "" {
		return out, nil
	}
	var ids []pulid.ID
	for _, c := range camps {
		if c.FrequencyCap > 0 {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		CampaignID pulid.ID `json:"campaign_id"`
		Count      int      `json:"count"`
	}
	err := client.AdEvent.Query().Where(adevent.CampaignIDIn(ids...), adevent.UserID(userID),
		adevent.KindEQ(adevent.KindIMPRESSION), adevent.OccurredAtGTE(dayStart(now))).
		GroupBy(adevent.FieldCampaignID).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("frequency caps: %w", err)
	}
	for _, r := range rows {
		out[r.CampaignID] = r.Count
	}
	return out, nil
}

// spendAccounts are the accounts a campaign's spend beside a creator touches.
func spendAccounts(c *ent.Campaign, influencerID pulid.ID) []ledger.Account {
	accs := []ledger.Account{ledger.Partner(c.PartnerID, c.Currency), ledger.Platform(c.Currency)}
	if influencerID != "" {
		accs = append(accs, ledger.Creator(influencerID, ledger.Available, c.Currency))
	}
	return accs
}

// postSpend posts cost from the partner to the platform and the creator's share.
func postSpend(ctx context.Context, b *ledger.Book, cfg Config, c *ent.Campaign, influencerID, eventID pulid.ID, cost int64, now time.Time) error {
	if cost <= 0 {
		return nil
	}
	share := int64(0)
	if influencerID != "" {
		share = ledger.Share(cost, cfg.CreatorShareBps)
	}
	entries := []ledger.Entry{{Account: ledger.Partner(c.PartnerID, c.Currency), Amount: -cost}}
	if share > 0 {
		entries = append(entries, ledger.Entry{Account: ledger.Creator(influencerID, ledger.Available, c.Currency), Amount: share})
	}
	if cost-share > 0 {
		entries = append(entries, ledger.Entry{Account: ledger.Platform(c.Currency), Amount: cost - share})
	}
	_, err := b.Post(ctx, ledger.Posting{Key: "ad:" + string(eventID), Kind: ledger.KindAdSpend, At: now,
		Memo: fmt.Sprintf("%s spend of campaign %s", c.Pricing, c.ID), Entries: entries})
	return err
}

// lockCampaign re-reads a campaign under a row lock (PostgreSQL) inside the book's transaction.
func lockCampaign(ctx context.Context, b *ledger.Book, id pulid.ID) (*ent.Campaign, error) {
	return b.Tx.Campaign.Query().Where(campaign.ID(id), ledger.ForUpdate[predicate.Campaign]()).Unique(false).Only(ctx)
}

// serve records one impression if the campaign still may show it.
func serve(ctx context.Context, client *ent.Client, cfg Config, userID pulid.ID, cd candidate, beside ContentRef, now time.Time) (*ent.AdEvent, int64, bool, error) {
	var ev *ent.AdEvent
	var cost int64
	err := ledger.Exec(ctx, client, spendAccounts(cd.camp, beside.InfluencerID), func(ctx context.Context, b *ledger.Book) error {
		c, err := lockCampaign(ctx, b, cd.camp.ID)
		if err != nil {
			return err
		}
		ev, cost, err = impress(ctx, b, cfg, c, userID, cd, beside, now)
		return err
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("serve ad %s: %w", cd.ad.ID, err)
	}
	return ev, cost, ev != nil, nil
}

// impress records an impression of cd's ad in the book's transaction, given
// its campaign c as locked there, unless the campaign is no longer active,
// out of its schedule, out of budget or over the user's frequency cap (then
// it returns a nil event). c is updated to the new spend.
func impress(ctx context.Context, b *ledger.Book, cfg Config, c *ent.Campaign, userID pulid.ID, cd candidate, beside ContentRef, now time.Time) (*ent.AdEvent, int64, error) {
	if c.Status != campaign.StatusACTIVE || now.Before(c.StartsAt) || !now.Before(c.EndsAt) || c.SpentMinor >= c.BudgetMinor {
		return nil, 0, nil
	}
	if c.FrequencyCap > 0 {
		if userID == "" {
			return nil, 0, nil
		}
		n, err := b.Tx.AdEvent.Query().Where(adevent.CampaignID(c.ID), adevent.UserID(userID),
			adevent.KindEQ(adevent.KindIMPRESSION), adevent.OccurredAtGTE(dayStart(now))).Count(ctx)
		if err != nil {
			return nil, 0, err
		}
		if n >= c.FrequencyCap {
			return nil, 0, nil
		}
	}
	var cost int64
	if c.Pricing == campaign.PricingCPM {
		// Charge so that the total is exactly floor(impressions × bid / 1000);
		// the last impression gets whatever budget is left, so a campaign
		// always ends exactly spent instead of lingering just under budget.
		cost = ledger.MulDiv(c.Impressions+1, c.BidMinor, 1000) - ledger.MulDiv(c.Impressions, c.BidMinor, 1000)
		cost = min(cost, c.BudgetMinor-c.SpentMinor)
	}
	ec := b.Tx.AdEvent.Create().SetAdID(cd.ad.ID).SetCampaignID(c.ID).SetKind(adevent.KindIMPRESSION).
		SetCostMinor(cost).SetOccurredAt(now)
	setContext(ec, userID, beside)
	ev, err := ec.Save(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := b.Tx.Campaign.UpdateOneID(c.ID).AddImpressions(1).AddSpentMinor(cost).Exec(ctx); err != nil {
		return nil, 0, err
	}
	c.Impressions++
	c.SpentMinor += cost
	if err := b.Tx.Ad.UpdateOneID(cd.ad.ID).AddImpressions(1).Exec(ctx); err != nil {
		return nil, 0, err
	}
	return ev, cost, postSpend(ctx, b, cfg, c, beside.InfluencerID, ev.ID, cost, now)
}

func setContext(ec *ent.AdEventCreate, userID pulid.ID, beside ContentRef) {
	if userID != "" {
		ec.SetUserID(userID)
	}
	if beside.ContentID != "" {
		ec.SetContentID(beside.ContentID)
	}
	if beside.InfluencerID != "" {
		ec.SetInfluencerID(beside.InfluencerID)
	}
}
