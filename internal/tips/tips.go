// Package tips lets fans send money to creators. A tip is one ledger
// transaction: the fan pays the amount, the platform keeps its take rate and
// the creator's available balance gets the rest.
package tips

import (
	"context"
	"database/sql"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/tip"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
)

// Config sets the platform's tipping rules.
type Config struct {
	// TakeBps is the platform's default take rate in basis points; a
	// creator's take_rate_bps overrides it.
	TakeBps int
	// MaxTipMajor bounds one tip, in major units of its currency (dollars).
	MaxTipMajor int64
	// DailyLimitMajor bounds what one fan tips in one currency over the
	// trailing 24 hours, in major units.
	DailyLimitMajor int64
	// MaxMessage bounds the message, in characters.
	MaxMessage int
}

// DefaultConfig is what the server uses: a 10% take, tips up to 1,000 and
// 5,000 per fan per day.
func DefaultConfig() Config {
	return Config{TakeBps: 1000, MaxTipMajor: 1000, DailyLimitMajor: 5000, MaxMessage: 280}
}

// Request is a tip to send.
type Request struct {
	UserID, InfluencerID pulid.ID
	AmountMinor          int64
	Currency             string
	Message              string
	// IdempotencyKey makes retries safe: the same key returns the same tip.
	IdempotencyKey string
}

func (r Request) hash() string {
	return ledger.Hash("tip", r.UserID, r.InfluencerID, r.AmountMinor, r.Currency, r.Message)
}

// Send posts a tip. A replay of the key returns the first tip (replayed is
// true) and moves nothing; the key with other parameters is CONFLICT.
// Zero, negative or over-limit amounts, unknown currencies, unknown parties
// and tipping oneself (a fan whose handle is the creator's) are BAD_INPUT or
// NOT_FOUND and post nothing.
func Send(ctx context.Context, client *ent.Client, cfg Config, r Request, now time.Time) (t *ent.Tip, replayed bool, err error) {
	if err := ledger.CheckKey(r.IdempotencyKey); err != nil {
		return nil, false, err
	}
	if err := ledger.CheckCurrency(r.Currency); err != nil {
		return nil, false, err
	}
	if r.AmountMinor <= 0 {
		return nil, false, apperr.Errorf(apperr.BadInput, "amountMinor must be positive")
	}
	if max := ledger.MajorToMinor(cfg.MaxTipMajor, r.Currency); r.AmountMinor > max {
		return nil, false, apperr.Errorf(apperr.BadInput, "a tip may be at most %d minor units of %s", max, r.Currency)
	}
	if utf8.RuneCountInString(r.Message) > cfg.MaxMessage {
		return nil, false, apperr.Errorf(apperr.BadInput, "message is longer than %d characters", cfg.MaxMessage)
	}
	key := "tip:" + r.IdempotencyKey
	lookup := func(ctx context.Context, c *ent.Client) (*ent.Tip, string, bool, error) {
		t, err := c.Tip.Query().Where(tip.IdempotencyKey(key)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, "", false, nil
		}
		if err != nil {
			return nil, "", false, fmt.Errorf("tip by key: %w", err)
		}
		h := Request{UserID: t.UserID, InfluencerID: t.InfluencerID, AmountMinor: t.AmountMinor, Currency: t.Currency, Message: t.Message}.hash()
		return t, h, true, nil
	}
	// A replay must not fail because the parties changed since; look it up first.
	if t, h, found, err := lookup(ctx, client); err != nil {
		return nil, false, err
	} else if found {
		if h != r.hash() {
			return nil, true, apperr.Errorf(apperr.Conflict, "idempotencyKey was already used with different parameters")
		}
		return t, true, nil
	}
	fan, err := client.User.Query().Where(user.ID(r.UserID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, false, apperr.Errorf(apperr.NotFound, "user %s not found", r.UserID)
	} else if err != nil {
		return nil, false, fmt.Errorf("send tip: %w", err)
	}
	inf, err := client.Influencer.Query().Where(influencer.ID(r.InfluencerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, false, apperr.Errorf(apperr.NotFound, "influencer %s not found", r.InfluencerID)
	} else if err != nil {
		return nil, false, fmt.Errorf("send tip: %w", err)
	}
	if fan.Handle == inf.Handle {
		return nil, false, apperr.Errorf(apperr.BadInput, "a creator cannot tip themselves")
	}
	take := cfg.TakeBps
	if inf.TakeRateBps != nil {
		take = *inf.TakeRateBps
	}
	fee := ledger.Share(r.AmountMinor, take)
	fanAcc := ledger.Fan(r.UserID, r.Currency)
	creator := ledger.Creator(r.InfluencerID, ledger.Available, r.Currency)
	platform := ledger.Platform(r.Currency)
	t, replayed, err = ledger.Once(ctx, client, ledger.Op[*ent.Tip]{
		Hash:     r.hash(),
		Accounts: []ledger.Account{fanAcc, creator, platform},
		Lookup:   lookup,
		Do: func(ctx context.Context, b *ledger.Book) (*ent.Tip, error) {
			// The fan's account is locked, so their tips are counted one at a time.
			var sums []struct {
				Sum sql.NullInt64 `json:"sum"`
			}
			err := b.Tx.Tip.Query().Where(tip.UserID(r.UserID), tip.Currency(r.Currency), tip.CreatedAtGT(now.Add(-24*time.Hour))).
				Aggregate(ent.Sum(tip.FieldAmountMinor)).Scan(ctx, &sums)
			if err != nil {
				return nil, fmt.Errorf("tips today: %w", err)
			}
			today := int64(0)
			if len(sums) > 0 {
				today = sums[0].Sum.Int64
			}
			limit := ledger.MajorToMinor(cfg.DailyLimitMajor, r.Currency)
			if total, err := ledger.Add(today, r.AmountMinor); err != nil || total > limit {
				return nil, apperr.Errorf(apperr.BadInput, "daily tip limit of %d minor units of %s reached", limit, r.Currency)
			}
			entries := []ledger.Entry{{Account: fanAcc, Amount: -r.AmountMinor}}
			if share := r.AmountMinor - fee; share > 0 {
				entries = append(entries, ledger.Entry{Account: creator, Amount: share})
			}
			if fee > 0 {
				entries = append(entries, ledger.Entry{Account: platform, Amount: fee})
			}
			lt, err := b.Post(ctx, ledger.Posting{Key: key, Kind: ledger.KindTip, Hash: r.hash(), At: now,
				Memo: fmt.Sprintf("tip from %s to %s", r.UserID, r.InfluencerID), Entries: entries})
			if err != nil {
				return nil, err
			}
			return b.Tx.Tip.Create().SetUserID(r.UserID).SetInfluencerID(r.InfluencerID).
				SetAmountMinor(r.AmountMinor).SetFeeMinor(fee).SetCurrency(r.Currency).SetMessage(r.Message).
				SetIdempotencyKey(key).SetTransactionID(lt.ID).SetCreatedAt(now).Save(ctx)
		},
	})
	if err != nil {
		return nil, false, fmt.Errorf("send tip: %w", err)
	}
	return t, replayed, nil
}
