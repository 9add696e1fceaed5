package ledger_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/ledgertransaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/ledger"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

func TestPostingValidate(t *testing.T) {
	usd := func(owner string, amt int64) ledger.Entry {
		return ledger.Entry{Account: ledger.Creator(pulid.ID("IN"+owner), ledger.Available, "USD"), Amount: amt}
	}
	cases := []struct {
		name    string
		entries []ledger.Entry
		ok      bool
	}{
		{"balanced", []ledger.Entry{usd("a", 5), usd("b", -5)}, true},
		{"three-way", []ledger.Entry{usd("a", 5), usd("b", -7), usd("c", 2)}, true},
		{"one entry", []ledger.Entry{usd("a", 0)}, false},
		{"unbalanced", []ledger.Entry{usd("a", 5), usd("b", -4)}, false},
		{"zero entry", []ledger.Entry{usd("a", 5), usd("b", -5), usd("c", 0)}, false},
		{"balanced across currencies only", []ledger.Entry{usd("a", 5), {Account: ledger.Platform("EUR"), Amount: -5}}, false},
		{"unknown currency", []ledger.Entry{{Account: ledger.Platform("XXY"), Amount: 1}, {Account: ledger.Platform("XXY"), Amount: -1}}, false},
		{"overflowing sum", []ledger.Entry{usd("a", math.MaxInt64), usd("b", 1), usd("c", math.MinInt64)}, false},
	}
	for _, c := range cases {
		err := ledger.Posting{Key: "k", Kind: "test", Entries: c.entries}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}

func TestArithmetic(t *testing.T) {
	if got := ledger.Share(math.MaxInt64, 9999); got != ledger.MulDiv(math.MaxInt64, 9999, 10000) || got <= 0 {
		t.Fatalf("Share overflowed: %d", got)
	}
	if got := ledger.Share(999, 500); got != 49 {
		t.Fatalf("Share(999, 5%%) = %d", got)
	}
	if _, err := ledger.Add(math.MaxInt64, 1); err == nil {
		t.Fatal("Add did not detect overflow")
	}
	if _, err := ledger.Add(math.MinInt64, -1); err == nil {
		t.Fatal("Add did not detect underflow")
	}
	if got := ledger.MajorToMinor(1000, "JPY"); got != 1000 {
		t.Fatalf("JPY has no minor unit: %d", got)
	}
	if got := ledger.MajorToMinor(1000, "BHD"); got != 1_000_000 {
		t.Fatalf("BHD has three digits: %d", got)
	}
	if got := ledger.MajorToMinor(math.MaxInt64/2, "USD"); got != math.MaxInt64 {
		t.Fatalf("MajorToMinor did not saturate: %d", got)
	}
}

func post(ctx context.Context, c *ent.Client, key string, amt int64) error {
	a, b := ledger.Creator("INa", ledger.Available, "USD"), ledger.Creator("INb", ledger.Available, "USD")
	return ledger.Exec(ctx, c, []ledger.Account{a, b}, func(ctx context.Context, bk *ledger.Book) error {
		_, err := bk.Post(ctx, ledger.Posting{Key: key, Kind: "test", Entries: []ledger.Entry{{Account: a, Amount: -amt}, {Account: b, Amount: amt}}})
		return err
	})
}

func TestBalanceOverflowRejected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := post(ctx, st.Client, "k1", math.MaxInt64); err != nil {
			t.Fatal(err)
		}
		err := post(ctx, st.Client, "k2", 1)
		if apperr.CodeOf(err) != apperr.BadInput {
			t.Fatalf("overflowing balance: err = %v", err)
		}
		if n := st.Client.LedgerTransaction.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d transactions, want 1", n)
		}
		if err := post(ctx, st.Client, "k1", -5); !ent.IsConstraintError(err) {
			t.Fatalf("a reused key must not post twice: %v", err)
		}
		if err := ledger.Check(ctx, st.Client); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOnceRace: requests sharing a key but touching different accounts do
// not serialise on locks, so all but one lose the race on the unique key;
// each loser must come back with CONFLICT (other parameters) or the winner's
// result (same parameters), never an internal error.
func TestOnceRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const n = 24
		type res struct {
			id       string
			replayed bool
			err      error
		}
		out := make([]res, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Half the requests are identical; the others use other accounts.
				owner := "INsame"
				if i%2 == 1 {
					owner = fmt.Sprint("INother", i)
				}
				a, b := ledger.Creator("INsrc", ledger.Available, "EUR"), ledger.Creator(pulid.ID(owner), ledger.Available, "EUR")
				hash := ledger.Hash(owner)
				lookup := func(ctx context.Context, c *ent.Client) (string, string, bool, error) {
					t, err := c.LedgerTransaction.Query().Where(ledgertransaction.IdempotencyKey("race")).Only(ctx)
					if ent.IsNotFound(err) {
						return "", "", false, nil
					}
					if err != nil {
						return "", "", false, err
					}
					return string(t.ID), t.RequestHash, true, nil
				}
				if i%2 == 1 { // other accounts: do not queue behind the same locks
					a = ledger.Creator(pulid.ID(fmt.Sprint("INsrc", i)), ledger.Available, "EUR")
				}
				id, replayed, err := ledger.Once(ctx, st.Client, ledger.Op[string]{Hash: hash, Accounts: []ledger.Account{a, b}, Lookup: lookup,
					Do: func(ctx context.Context, bk *ledger.Book) (string, error) {
						tx, err := bk.Post(ctx, ledger.Posting{Key: "race", Kind: "test", Hash: hash,
							Entries: []ledger.Entry{{Account: a, Amount: -1}, {Account: b, Amount: 1}}})
						if err != nil {
							return "", err
						}
						return string(tx.ID), nil
					}})
				out[i] = res{id, replayed, err}
			}()
		}
		wg.Wait()
		winners := 0
		var winner string
		for i, r := range out {
			switch {
			case r.err == nil && !r.replayed:
				winners++
				winner = r.id
			case r.err == nil:
			case apperr.CodeOf(r.err) == apperr.Conflict:
			default:
				t.Fatalf("request %d: %v", i, r.err)
			}
		}
		if winners != 1 {
			t.Fatalf("%d requests posted, want 1", winners)
		}
		for i, r := range out {
			if r.err == nil && r.id != winner {
				t.Fatalf("request %d got %s, winner %s", i, r.id, winner)
			}
		}
		if n := st.Client.LedgerTransaction.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d transactions", n)
		}
		if err := ledger.Check(ctx, st.Client); err != nil {
			t.Fatal(err)
		}
	})
}
