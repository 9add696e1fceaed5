// Package payouts pays creators their available balances, exactly once per
// run, and reports what they earned. A run moves each eligible creator's
// available balance into their "payout" bucket; marking the payout paid sends
// it out of the platform, marking it failed returns it to available.
package payouts

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/ledgeraccount"
	"github.com/limelight-hq/limelight/ent/ledgerentry"
	"github.com/limelight-hq/limelight/ent/payout"
	"github.com/limelight-hq/limelight/ent/payoutrun"
	"github.com/limelight-hq/limelight/ent/predicate"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/commerce"
	"github.com/limelight-hq/limelight/internal/ledger"
)

// RunRequest asks for a payout run.
type RunRequest struct {
	// Currency is the currency to pay out.
	Currency string
	// MinimumMinor is the smallest available balance that is paid (at least 1).
	MinimumMinor int64
	// IdempotencyKey names the run: repeating it pays nothing new.
	IdempotencyKey string
}

func (r RunRequest) hash() string { return ledger.Hash("payout-run", r.Currency, r.MinimumMinor) }

// Run pays every creator whose available balance in the currency is at least
// the minimum: the whole balance moves to the creator's payout bucket and a
// PENDING payout records it. Matured commissions are released first. A run
// repeated with the same key returns the first run and pays nothing new; the
// key with another currency or minimum is CONFLICT. Concurrent runs with
// different keys never pay the same money twice (balances are locked).
func Run(ctx context.Context, client *ent.Client, r RunRequest, now time.Time) (*ent.PayoutRun, bool, error) {
	if err := ledger.CheckKey(r.IdempotencyKey); err != nil {
		return nil, false, err
	}
	if err := ledger.CheckCurrency(r.Currency); err != nil {
		return nil, false, err
	}
	if r.MinimumMinor < 0 {
		return nil, false, apperr.Errorf(apperr.BadInput, "minimumMinor must not be negative")
	}
	min := max(r.MinimumMinor, 1)
	key := "run:" + r.IdempotencyKey
	lookup := func(ctx context.Context, c *ent.Client) (*ent.PayoutRun, string, bool, error) {
		run, err := c.PayoutRun.Query().Where(payoutrun.IdempotencyKey(key)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, "", false, nil
		}
		if err != nil {
			return nil, "", false, fmt.Errorf("payout run by key: %w", err)
		}
		return run, run.RequestHash, true, nil
	}
	if run, h, found, err := lookup(ctx, client); err != nil {
		return nil, false, err
	} else if found {
		if h != r.hash() {
			return nil, true, apperr.Errorf(apperr.Conflict, "idempotencyKey was already used with different parameters")
		}
		return run, true, nil
	}
	if _, err := commerce.Release(ctx, client, now); err != nil {
		return nil, false, fmt.Errorf("payout run: %w", err)
	}
	cands, err := client.LedgerAccount.Query().Where(ledgeraccount.OwnerTypeEQ(ledgeraccount.OwnerTypeCREATOR),
		ledgeraccount.Bucket(ledger.Available), ledgeraccount.Currency(r.Currency), ledgeraccount.BalanceMinorGTE(min)).
		Order(ledgeraccount.ByOwnerID()).All(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("payout run: %w", err)
	}
	var accounts []ledger.Account
	for _, c := range cands {
		id := pulid.ID(c.OwnerID)
		accounts = append(accounts, ledger.Creator(id, ledger.Available, r.Currency), ledger.Creator(id, ledger.InPayout, r.Currency))
	}
	run, replayed, err := ledger.Once(ctx, client, ledger.Op[*ent.PayoutRun]{
		Hash: r.hash(), Accounts: accounts, Lookup: lookup,
		Do: func(ctx context.Context, b *ledger.Book) (*ent.PayoutRun, error) {
			run, err := b.Tx.PayoutRun.Create().SetIdempotencyKey(key).SetRequestHash(r.hash()).
				SetCurrency(r.Currency).SetMinimumMinor(r.MinimumMinor).SetCreatedAt(now).Save(ctx)
			if err != nil {
				return nil, err
			}
			var total int64
			count := 0
			for _, c := range cands {
				id := pulid.ID(c.OwnerID)
				avail := ledger.Creator(id, ledger.Available, r.Currency)
				bal, err := b.Balance(avail) // re-read under the lock
				if err != nil {
					return nil, err
				}
				if bal < min {
					continue
				}
				lt, err := b.Post(ctx, ledger.Posting{Key: "payout:" + string(run.ID) + ":" + string(id), Kind: ledger.KindPayout,
					Hash: r.hash(), At: now, Memo: "payout run " + r.IdempotencyKey,
					Entries: []ledger.Entry{{Account: avail, Amount: -bal}, {Account: ledger.Creator(id, ledger.InPayout, r.Currency), Amount: bal}}})
				if err != nil {
					return nil, err
				}
				if err := b.Tx.Payout.Create().SetInfluencerID(id).SetRunID(run.ID).SetRunKey(key).SetAmountMinor(bal).
					SetCurrency(r.Currency).SetTransactionID(lt.ID).SetCreatedAt(now).Exec(ctx); err != nil {
					return nil, err
				}
				if total, err = ledger.Add(total, bal); err != nil {
					return nil, err
				}
				count++
			}
			return b.Tx.PayoutRun.UpdateOneID(run.ID).SetTotalMinor(total).SetCount(count).Save(ctx)
		},
	})
	if err != nil {
		return nil, false, fmt.Errorf("payout run: %w", err)
	}
	return run, replayed, nil
}

// MarkPaid records that a pending payout reached the creator: the money
// leaves the platform. Marking it paid again with the same externalRef
// returns it unchanged; another externalRef, or a failed payout, is CONFLICT.
func MarkPaid(ctx context.Context, client *ent.Client, id pulid.ID, externalRef string, now time.Time) (*ent.Payout, error) {
	if externalRef == "" || len(externalRef) > 200 {
		return nil, apperr.Errorf(apperr.BadInput, "externalRef must be 1-200 characters")
	}
	return settle(ctx, client, id, now, payout.StatusPAID, externalRef)
}

// MarkFailed records that a pending payout bounced: the money returns to the
// creator's available balance, to be paid by a later run. Marking it failed
// again returns it unchanged; a paid payout cannot fail (CONFLICT).
func MarkFailed(ctx context.Context, client *ent.Client, id pulid.ID, reason string, now time.Time) (*ent.Payout, error) {
	if reason == "" || len(reason) > 500 {
		return nil, apperr.Errorf(apperr.BadInput, "reason must be 1-500 characters")
	}
	return settle(ctx, client, id, now, payout.StatusFAILED, reason)
}

func settle(ctx context.Context, client *ent.Client, id pulid.ID, now time.Time, to payout.Status, detail string) (*ent.Payout, error) {
	p, err := client.Payout.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "payout %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("settle payout: %w", err)
	}
	inPayout := ledger.Creator(p.InfluencerID, ledger.InPayout, p.Currency)
	dest, kind := ledger.External(p.Currency), ledger.KindPayoutPaid
	if to == payout.StatusFAILED {
		dest, kind = ledger.Creator(p.InfluencerID, ledger.Available, p.Currency), ledger.KindPayoutFailed
	}
	var out *ent.Payout
	err = ledger.Exec(ctx, client, []ledger.Account{inPayout, dest}, func(ctx context.Context, b *ledger.Book) error {
		cur, err := b.Tx.Payout.Query().Where(payout.ID(id), ledger.ForUpdate[predicate.Payout]()).Unique(false).Only(ctx)
		if err != nil {
			return err
		}
		same := (to == payout.StatusPAID && cur.ExternalRef == detail) || (to == payout.StatusFAILED && cur.FailureReason == detail)
		switch {
		case cur.Status == to && same:
			out = cur
			return nil
		case cur.Status != payout.StatusPENDING:
			return apperr.Errorf(apperr.Conflict, "payout %s is already %s", id, cur.Status)
		}
		if _, err := b.Post(ctx, ledger.Posting{Key: kind + ":" + string(id), Kind: kind, At: now, Memo: detail,
			Entries: []ledger.Entry{{Account: inPayout, Amount: -cur.AmountMinor}, {Account: dest, Amount: cur.AmountMinor}}}); err != nil {
			return err
		}
		u := b.Tx.Payout.UpdateOneID(id).SetStatus(to).SetSettledAt(now)
		if to == payout.StatusPAID {
			u.SetExternalRef(detail)
		} else {
			u.SetFailureReason(detail)
		}
		out, err = u.Save(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("settle payout %s: %w", id, err)
	}
	return ledger.Unwrap(out), nil
}

// Earnings is what a creator earned in one currency.
type Earnings struct {
	Currency string
	// Ads, Commissions (net of reversals) and Tips earned in the window,
	// after the platform's take; Total is their sum.
	Ads, Commissions, Tips, Total int64
	// PaidOut is what payouts sent out in the window.
	PaidOut int64
	// Pending (inside the refund window), Available (payable) and InPayout
	// (in a run, not yet paid) are current balances.
	Pending, Available, InPayout int64
}

// ForInfluencer reports a creator's earnings between from and to (posting
// time, half-open), by currency, with current balances. Commissions whose
// refund window has ended are released first.
func ForInfluencer(ctx context.Context, client *ent.Client, influencerID pulid.ID, from, to, now time.Time) ([]Earnings, error) {
	if !from.Before(to) {
		return nil, apperr.Errorf(apperr.BadInput, "from must be before to")
	}
	if ok, err := client.Influencer.Query().Where(influencer.ID(influencerID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("earnings: %w", err)
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "influencer %s not found", influencerID)
	}
	if _, err := commerce.Release(ctx, client, now); err != nil {
		return nil, fmt.Errorf("earnings: %w", err)
	}
	accs, err := client.LedgerAccount.Query().Where(ledgeraccount.OwnerTypeEQ(ledgeraccount.OwnerTypeCREATOR),
		ledgeraccount.OwnerID(string(influencerID))).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("earnings: %w", err)
	}
	byCur := map[string]*Earnings{}
	get := func(cur string) *Earnings {
		if e, ok := byCur[cur]; ok {
			return e
		}
		e := &Earnings{Currency: cur}
		byCur[cur] = e
		return e
	}
	accByID := map[pulid.ID]*ent.LedgerAccount{}
	ids := make([]pulid.ID, 0, len(accs))
	for _, a := range accs {
		accByID[a.ID] = a
		ids = append(ids, a.ID)
		e := get(a.Currency)
		switch a.Bucket {
		case ledger.Pending:
			e.Pending = a.BalanceMinor
		case ledger.Available:
			e.Available = a.BalanceMinor
		case ledger.InPayout:
			e.InPayout = a.BalanceMinor
		}
	}
	if len(ids) > 0 {
		var rows []struct {
			AccountID pulid.ID `json:"account_id"`
			Kind      string   `json:"kind"`
			Sum       int64    `json:"sum"`
		}
		err := client.LedgerEntry.Query().Where(ledgerentry.AccountIDIn(ids...), ledgerentry.CreatedAtGTE(from), ledgerentry.CreatedAtLTE(to)).
			GroupBy(ledgerentry.FieldAccountID, ledgerentry.FieldKind).Aggregate(ent.Sum(ledgerentry.FieldAmountMinor)).Scan(ctx, &rows)
		if err != nil {
			return nil, fmt.Errorf("earnings: %w", err)
		}
		for _, r := range rows {
			a := accByID[r.AccountID]
			e := get(a.Currency)
			switch r.Kind {
			case ledger.KindAdSpend:
				e.Ads += r.Sum
			case ledger.KindCommission, ledger.KindCommissionReverse:
				e.Commissions += r.Sum
			case ledger.KindTip:
				e.Tips += r.Sum
			case ledger.KindPayoutPaid:
				if a.Bucket == ledger.InPayout {
					e.PaidOut -= r.Sum
				}
			}
		}
	}
	out := make([]Earnings, 0, len(byCur))
	for _, e := range byCur {
		e.Total = e.Ads + e.Commissions + e.Tips
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Earnings) int {
		if a.Currency < b.Currency {
			return -1
		}
		if a.Currency > b.Currency {
			return 1
		}
		return 0
	})
	return out, nil
}
