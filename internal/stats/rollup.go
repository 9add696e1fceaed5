// Package stats answers campaign statistics for partners and audience
// breakdowns for creators. Campaign numbers are read from AdStatDaily, a
// daily rollup of AdEvent at several grains, kept exact by an ent hook that
// updates it in the transaction that inserts each event.
package stats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/adstatdaily"
	"github.com/limelight-hq/limelight/ent/hook"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// ErrImmutable is returned when something tries to change or delete a
// counted ad event: the rollup would silently drift. Corrections are new events.
var ErrImmutable = errors.New("ad events are immutable")

// Register installs the rollup hooks on client. Every AdEvent created
// through client (or a transaction of it) updates AdStatDaily; updates of
// counted fields and deletes are refused with ErrImmutable.
func Register(client *ent.Client) {
	client.AdEvent.Use(
		hook.On(rollupHook, ent.OpCreate),
		hook.On(guardHook, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
	)
}

// Day returns the UTC day t falls in, the rollup's time grain.
func Day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Grain bits: which keys a rollup row keeps besides campaign and day.
const (
	GrainAd         = 1
	GrainInfluencer = 2
	GrainContent    = 4
)

// Grains are the grains the rollup maintains, coarsest first. Content
// always comes with its creator (a piece of content has one).
var Grains = []int{0, GrainAd, GrainInfluencer, GrainAd | GrainInfluencer, GrainInfluencer | GrainContent, GrainAd | GrainInfluencer | GrainContent}

// Delta is what one or more events add to one rollup row.
type Delta struct {
	CampaignID, AdID, InfluencerID, ContentID pulid.ID
	Grain                                     int
	Day                                       time.Time
	Impressions, Clicks, Conversions          int64
	CostMinor, RevenueMinor                   int64
}

// at returns d's keys reduced to grain g.
func (d Delta) at(g int) Delta {
	k := Delta{CampaignID: d.CampaignID, Day: d.Day, Grain: g}
	if g&GrainAd != 0 {
		k.AdID = d.AdID
	}
	if g&GrainInfluencer != 0 {
		k.InfluencerID = d.InfluencerID
	}
	if g&GrainContent != 0 {
		k.ContentID = d.ContentID
	}
	return k
}

func (d *Delta) add(kind adevent.Kind, cost, revenue int64) {
	switch kind {
	case adevent.KindIMPRESSION:
		d.Impressions++
	case adevent.KindCLICK:
		d.Clicks++
	case adevent.KindCONVERSION:
		d.Conversions++
	}
	d.CostMinor += cost
	d.RevenueMinor += revenue
}

func rollupHook(next ent.Mutator) ent.Mutator {
	return hook.AdEventFunc(func(ctx context.Context, m *ent.AdEventMutation) (ent.Value, error) {
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		d := Delta{}
		d.CampaignID, _ = m.CampaignID()
		d.AdID, _ = m.AdID()
		d.InfluencerID, _ = m.InfluencerID()
		d.ContentID, _ = m.ContentID()
		at, _ := m.OccurredAt()
		d.Day = Day(at)
		kind, _ := m.Kind()
		cost, _ := m.CostMinor()
		rev, _ := m.RevenueMinor()
		d.add(kind, cost, rev)
		if err := Apply(ctx, m.Client(), d); err != nil {
			if _, txErr := m.Tx(); txErr != nil {
				// Not in a transaction: take the event back so the rollup
				// and the events never disagree.
				if ev, ok := v.(*ent.AdEvent); ok {
					_ = m.Client().AdEvent.DeleteOneID(ev.ID).Exec(skipGuard(ctx))
				}
			}
			return nil, fmt.Errorf("update ad stats rollup: %w", err)
		}
		return v, nil
	})
}

type skipGuardKey struct{}

func skipGuard(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipGuardKey{}, true)
}

func guardHook(next ent.Mutator) ent.Mutator {
	return hook.AdEventFunc(func(ctx context.Context, m *ent.AdEventMutation) (ent.Value, error) {
		if ctx.Value(skipGuardKey{}) != nil {
			return next.Mutate(ctx, m)
		}
		if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
			return nil, ErrImmutable
		}
		for _, f := range m.Fields() {
			switch f {
			case adevent.FieldCampaignID, adevent.FieldAdID, adevent.FieldInfluencerID, adevent.FieldContentID,
				adevent.FieldKind, adevent.FieldCostMinor, adevent.FieldRevenueMinor, adevent.FieldOccurredAt:
				return nil, fmt.Errorf("%w: cannot change %s", ErrImmutable, f)
			}
		}
		for _, f := range m.ClearedFields() {
			if f == adevent.FieldInfluencerID || f == adevent.FieldContentID {
				return nil, fmt.Errorf("%w: cannot clear %s", ErrImmutable, f)
			}
		}
		return next.Mutate(ctx, m)
	})
}

// Apply adds d (keyed at the finest grain) to its row in every grain,
// creating rows as needed, in one statement. The hook calls it for every
// new event.
func Apply(ctx context.Context, c *ent.Client, d Delta) error {
	bs := make([]*ent.AdStatDailyCreate, len(Grains))
	for i, g := range Grains {
		bs[i] = newRow(c, d.at(g), d)
	}
	return c.AdStatDaily.CreateBulk(bs...).
		OnConflictColumns(adstatdaily.FieldCampaignID, adstatdaily.FieldGrain, adstatdaily.FieldDay, adstatdaily.FieldAdID,
			adstatdaily.FieldInfluencerID, adstatdaily.FieldContentID).
		Update(func(u *ent.AdStatDailyUpsert) {
			// The same delta for every grain, so a constant increment is right.
			u.AddImpressions(d.Impressions).AddClicks(d.Clicks).AddConversions(d.Conversions).
				AddCostMinor(d.CostMinor).AddRevenueMinor(d.RevenueMinor).
				SetUpdatedAt(time.Now().UTC())
		}).
		Exec(ctx)
}

// newRow builds the insert of key with the counts of v.
func newRow(c *ent.Client, key, v Delta) *ent.AdStatDailyCreate {
	return c.AdStatDaily.Create().
		SetCampaignID(key.CampaignID).SetGrain(key.Grain).SetDay(key.Day).SetAdID(key.AdID).
		SetInfluencerID(key.InfluencerID).SetContentID(key.ContentID).
		SetImpressions(v.Impressions).SetClicks(v.Clicks).SetConversions(v.Conversions).
		SetCostMinor(v.CostMinor).SetRevenueMinor(v.RevenueMinor)
}

// Rebuild recomputes the rollup of one campaign from its raw events: for
// events loaded around the hook (bulk imports, benchmarks) or a rollup
// added to a database that already had events. It reads the events one UTC
// day at a time along the (campaign_id, occurred_at) index and replaces the
// campaign's rollup rows in one transaction. Run it while no events of the
// campaign are being recorded.
func Rebuild(ctx context.Context, client *ent.Client, campaignID pulid.ID) error {
	// The first and last events, by the (campaign_id, occurred_at) index.
	edge := func(o adevent.OrderOption) (*ent.AdEvent, error) {
		e, err := client.AdEvent.Query().Where(adevent.CampaignID(campaignID)).
			Order(o).Select(adevent.FieldOccurredAt).First(ctx)
		if ent.IsNotFound(err) {
			return nil, nil
		}
		return e, err
	}
	first, err := edge(ent.Asc(adevent.FieldOccurredAt))
	if err != nil {
		return fmt.Errorf("rebuild stats of %s: first event: %w", campaignID, err)
	}
	last, err := edge(ent.Desc(adevent.FieldOccurredAt))
	if err != nil {
		return fmt.Errorf("rebuild stats of %s: last event: %w", campaignID, err)
	}
	acc := map[Delta]*Delta{}
	if first != nil && last != nil {
		for day := Day(first.OccurredAt); !day.After(last.OccurredAt); day = day.AddDate(0, 0, 1) {
			if err := rebuildDay(ctx, client, campaignID, day, acc); err != nil {
				return err
			}
		}
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("rebuild stats: begin: %w", err)
	}
	if _, err := tx.AdStatDaily.Delete().Where(adstatdaily.CampaignID(campaignID)).Exec(ctx); err != nil {
		tx.Rollback()
		return fmt.Errorf("rebuild stats: clear: %w", err)
	}
	const batch = 1000
	builders := make([]*ent.AdStatDailyCreate, 0, batch)
	flush := func() error {
		if len(builders) == 0 {
			return nil
		}
		err := tx.AdStatDaily.CreateBulk(builders...).Exec(ctx)
		builders = builders[:0]
		return err
	}
	for _, d := range acc {
		builders = append(builders, newRow(tx.Client(), *d, *d))
		if len(builders) == batch {
			if err := flush(); err != nil {
				tx.Rollback()
				return fmt.Errorf("rebuild stats: insert: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		tx.Rollback()
		return fmt.Errorf("rebuild stats: insert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild stats: commit: %w", err)
	}
	return nil
}

// rebuildDay adds one day of the campaign's events to acc, at every grain.
func rebuildDay(ctx context.Context, client *ent.Client, campaignID pulid.ID, day time.Time, acc map[Delta]*Delta) error {
	var events []struct {
		AdID         pulid.ID     `json:"ad_id"`
		InfluencerID *string      `json:"influencer_id"`
		ContentID    *string      `json:"content_id"`
		Kind         adevent.Kind `json:"kind"`
		CostMinor    int64        `json:"cost_minor"`
		RevenueMinor int64        `json:"revenue_minor"`
	}
	err := client.AdEvent.Query().
		Where(adevent.CampaignID(campaignID), adevent.OccurredAtGTE(day), adevent.OccurredAtLT(day.AddDate(0, 0, 1))).
		Select(adevent.FieldAdID, adevent.FieldInfluencerID, adevent.FieldContentID,
			adevent.FieldKind, adevent.FieldCostMinor, adevent.FieldRevenueMinor).
		Scan(ctx, &events)
	if err != nil {
		return fmt.Errorf("rebuild stats of %s: read %s: %w", campaignID, day.Format(time.DateOnly), err)
	}
	for _, e := range events {
		k := Delta{CampaignID: campaignID, AdID: e.AdID, Day: day}
		if e.InfluencerID != nil {
			k.InfluencerID = pulid.ID(*e.InfluencerID)
		}
		if e.ContentID != nil {
			k.ContentID = pulid.ID(*e.ContentID)
		}
		for _, g := range Grains {
			gk := k.at(g)
			d := acc[gk]
			if d == nil {
				c := gk
				d = &c
				acc[gk] = d
			}
			d.add(e.Kind, e.CostMinor, e.RevenueMinor)
		}
	}
	return nil
}
