package ads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/campaign"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
)

// Event is the outcome of a click or conversion.
type Event struct {
	// ID is the AdEvent recorded (the original one for a duplicate).
	ID   pulid.ID
	Kind adevent.Kind
	// CostMinor is what the partner was charged for it.
	CostMinor    int64
	RevenueMinor int64
	// Duplicate is true when the event had been recorded before.
	Duplicate bool
	// TargetURL is where a click goes.
	TargetURL string
}

func badToken(err error) error {
	if errors.Is(err, ErrBadToken) {
		return apperr.Wrap(apperr.BadInput, err, "invalid or tampered click token")
	}
	return err
}

func impression(ctx context.Context, client *ent.Client, token string) (*ent.AdEvent, error) {
	id, err := Verify(ctx, client, token)
	if err != nil {
		return nil, badToken(err)
	}
	imp, err := client.AdEvent.Get(ctx, id)
	if ent.IsNotFound(err) || (err == nil && imp.Kind != adevent.KindIMPRESSION) {
		return nil, apperr.Errorf(apperr.NotFound, "impression not found")
	}
	if err != nil {
		return nil, fmt.Errorf("impression: %w", err)
	}
	return imp, nil
}

func fromRow(ev *ent.AdEvent, dup bool, target string) *Event {
	return &Event{ID: ev.ID, Kind: ev.Kind, CostMinor: ev.CostMinor, RevenueMinor: ev.RevenueMinor, Duplicate: dup, TargetURL: target}
}

func byKey(ctx context.Context, c *ent.Client, key string) (*ent.AdEvent, error) {
	ev, err := c.AdEvent.Query().Where(adevent.IdempotencyKey(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return ev, err
}

// Click records the click of a served impression, identified by its signed
// token, and returns where to send the user. Only the first click of an
// impression counts (and, for CPC campaigns, is charged, never beyond the
// budget); later ones just redirect. A forged or tampered token is rejected
// with BAD_INPUT and counted.
func Click(ctx context.Context, client *ent.Client, cfg Config, token string, now time.Time) (*Event, error) {
	imp, err := impression(ctx, client, token)
	if err != nil {
		return nil, err
	}
	a, err := client.Ad.Get(ctx, imp.AdID)
	if err != nil {
		return nil, fmt.Errorf("click: %w", err)
	}
	key := "click:" + string(imp.ID)
	if ev, err := byKey(ctx, client, key); err != nil || ev != nil {
		if err != nil {
			return nil, fmt.Errorf("click: %w", err)
		}
		return fromRow(ev, true, a.TargetURL), nil
	}
	c, err := client.Campaign.Get(ctx, imp.CampaignID)
	if err != nil {
		return nil, fmt.Errorf("click: %w", err)
	}
	var out *Event
	err = ledger.Exec(ctx, client, spendAccounts(c, imp.InfluencerID), func(ctx context.Context, b *ledger.Book) error {
		c, err := lockCampaign(ctx, b, c.ID)
		if err != nil {
			return err
		}
		if ev, err := byKey(ctx, b.Tx.Client(), key); err != nil || ev != nil {
			if ev != nil {
				out = fromRow(ev, true, a.TargetURL)
			}
			return err
		}
		cost := int64(0)
		if c.Pricing == campaign.PricingCPC {
			cost = max(0, min(c.BidMinor, c.BudgetMinor-c.SpentMinor))
		}
		ev, err := record(ctx, b, cfg, c, imp, adevent.KindCLICK, key, cost, 0, now)
		if err != nil {
			return err
		}
		if err := b.Tx.Ad.UpdateOneID(a.ID).AddClicks(1).Exec(ctx); err != nil {
			return err
		}
		out = fromRow(ev, false, a.TargetURL)
		return nil
	})
	if ent.IsConstraintError(err) {
		if ev, err := byKey(ctx, client, key); err == nil && ev != nil {
			return fromRow(ev, true, a.TargetURL), nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("click: %w", err)
	}
	return out, nil
}

// record inserts an event derived from an impression and charges its cost.
func record(ctx context.Context, b *ledger.Book, cfg Config, c *ent.Campaign, imp *ent.AdEvent, kind adevent.Kind, key string, cost, revenue int64, now time.Time) (*ent.AdEvent, error) {
	ec := b.Tx.AdEvent.Create().SetAdID(imp.AdID).SetCampaignID(c.ID).SetKind(kind).SetCostMinor(cost).
		SetRevenueMinor(revenue).SetIdempotencyKey(key).SetOccurredAt(now).SetImpressionID(imp.ID)
	setContext(ec, imp.UserID, ContentRef{ContentID: imp.ContentID, InfluencerID: imp.InfluencerID})
	ev, err := ec.Save(ctx)
	if err != nil {
		return nil, err
	}
	if cost > 0 {
		if err := b.Tx.Campaign.UpdateOneID(c.ID).AddSpentMinor(cost).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return ev, postSpend(ctx, b, cfg, c, imp.InfluencerID, ev.ID, cost, now)
}

// EventRequest reports a click or a conversion of a served ad.
type EventRequest struct {
	// Token is the placement's click token.
	Token string
	Kind  adevent.Kind
	// RevenueMinor is the order amount of a conversion.
	RevenueMinor int64
	// IdempotencyKey makes a conversion report safe to retry.
	IdempotencyKey string
}

// RecordEvent records a click (as Click does) or a conversion. A conversion
// must follow a click on the same impression within the conversion window; it
// is charged the bid for CPA campaigns (never beyond the budget). The same
// key returns the first result; with other parameters it is CONFLICT.
// Impressions are recorded when ads are served and cannot be reported.
func RecordEvent(ctx context.Context, client *ent.Client, cfg Config, r EventRequest, now time.Time) (*Event, error) {
	switch r.Kind {
	case adevent.KindCLICK:
		return Click(ctx, client, cfg, r.Token, now)
	case adevent.KindCONVERSION:
	default:
		return nil, apperr.Errorf(apperr.BadInput, "impressions are recorded when ads are served; report CLICK or CONVERSION")
	}
	if err := ledger.CheckKey(r.IdempotencyKey); err != nil {
		return nil, err
	}
	if r.RevenueMinor < 0 {
		return nil, apperr.Errorf(apperr.BadInput, "revenueMinor must not be negative")
	}
	imp, err := impression(ctx, client, r.Token)
	if err != nil {
		return nil, err
	}
	key := "adconv:" + r.IdempotencyKey
	same := func(ev *ent.AdEvent) bool {
		return ev.Kind == adevent.KindCONVERSION && ev.AdID == imp.AdID && ev.UserID == imp.UserID &&
			ev.ContentID == imp.ContentID && ev.RevenueMinor == r.RevenueMinor
	}
	replay := func(ev *ent.AdEvent) (*Event, error) {
		if !same(ev) {
			return nil, apperr.Errorf(apperr.Conflict, "idempotencyKey was already used with different parameters")
		}
		return fromRow(ev, true, ""), nil
	}
	if ev, err := byKey(ctx, client, key); err != nil {
		return nil, fmt.Errorf("ad conversion: %w", err)
	} else if ev != nil {
		return replay(ev)
	}
	click, err := byKey(ctx, client, "click:"+string(imp.ID))
	if err != nil {
		return nil, fmt.Errorf("ad conversion: %w", err)
	}
	if click == nil || now.Sub(click.OccurredAt) > cfg.ConversionWindow || now.Before(click.OccurredAt) {
		return nil, apperr.Errorf(apperr.BadInput, "a conversion must follow a click on the ad within %s", cfg.ConversionWindow)
	}
	c, err := client.Campaign.Get(ctx, imp.CampaignID)
	if err != nil {
		return nil, fmt.Errorf("ad conversion: %w", err)
	}
	var out *Event
	err = ledger.Exec(ctx, client, spendAccounts(c, imp.InfluencerID), func(ctx context.Context, b *ledger.Book) error {
		c, err := lockCampaign(ctx, b, c.ID)
		if err != nil {
			return err
		}
		if ev, err := byKey(ctx, b.Tx.Client(), key); err != nil || ev != nil {
			if ev != nil {
				out, err = replay(ev)
			}
			return err
		}
		// One conversion per click: a second report for the same click is
		// refused, so a campaign is never charged twice for one sale.
		if n, err := b.Tx.AdEvent.Query().Where(adevent.KindEQ(adevent.KindCONVERSION), adevent.ImpressionID(imp.ID)).Count(ctx); err != nil {
			return err
		} else if n > 0 {
			return apperr.Errorf(apperr.Conflict, "this click already converted")
		}
		cost := int64(0)
		if c.Pricing == campaign.PricingCPA {
			cost = max(0, min(c.BidMinor, c.BudgetMinor-c.SpentMinor))
		}
		ev, err := record(ctx, b, cfg, c, imp, adevent.KindCONVERSION, key, cost, r.RevenueMinor, now)
		if err != nil {
			return err
		}
		if err := b.Tx.Ad.UpdateOneID(imp.AdID).AddConversions(1).Exec(ctx); err != nil {
			return err
		}
		out = fromRow(ev, false, "")
		return nil
	})
	if ent.IsConstraintError(err) {
		if ev, err := byKey(ctx, client, key); err == nil && ev != nil {
			return replay(ev)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ad conversion: %w", err)
	}
	return out, nil
}

// CampaignOfToken returns the campaign whose placement a click token names.
func CampaignOfToken(ctx context.Context, client *ent.Client, token string) (*ent.Campaign, error) {
	imp, err := impression(ctx, client, token)
	if err != nil {
		return nil, err
	}
	return client.Campaign.Get(ctx, imp.CampaignID)
}
