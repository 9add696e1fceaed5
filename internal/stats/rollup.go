// Package stats answers campaign statistics for partners and audience
// breakdowns for creators. Campaign numbers are read from AdStatDaily, a
// daily rollup of AdEvent kept exact by an ent hook that updates it in the
// statement sequence (and transaction) that inserts each event.
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

// Delta is what one or more events add to one rollup row.
type Delta struct {
	CampaignID, AdID, InfluencerID, ContentID pulid.ID
	Day                                       time.Time
	Impressions, Clicks, Conversions          int64
	CostMinor, RevenueMinor                   int64
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

func skipGuard(ctx context.Context) context.Context { return context.WithValue(ctx, skipGuardKey{}, true) }

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

// Apply adds d to its rollup row, creating it if needed. The hook calls it
// for every new event; Rebuild uses it for backfills.
func Apply(ctx context.Context, c *ent.Client, d Delta) error {
	return c.AdStatDaily.Create().
		SetCampaignID(d.CampaignID).SetDay(d.Day).SetAdID(d.AdID).
		SetInfluencerID(d.InfluencerID).SetContentID(d.ContentID).
		SetImpressions(d.Impressions).SetClicks(d.Clicks).SetConversions(d.Conversions).
		SetCostMinor(d.CostMinor).SetRevenueMinor(d.RevenueMinor).
		OnConflictColumns(adstatdaily.FieldCampaignID, adstatdaily.FieldDay, adstatdaily.FieldAdID,
			adstatdaily.FieldInfluencerID, adstatdaily.FieldContentID).
		Update(func(u *ent.AdStatDailyUpsert) {
			u.AddImpressions(d.Impressions).AddClicks(d.Clicks).AddConversions(d.Conversions).
				AddCostMinor(d.CostMinor).AddRevenueMinor(d.RevenueMinor).
				SetUpdatedAt(time.Now().UTC())
		}).
		Exec(ctx)
}

// rebuildPage is how many events Rebuild reads per query.
const rebuildPage = 50_000

// Rebuild recomputes the rollup of one campaign from its raw events: for
// events loaded around the hook (bulk imports, benchmarks) or a rollup
// added to a database that already had events. It reads events in pages
// of rebuildPage and replaces the campaign's rollup rows in one transaction.
func Rebuild(ctx context.Context, client *ent.Client, campaignID pulid.ID) error {
	acc := map[Delta]*Delta{}
	var after pulid.ID
	for {
		var page []struct {
			ID           pulid.ID     `json:"id"`
			AdID         pulid.ID     `json:"ad_id"`
			InfluencerID *string      `json:"influencer_id"`
			ContentID    *string      `json:"content_id"`
			Kind         adevent.Kind `json:"kind"`
			CostMinor    int64        `json:"cost_minor"`
			RevenueMinor int64        `json:"revenue_minor"`
			OccurredAt   time.Time    `json:"occurred_at"`
		}
		err := client.AdEvent.Query().
			Where(adevent.CampaignID(campaignID), adevent.IDGT(after)).
			Order(ent.Asc(adevent.FieldID)).Limit(rebuildPage).
			Select(adevent.FieldID, adevent.FieldAdID, adevent.FieldInfluencerID, adevent.FieldContentID,
				adevent.FieldKind, adevent.FieldCostMinor, adevent.FieldRevenueMinor, adevent.FieldOccurredAt).
			Scan(ctx, &page)
		if err != nil {
			return fmt.Errorf("rebuild stats of %s: read events: %w", campaignID, err)
		}
		for _, e := range page {
			k := Delta{CampaignID: campaignID, AdID: e.AdID, Day: Day(e.OccurredAt)}
			if e.InfluencerID != nil {
				k.InfluencerID = pulid.ID(*e.InfluencerID)
			}
			if e.ContentID != nil {
				k.ContentID = pulid.ID(*e.ContentID)
			}
			d := acc[k]
			if d == nil {
				c := k
				d = &c
				acc[k] = d
			}
			d.add(e.Kind, e.CostMinor, e.RevenueMinor)
		}
		if len(page) < rebuildPage {
			break
		}
		after = page[len(page)-1].ID
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
		builders = append(builders, tx.AdStatDaily.Create().
			SetCampaignID(d.CampaignID).SetDay(d.Day).SetAdID(d.AdID).
			SetInfluencerID(d.InfluencerID).SetContentID(d.ContentID).
			SetImpressions(d.Impressions).SetClicks(d.Clicks).SetConversions(d.Conversions).
			SetCostMinor(d.CostMinor).SetRevenueMinor(d.RevenueMinor))
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
