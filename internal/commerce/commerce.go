// Package commerce is affiliate selling: partners' products, product links
// that creators place on their content, tracked clicks through /r/{code}, and
// conversions that earn the creator a commission. A commission is pending for
// a refund window and then becomes available for payout; a reversal claws it
// back at any time.
package commerce

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/conversion"
	"github.com/limelight-hq/limelight/ent/linkclick"
	"github.com/limelight-hq/limelight/ent/partner"
	"github.com/limelight-hq/limelight/ent/predicate"
	"github.com/limelight-hq/limelight/ent/product"
	"github.com/limelight-hq/limelight/ent/productlink"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
)

// Config sets the affiliate rules.
type Config struct {
	// TakeBps is the platform's part of each commission, in basis points.
	TakeBps int
	// RefundWindow is how long a commission stays pending.
	RefundWindow time.Duration
	// MaxFuture is how far in the future a conversion may claim to be.
	MaxFuture time.Duration
}

// DefaultConfig: the platform keeps 10% of commissions, which stay pending for 30 days.
func DefaultConfig() Config {
	return Config{TakeBps: 1000, RefundWindow: 30 * 24 * time.Hour, MaxFuture: 5 * time.Minute}
}

// CreatePartner adds a brand.
func CreatePartner(ctx context.Context, client *ent.Client, name, currency string) (*ent.Partner, error) {
	if err := ledger.CheckCurrency(currency); err != nil {
		return nil, err
	}
	p, err := client.Partner.Create().SetName(name).SetCurrency(currency).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create partner: %w", err)
	}
	return p, nil
}

// ProductInput describes a new product.
type ProductInput struct {
	PartnerID  pulid.ID
	Name       string
	PriceMinor int64
	Currency   string
	Category   string
	URL        string
}

// CreateProduct adds a partner's product; URL is where link clicks go.
func CreateProduct(ctx context.Context, client *ent.Client, in ProductInput) (*ent.Product, error) {
	if err := ledger.CheckCurrency(in.Currency); err != nil {
		return nil, err
	}
	if err := checkURL(in.URL); err != nil {
		return nil, err
	}
	if ok, err := client.Partner.Query().Where(partner.ID(in.PartnerID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("create product: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "partner %s not found", in.PartnerID)
	}
	p, err := client.Product.Create().SetPartnerID(in.PartnerID).SetName(in.Name).SetPriceMinor(in.PriceMinor).
		SetCurrency(in.Currency).SetCategory(in.Category).SetURL(in.URL).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create product: %w", err)
	}
	return p, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return apperr.Errorf(apperr.BadInput, "url must be an absolute http(s) URL")
	}
	return nil
}

// codeRE is what a link code may look like; ad click tokens contain a dot, so the two never collide.
var codeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{3,64}$`)

// IsLinkCode reports whether s has the shape of a product link code.
func IsLinkCode(s string) bool { return codeRE.MatchString(s) }

// LinkInput describes a new product link.
type LinkInput struct {
	ProductID, ContentID pulid.ID
	// Code is the public code in /r/{code}; empty means generate one.
	Code            string
	CommissionBps   int
	AttributionDays int
}

// CreateLink places a product link on a piece of content.
func CreateLink(ctx context.Context, client *ent.Client, in LinkInput) (*ent.ProductLink, error) {
	if in.Code == "" {
		in.Code = newCode()
	}
	if !IsLinkCode(in.Code) {
		return nil, apperr.Errorf(apperr.BadInput, "code must be 3-64 characters of A-Z, a-z, 0-9, _ and -")
	}
	if in.CommissionBps < 0 || in.CommissionBps > 10000 {
		return nil, apperr.Errorf(apperr.BadInput, "commissionBps must be between 0 and 10000")
	}
	if in.AttributionDays == 0 {
		in.AttributionDays = 7
	}
	if in.AttributionDays < 1 || in.AttributionDays > 90 {
		return nil, apperr.Errorf(apperr.BadInput, "attributionDays must be between 1 and 90")
	}
	if ok, err := client.Product.Query().Where(product.ID(in.ProductID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("create link: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "product %s not found", in.ProductID)
	}
	if ok, err := client.Content.Query().Where(content.ID(in.ContentID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("create link: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "content %s not found", in.ContentID)
	}
	l, err := client.ProductLink.Create().SetProductID(in.ProductID).SetContentID(in.ContentID).SetCode(in.Code).
		SetCommissionBps(in.CommissionBps).SetAttributionDays(in.AttributionDays).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Errorf(apperr.Conflict, "link code %q is taken", in.Code)
	}
	if err != nil {
		return nil, fmt.Errorf("create link: %w", err)
	}
	return l, nil
}

func newCode() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Click records a click on a product link by userID (empty if unknown) and
// returns where to send the visitor: the product's URL with the click's ID in
// the ll_click parameter, for the partner to pass back with the conversion.
func Click(ctx context.Context, client *ent.Client, code string, userID pulid.ID, now time.Time) (target string, click *ent.LinkClick, err error) {
	l, err := client.ProductLink.Query().Where(productlink.Code(code)).WithProduct().Only(ctx)
	if ent.IsNotFound(err) {
		return "", nil, apperr.Errorf(apperr.NotFound, "link %q not found", code)
	}
	if err != nil {
		return "", nil, fmt.Errorf("link click: %w", err)
	}
	if l.Edges.Product.URL == "" {
		return "", nil, apperr.Errorf(apperr.NotFound, "the product of link %q has no URL", code)
	}
	cc := client.LinkClick.Create().SetLinkID(l.ID).SetOccurredAt(now)
	if userID != "" {
		if ok, err := client.User.Query().Where(user.ID(userID)).Exist(ctx); err == nil && ok {
			cc.SetUserID(userID)
		}
	}
	click, err = cc.Save(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("link click: %w", err)
	}
	u, err := url.Parse(l.Edges.Product.URL)
	if err != nil {
		return "", nil, fmt.Errorf("link click: product url: %w", err)
	}
	q := u.Query()
	q.Set("ll_click", string(click.ID))
	u.RawQuery = q.Encode()
	return u.String(), click, nil
}

// ConversionRequest is a sale a partner reports.
type ConversionRequest struct {
	LinkCode    string
	OrderRef    string
	AmountMinor int64
	Currency    string
	// OccurredAt is when the sale happened; zero means now.
	OccurredAt time.Time
	// ClickID is the ll_click value from the redirect; or else UserID names
	// the buyer, and their latest click on the link in the window counts.
	ClickID, UserID pulid.ID
	// IdempotencyKey makes retries safe.
	IdempotencyKey string
}

func (r ConversionRequest) hash() string {
	at := ""
	if !r.OccurredAt.IsZero() {
		at = r.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	return ledger.Hash("conversion", r.LinkCode, r.OrderRef, r.AmountMinor, r.Currency, at, r.ClickID, r.UserID)
}

// RecordConversion attributes a sale to a product link and posts the
// commission: the partner pays it, the platform keeps its take, and the rest
// is pending for the creator until the refund window ends. The sale must
// follow a click on the link (by that user) within the link's attribution
// window; orderRef is unique per partner.
func RecordConversion(ctx context.Context, client *ent.Client, cfg Config, r ConversionRequest, now time.Time) (*ent.Conversion, bool, error) {
	if err := ledger.CheckKey(r.IdempotencyKey); err != nil {
		return nil, false, err
	}
	key := "conv:" + r.IdempotencyKey
	lookup := func(ctx context.Context, c *ent.Client) (*ent.Conversion, string, bool, error) {
		cv, err := c.Conversion.Query().Where(conversion.IdempotencyKey(key)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, "", false, nil
		}
		if err != nil {
			return nil, "", false, fmt.Errorf("conversion by key: %w", err)
		}
		return cv, cv.RequestHash, true, nil
	}
	if cv, h, found, err := lookup(ctx, client); err != nil {
		return nil, false, err
	} else if found {
		if h != r.hash() {
			return nil, true, apperr.Errorf(apperr.Conflict, "idempotencyKey was already used with different parameters")
		}
		return cv, true, nil
	}
	if err := ledger.CheckCurrency(r.Currency); err != nil {
		return nil, false, err
	}
	if r.AmountMinor <= 0 {
		return nil, false, apperr.Errorf(apperr.BadInput, "amountMinor must be positive")
	}
	if r.OrderRef == "" || len(r.OrderRef) > 200 {
		return nil, false, apperr.Errorf(apperr.BadInput, "orderRef must be 1-200 characters")
	}
	at := r.OccurredAt.UTC()
	if r.OccurredAt.IsZero() {
		at = now
	}
	if at.After(now.Add(cfg.MaxFuture)) {
		return nil, false, apperr.Errorf(apperr.BadInput, "occurredAt is in the future")
	}
	l, err := client.ProductLink.Query().Where(productlink.Code(r.LinkCode)).WithProduct().WithContent().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, false, apperr.Errorf(apperr.NotFound, "link %q not found", r.LinkCode)
	}
	if err != nil {
		return nil, false, fmt.Errorf("record conversion: %w", err)
	}
	window := time.Duration(l.AttributionDays) * 24 * time.Hour
	clickPreds := []predicate.LinkClick{linkclick.LinkID(l.ID), linkclick.OccurredAtLTE(at), linkclick.OccurredAtGTE(at.Add(-window))}
	switch {
	case r.ClickID != "":
		clickPreds = append(clickPreds, linkclick.ID(r.ClickID))
		if r.UserID != "" {
			clickPreds = append(clickPreds, linkclick.UserID(r.UserID))
		}
	case r.UserID != "":
		clickPreds = append(clickPreds, linkclick.UserID(r.UserID))
	default:
		return nil, false, apperr.Errorf(apperr.BadInput, "clickId or userId is needed to attribute a conversion")
	}
	click, err := client.LinkClick.Query().Where(clickPreds...).Order(ent.Desc(linkclick.FieldOccurredAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, false, apperr.Errorf(apperr.BadInput, "no click on link %q by this buyer in the %d days before the sale", r.LinkCode, l.AttributionDays)
	}
	if err != nil {
		return nil, false, fmt.Errorf("record conversion: %w", err)
	}
	partnerID := l.Edges.Product.PartnerID
	influencerID := l.Edges.Content.InfluencerID
	commission := ledger.Share(r.AmountMinor, l.CommissionBps)
	fee := ledger.Share(commission, cfg.TakeBps)
	net := commission - fee
	partnerAcc := ledger.Partner(partnerID, r.Currency)
	platform := ledger.Platform(r.Currency)
	pending := ledger.Creator(influencerID, ledger.Pending, r.Currency)
	cv, replayed, err := ledger.Once(ctx, client, ledger.Op[*ent.Conversion]{
		Hash:     r.hash(),
		Accounts: []ledger.Account{partnerAcc, platform, pending},
		Lookup:   lookup,
		Do: func(ctx context.Context, b *ledger.Book) (*ent.Conversion, error) {
			dup, err := b.Tx.Conversion.Query().Where(conversion.PartnerID(partnerID), conversion.OrderRef(r.OrderRef)).Exist(ctx)
			if err != nil {
				return nil, err
			}
			if dup {
				return nil, apperr.Errorf(apperr.Conflict, "order %q was already recorded", r.OrderRef)
			}
			cc := b.Tx.Conversion.Create().SetLinkID(l.ID).SetPartnerID(partnerID).SetInfluencerID(influencerID).
				SetOrderRef(r.OrderRef).SetAmountMinor(r.AmountMinor).SetCommissionMinor(commission).SetFeeMinor(fee).
				SetCurrency(r.Currency).SetOccurredAt(at).SetAvailableAt(at.Add(cfg.RefundWindow)).
				SetClickID(click.ID).SetIdempotencyKey(key).SetRequestHash(r.hash()).SetCreatedAt(now)
			if click.UserID != "" {
				cc.SetUserID(click.UserID)
			}
			if commission > 0 {
				entries := []ledger.Entry{{Account: partnerAcc, Amount: -commission}}
				if net > 0 {
					entries = append(entries, ledger.Entry{Account: pending, Amount: net})
				}
				if fee > 0 {
					entries = append(entries, ledger.Entry{Account: platform, Amount: fee})
				}
				lt, err := b.Post(ctx, ledger.Posting{Key: key, Kind: ledger.KindCommission, Hash: r.hash(), At: now,
					Memo: fmt.Sprintf("commission on order %s via %s", r.OrderRef, r.LinkCode), Entries: entries})
				if err != nil {
					return nil, err
				}
				cc.SetTransactionID(lt.ID)
			}
			return cc.Save(ctx)
		},
	})
	if err != nil {
		if ent.IsConstraintError(err) {
			return nil, false, apperr.Wrap(apperr.Conflict, err, fmt.Sprintf("order %q was already recorded", r.OrderRef))
		}
		return nil, false, fmt.Errorf("record conversion: %w", err)
	}
	return cv, replayed, nil
}

// Release makes every pending commission whose refund window ended by now
// available, each in its own transaction. It is idempotent and safe to run
// concurrently; it returns how many it released.
func Release(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	due, err := client.Conversion.Query().Where(conversion.StatusEQ(conversion.StatusPENDING), conversion.AvailableAtLTE(now)).
		Limit(10000).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("release commissions: %w", err)
	}
	n := 0
	for _, cv := range due {
		net := cv.CommissionMinor - cv.FeeMinor
		pending := ledger.Creator(cv.InfluencerID, ledger.Pending, cv.Currency)
		avail := ledger.Creator(cv.InfluencerID, ledger.Available, cv.Currency)
		err := ledger.Exec(ctx, client, []ledger.Account{pending, avail}, func(ctx context.Context, b *ledger.Book) error {
			k, err := b.Tx.Conversion.Update().Where(conversion.ID(cv.ID), conversion.StatusEQ(conversion.StatusPENDING)).
				SetStatus(conversion.StatusAVAILABLE).Save(ctx)
			if err != nil || k == 0 {
				return err // released or reversed meanwhile
			}
			n++
			if net <= 0 {
				return nil
			}
			_, err = b.Post(ctx, ledger.Posting{Key: "release:" + string(cv.ID), Kind: ledger.KindCommissionRelease, At: now,
				Memo:    "refund window of " + string(cv.ID) + " ended",
				Entries: []ledger.Entry{{Account: pending, Amount: -net}, {Account: avail, Amount: net}}})
			return err
		})
		if err != nil {
			return n, fmt.Errorf("release %s: %w", cv.ID, err)
		}
	}
	return n, nil
}

// Reverse claws a conversion's commission back (a refund or a chargeback),
// whether it is still pending or already available: the creator's balance
// may go negative and is netted against later earnings. The same key returns
// the same result; reversing an already reversed conversion with another key
// is a CONFLICT.
func Reverse(ctx context.Context, client *ent.Client, id pulid.ID, reason, idempotencyKey string, now time.Time) (*ent.Conversion, bool, error) {
	if err := ledger.CheckKey(idempotencyKey); err != nil {
		return nil, false, err
	}
	if len(reason) > 500 {
		return nil, false, apperr.Errorf(apperr.BadInput, "reason is longer than 500 characters")
	}
	key := "rev:" + idempotencyKey
	hash := ledger.Hash("reverse", id)
	cv, err := client.Conversion.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, false, apperr.Errorf(apperr.NotFound, "conversion %s not found", id)
	}
	if err != nil {
		return nil, false, fmt.Errorf("reverse conversion: %w", err)
	}
	net := cv.CommissionMinor - cv.FeeMinor
	partnerAcc := ledger.Partner(cv.PartnerID, cv.Currency)
	platform := ledger.Platform(cv.Currency)
	pending := ledger.Creator(cv.InfluencerID, ledger.Pending, cv.Currency)
	avail := ledger.Creator(cv.InfluencerID, ledger.Available, cv.Currency)
	out, replayed, err := ledger.Once(ctx, client, ledger.Op[*ent.Conversion]{
		Hash:     hash,
		Accounts: []ledger.Account{partnerAcc, platform, pending, avail},
		Lookup: func(ctx context.Context, c *ent.Client) (*ent.Conversion, string, bool, error) {
			cv, err := c.Conversion.Query().Where(conversion.ReversalKey(key)).Only(ctx)
			if ent.IsNotFound(err) {
				return nil, "", false, nil
			}
			if err != nil {
				return nil, "", false, err
			}
			return cv, ledger.Hash("reverse", cv.ID), true, nil
		},
		Do: func(ctx context.Context, b *ledger.Book) (*ent.Conversion, error) {
			cur, err := b.Tx.Conversion.Query().Where(conversion.ID(id), ledger.ForUpdate[predicate.Conversion]()).Unique(false).Only(ctx)
			if err != nil {
				return nil, err
			}
			if cur.Status == conversion.StatusREVERSED {
				return nil, apperr.Errorf(apperr.Conflict, "conversion %s is already reversed", id)
			}
			from := pending
			if cur.Status == conversion.StatusAVAILABLE {
				from = avail
			}
			if cur.CommissionMinor > 0 {
				entries := []ledger.Entry{{Account: partnerAcc, Amount: cur.CommissionMinor}}
				if net > 0 {
					entries = append(entries, ledger.Entry{Account: from, Amount: -net})
				}
				if cur.FeeMinor > 0 {
					entries = append(entries, ledger.Entry{Account: platform, Amount: -cur.FeeMinor})
				}
				if _, err := b.Post(ctx, ledger.Posting{Key: key, Kind: ledger.KindCommissionReverse, Hash: hash, At: now,
					Memo: "reversal of " + string(id) + ": " + reason, Entries: entries}); err != nil {
					return nil, err
				}
			}
			return b.Tx.Conversion.UpdateOneID(id).SetStatus(conversion.StatusREVERSED).SetReversalKey(key).
				SetReversalReason(strings.TrimSpace(reason)).SetReversedAt(now).Save(ctx)
		},
	})
	if err != nil {
		return nil, false, fmt.Errorf("reverse conversion: %w", err)
	}
	return out, replayed, nil
}
