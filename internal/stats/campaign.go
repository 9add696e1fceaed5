package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/adstatdaily"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
)

// Dimension is a way to split campaign numbers.
type Dimension string

// The dimensions campaignStats groups by.
const (
	ByDay        Dimension = "DAY"
	ByInfluencer Dimension = "INFLUENCER"
	ByContent    Dimension = "CONTENT"
	ByAd         Dimension = "AD"
)

var dimColumn = map[Dimension]string{
	ByDay:        adstatdaily.FieldDay,
	ByInfluencer: adstatdaily.FieldInfluencerID,
	ByContent:    adstatdaily.FieldContentID,
	ByAd:         adstatdaily.FieldAdID,
}

// dimGrain is the grain bit each dimension needs (content implies its creator).
var dimGrain = map[Dimension]int{ByDay: 0, ByAd: GrainAd, ByInfluencer: GrainInfluencer, ByContent: GrainInfluencer | GrainContent}

// MaxGroups bounds the groups one report returns.
const MaxGroups = 10_000

// MaxWindow is the longest window campaignStats answers.
const MaxWindow = 3 * 366 * 24 * time.Hour

// Counts are the raw sums; the ratios are derived from them.
type Counts struct {
	Impressions  int64 `json:"impressions"`
	Clicks       int64 `json:"clicks"`
	Conversions  int64 `json:"conversions"`
	SpendMinor   int64 `json:"cost_minor"`
	RevenueMinor int64 `json:"revenue_minor"`
}

func ratio(num, den float64) *float64 {
	if den == 0 {
		return nil
	}
	v := num / den
	return &v
}

// CTR is clicks per impression; nil without impressions.
func (c Counts) CTR() *float64 { return ratio(float64(c.Clicks), float64(c.Impressions)) }

// CVR is conversions per click; nil without clicks.
func (c Counts) CVR() *float64 { return ratio(float64(c.Conversions), float64(c.Clicks)) }

// CPM is spend per thousand impressions, in minor units.
func (c Counts) CPM() *float64 { return ratio(1000*float64(c.SpendMinor), float64(c.Impressions)) }

// CPC is spend per click, in minor units.
func (c Counts) CPC() *float64 { return ratio(float64(c.SpendMinor), float64(c.Clicks)) }

// CPA is spend per conversion, in minor units.
func (c Counts) CPA() *float64 { return ratio(float64(c.SpendMinor), float64(c.Conversions)) }

// ROAS is revenue per unit of spend.
func (c Counts) ROAS() *float64 { return ratio(float64(c.RevenueMinor), float64(c.SpendMinor)) }

// Group is one row of a grouped report; only the grouped-by keys are set.
// InfluencerID and ContentID are empty for events without a creator or content.
type Group struct {
	Day          *time.Time
	AdID         pulid.ID
	InfluencerID pulid.ID
	ContentID    pulid.ID
	Counts
}

// Report is a campaign's numbers in [From, To).
type Report struct {
	Campaign *ent.Campaign
	From, To time.Time
	GroupBy  []Dimension
	Total    Counts
	Groups   []Group
}

// Window turns a caller's from/to into the whole UTC days the rollup
// answers: from rounds down, to rounds up, so [from, to) covers every
// event between them. to defaults to now and from to 30 days before to.
func Window(from, to *time.Time, now time.Time) (time.Time, time.Time, error) {
	t := now
	if to != nil {
		t = *to
	}
	end := Day(t)
	if !end.Equal(t.UTC()) {
		end = end.AddDate(0, 0, 1)
	}
	start := end.AddDate(0, 0, -30)
	if from != nil {
		start = Day(*from)
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, apperr.Errorf(apperr.BadInput, "from must be before to")
	}
	if end.Sub(start) > MaxWindow {
		return time.Time{}, time.Time{}, apperr.Errorf(apperr.BadInput, "the window may span at most %d days", int(MaxWindow.Hours()/24))
	}
	return start, end, nil
}

func sumOf(col string) ent.AggregateFunc {
	return func(s *sql.Selector) string {
		return sql.As("COALESCE(SUM("+s.C(col)+"), 0)", col)
	}
}

var sums = []ent.AggregateFunc{
	sumOf(adstatdaily.FieldImpressions), sumOf(adstatdaily.FieldClicks), sumOf(adstatdaily.FieldConversions),
	sumOf(adstatdaily.FieldCostMinor), sumOf(adstatdaily.FieldRevenueMinor),
}

type countsRow struct {
	Impressions  int64 `json:"impressions"`
	Clicks       int64 `json:"clicks"`
	Conversions  int64 `json:"conversions"`
	CostMinor    int64 `json:"cost_minor"`
	RevenueMinor int64 `json:"revenue_minor"`
}

func (r countsRow) counts() Counts {
	return Counts{Impressions: r.Impressions, Clicks: r.Clicks, Conversions: r.Conversions, SpendMinor: r.CostMinor, RevenueMinor: r.RevenueMinor}
}

// CampaignStats returns the campaign's impressions, clicks, conversions,
// spend and revenue in the UTC days [from, to) (see Window), in total and
// per combination of groupBy (at most MaxGroups of them, else BAD_INPUT),
// in the campaign's currency. Groups are
// ordered by day, then by ID. It reads only the rollup: the total from the
// per-day grain, the groups from the coarsest grain with their keys.
func CampaignStats(ctx context.Context, client *ent.Client, campaignID pulid.ID, from, to time.Time, groupBy []Dimension) (*Report, error) {
	c, err := client.Campaign.Get(ctx, campaignID)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "campaign %s not found", campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("campaign stats: %w", err)
	}
	rep := &Report{Campaign: c, From: from, To: to, Groups: []Group{}}
	seen := map[Dimension]bool{}
	var cols []string
	for _, d := range groupBy {
		col, ok := dimColumn[d]
		if !ok {
			return nil, apperr.Errorf(apperr.BadInput, "unknown groupBy %q", d)
		}
		if !seen[d] {
			seen[d] = true
			rep.GroupBy = append(rep.GroupBy, d)
			cols = append(cols, col)
		}
	}
	need := 0
	for d := range seen {
		need |= dimGrain[d]
	}
	grain := Grains[len(Grains)-1]
	for _, g := range Grains {
		if g&need == need {
			grain = g
			break
		}
	}
	var total []countsRow
	err = client.AdStatDaily.Query().Where(adstatdaily.CampaignID(campaignID), adstatdaily.Grain(0),
		adstatdaily.DayGTE(from), adstatdaily.DayLT(to)).Aggregate(sums...).Scan(ctx, &total)
	if err != nil {
		return nil, fmt.Errorf("campaign stats total: %w", err)
	}
	q := client.AdStatDaily.Query().Where(adstatdaily.CampaignID(campaignID), adstatdaily.Grain(grain),
		adstatdaily.DayGTE(from), adstatdaily.DayLT(to))
	if len(total) == 1 {
		rep.Total = total[0].counts()
	}
	if len(cols) == 0 {
		return rep, nil
	}
	var rows []struct {
		Impressions  int64     `json:"impressions"`
		Clicks       int64     `json:"clicks"`
		Conversions  int64     `json:"conversions"`
		CostMinor    int64     `json:"cost_minor"`
		RevenueMinor int64     `json:"revenue_minor"`
		Day          time.Time `json:"day"`
		AdID         string    `json:"ad_id"`
		InfluencerID string    `json:"influencer_id"`
		ContentID    string    `json:"content_id"`
	}
	if err := q.Limit(MaxGroups+1).GroupBy(cols[0], cols[1:]...).Aggregate(sums...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("campaign stats groups: %w", err)
	}
	if len(rows) > MaxGroups {
		return nil, apperr.Errorf(apperr.BadInput, "more than %d groups: shorten the window or group by fewer keys", MaxGroups)
	}
	for _, r := range rows {
		c := countsRow{r.Impressions, r.Clicks, r.Conversions, r.CostMinor, r.RevenueMinor}
		g := Group{Counts: c.counts(), AdID: pulid.ID(r.AdID), InfluencerID: pulid.ID(r.InfluencerID), ContentID: pulid.ID(r.ContentID)}
		if seen[ByDay] {
			d := r.Day.UTC()
			g.Day = &d
		}
		rep.Groups = append(rep.Groups, g)
	}
	sort.Slice(rep.Groups, func(i, j int) bool {
		a, b := rep.Groups[i], rep.Groups[j]
		if a.Day != nil && !a.Day.Equal(*b.Day) {
			return a.Day.Before(*b.Day)
		}
		if a.AdID != b.AdID {
			return a.AdID < b.AdID
		}
		if a.InfluencerID != b.InfluencerID {
			return a.InfluencerID < b.InfluencerID
		}
		return a.ContentID < b.ContentID
	})
	return rep, nil
}
