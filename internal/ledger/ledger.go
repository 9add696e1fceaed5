// Package ledger is Limelight's double-entry book. Every movement of money is
// a transaction of two or more entries that sum to zero per currency; a
// transaction is immutable (a correction is a new transaction) and carries a
// unique idempotency key. Amounts are int64 minor units of an ISO 4217
// currency, and any sum that would overflow is rejected.
//
// Accounts belong to an owner (the platform, a creator, a partner, a fan, or
// the outside world) and hold one currency in one bucket (a creator has
// "pending", "available" and "payout"). Each account caches its balance,
// updated in the transaction that posts to it while the account row is locked
// (PostgreSQL: SELECT ... FOR UPDATE in account-ID order, so concurrent
// postings cannot deadlock; SQLite: the store's immediate transactions admit
// one writer at a time), so a balance always equals the sum of its entries.
//
// Sign convention: an entry adds its amount to the account. Money a fan or a
// partner paid in shows as a negative balance of their "paid"/"spend"
// account; money that left the platform shows as a positive balance of the
// external "settled" account.
package ledger

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/ledgeraccount"
	"github.com/limelight-hq/limelight/ent/ledgertransaction"
	"github.com/limelight-hq/limelight/ent/predicate"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/metrics"
	"github.com/limelight-hq/limelight/internal/store"
)

// Buckets an account can hold money in.
const (
	// Available is money a creator can be paid out.
	Available = "available"
	// Pending is money a creator earned that may still be refunded.
	Pending = "pending"
	// InPayout is money on its way to a creator's bank.
	InPayout = "payout"
	// Revenue is the platform's income.
	Revenue = "revenue"
	// Spend is what a partner paid for ads and commissions (negative).
	Spend = "spend"
	// Paid is what a fan paid in tips (negative).
	Paid = "paid"
	// Settled is what left the platform through payouts.
	Settled = "settled"
)

// Transaction kinds. Earnings are reported by kind.
const (
	KindTip               = "tip"
	KindAdSpend           = "ad_spend"
	KindCommission        = "commission"
	KindCommissionRelease = "commission_release"
	KindCommissionReverse = "commission_reversal"
	KindPayout            = "payout"
	KindPayoutPaid        = "payout_paid"
	KindPayoutFailed      = "payout_failed"
)

// Account names one account: owner, bucket and currency.
type Account struct {
	OwnerType ledgeraccount.OwnerType
	OwnerID   string
	Bucket    string
	Currency  string
}

// String names the account as OWNER_TYPE:owner:bucket:CUR, for logs and errors.
func (a Account) String() string {
	return fmt.Sprintf("%s:%s:%s:%s", a.OwnerType, a.OwnerID, a.Bucket, a.Currency)
}

// Platform is the platform's revenue account.
func Platform(cur string) Account {
	return Account{OwnerType: ledgeraccount.OwnerTypePLATFORM, Bucket: Revenue, Currency: cur}
}

// Creator is one of a creator's buckets (Pending, Available, InPayout).
func Creator(id pulid.ID, bucket, cur string) Account {
	return Account{OwnerType: ledgeraccount.OwnerTypeCREATOR, OwnerID: string(id), Bucket: bucket, Currency: cur}
}

// Partner is a partner's spend account.
func Partner(id pulid.ID, cur string) Account {
	return Account{OwnerType: ledgeraccount.OwnerTypePARTNER, OwnerID: string(id), Bucket: Spend, Currency: cur}
}

// Fan is a fan's paid-in account.
func Fan(id pulid.ID, cur string) Account {
	return Account{OwnerType: ledgeraccount.OwnerTypeFAN, OwnerID: string(id), Bucket: Paid, Currency: cur}
}

// External is where payouts go.
func External(cur string) Account {
	return Account{OwnerType: ledgeraccount.OwnerTypeEXTERNAL, Bucket: Settled, Currency: cur}
}

// Entry adds Amount (negative: takes it away) to Account.
type Entry struct {
	Account Account
	Amount  int64
}

// Posting is a transaction to write.
type Posting struct {
	// Key is the transaction's unique idempotency key.
	Key string
	// Kind says what the money is for (KindTip, ...).
	Kind string
	// Hash fingerprints the request (see Hash).
	Hash string
	// Memo is free text for people reading the books.
	Memo string
	// At is when the transaction happened.
	At time.Time
	// Entries move the money; they must sum to zero per currency.
	Entries []Entry
}

// Validate checks a posting without touching the database: at least two
// non-zero entries in valid currencies, summing to zero per currency, with no
// overflow.
func (p Posting) Validate() error {
	if p.Key == "" || len(p.Key) > 200 {
		return apperr.Errorf(apperr.BadInput, "transaction key must be 1-200 characters")
	}
	if p.Kind == "" {
		return apperr.Errorf(apperr.Internal, "transaction kind is required")
	}
	if len(p.Entries) < 2 {
		return apperr.Errorf(apperr.BadInput, "a transaction needs at least two entries")
	}
	sums := map[string]int64{}
	for _, e := range p.Entries {
		if err := CheckCurrency(e.Account.Currency); err != nil {
			return err
		}
		if e.Amount == 0 {
			return apperr.Errorf(apperr.BadInput, "entry for %s has no amount", e.Account)
		}
		s, err := Add(sums[e.Account.Currency], e.Amount)
		if err != nil {
			return err
		}
		sums[e.Account.Currency] = s
	}
	for cur, s := range sums {
		if s != 0 {
			return apperr.Errorf(apperr.BadInput, "entries in %s sum to %d, not zero", cur, s)
		}
	}
	return nil
}

// Book is a database transaction holding locks on a set of accounts.
type Book struct {
	// Tx is the database transaction; services write their own rows through it.
	Tx       *ent.Tx
	accounts map[Account]*ent.LedgerAccount
	posted   []string // kinds, counted once the transaction commits
}

// Balance is the current balance of a locked account.
func (b *Book) Balance(a Account) (int64, error) {
	acc, ok := b.accounts[a]
	if !ok {
		return 0, fmt.Errorf("ledger: account %s is not locked", a)
	}
	return acc.BalanceMinor, nil
}

// Post writes a balanced transaction and updates the balances of its
// accounts, all of which must be locked by this book.
func (b *Book) Post(ctx context.Context, p Posting) (*ent.LedgerTransaction, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.At.IsZero() {
		p.At = time.Now().UTC()
	}
	// New balances first, so an overflow leaves nothing written.
	next := map[Account]int64{}
	for _, e := range p.Entries {
		acc, ok := b.accounts[e.Account]
		if !ok {
			return nil, fmt.Errorf("ledger: account %s is not locked", e.Account)
		}
		cur, seen := next[e.Account]
		if !seen {
			cur = acc.BalanceMinor
		}
		nb, err := Add(cur, e.Amount)
		if err != nil {
			return nil, apperr.Errorf(apperr.BadInput, "balance of %s would overflow", e.Account)
		}
		next[e.Account] = nb
	}
	t, err := b.Tx.LedgerTransaction.Create().
		SetIdempotencyKey(p.Key).SetKind(p.Kind).SetRequestHash(p.Hash).
		SetMemo(truncate(p.Memo, 500)).SetCreatedAt(p.At.UTC()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", p.Kind, err)
	}
	creates := make([]*ent.LedgerEntryCreate, len(p.Entries))
	for i, e := range p.Entries {
		creates[i] = b.Tx.LedgerEntry.Create().SetTransactionID(t.ID).
			SetAccountID(b.accounts[e.Account].ID).SetAmountMinor(e.Amount).
			SetCurrency(e.Account.Currency).SetKind(p.Kind).SetCreatedAt(p.At.UTC())
	}
	if err := b.Tx.LedgerEntry.CreateBulk(creates...).Exec(ctx); err != nil {
		return nil, fmt.Errorf("post %s entries: %w", p.Kind, err)
	}
	for a, nb := range next {
		acc := b.accounts[a]
		if err := b.Tx.LedgerAccount.UpdateOneID(acc.ID).SetBalanceMinor(nb).Exec(ctx); err != nil {
			return nil, fmt.Errorf("post %s balance: %w", p.Kind, err)
		}
		acc.BalanceMinor = nb
	}
	b.posted = append(b.posted, p.Kind)
	return t, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ForUpdate is a predicate that locks the selected rows until the end of the
// transaction on PostgreSQL. On SQLite it does nothing: the store's immediate
// transactions already serialise writers.
func ForUpdate[P ~func(*entsql.Selector)]() P {
	return func(s *entsql.Selector) {
		if s.Dialect() == dialect.Postgres {
			s.ForUpdate()
		}
	}
}

// Ensure creates the accounts that do not exist yet (outside any
// transaction, so a concurrent creation is harmless) and returns them by name.
func Ensure(ctx context.Context, client *ent.Client, accounts ...Account) (map[Account]*ent.LedgerAccount, error) {
	out := map[Account]*ent.LedgerAccount{}
	find := func() error {
		var preds []predicate.LedgerAccount
		for _, a := range accounts {
			if _, ok := out[a]; ok {
				continue
			}
			preds = append(preds, ledgeraccount.And(ledgeraccount.OwnerTypeEQ(a.OwnerType), ledgeraccount.OwnerID(a.OwnerID),
				ledgeraccount.Bucket(a.Bucket), ledgeraccount.Currency(a.Currency)))
		}
		if len(preds) == 0 {
			return nil
		}
		for chunk := range slices.Chunk(preds, 200) {
			rows, err := client.LedgerAccount.Query().Where(ledgeraccount.Or(chunk...)).All(ctx)
			if err != nil {
				return err
			}
			for _, r := range rows {
				out[Account{r.OwnerType, r.OwnerID, r.Bucket, r.Currency}] = r
			}
		}
		return nil
	}
	if err := find(); err != nil {
		return nil, fmt.Errorf("ledger accounts: %w", err)
	}
	created := false
	for _, a := range accounts {
		if _, ok := out[a]; ok {
			continue
		}
		if err := CheckCurrency(a.Currency); err != nil {
			return nil, err
		}
		err := client.LedgerAccount.Create().SetOwnerType(a.OwnerType).SetOwnerID(a.OwnerID).
			SetBucket(a.Bucket).SetCurrency(a.Currency).
			OnConflictColumns(ledgeraccount.FieldOwnerType, ledgeraccount.FieldOwnerID, ledgeraccount.FieldBucket, ledgeraccount.FieldCurrency).
			DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("create ledger account %s: %w", a, err)
		}
		created = true
	}
	if created {
		if err := find(); err != nil {
			return nil, fmt.Errorf("ledger accounts: %w", err)
		}
	}
	for _, a := range accounts {
		if _, ok := out[a]; !ok {
			return nil, fmt.Errorf("ledger account %s missing after create", a)
		}
	}
	return out, nil
}

// Exec runs fn in a database transaction that holds locks on accounts (taken
// in account-ID order). It retries the whole transaction when PostgreSQL
// reports a deadlock or a serialization failure.
func Exec(ctx context.Context, client *ent.Client, accounts []Account, fn func(ctx context.Context, b *Book) error) error {
	accs, err := Ensure(ctx, client, accounts...)
	if err != nil {
		return err
	}
	ids := make([]pulid.ID, 0, len(accs))
	for _, a := range accs {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for attempt := 0; ; attempt++ {
		var b *Book
		err = store.WithTx(ctx, client, func(tx *ent.Tx) error {
			b = &Book{Tx: tx, accounts: map[Account]*ent.LedgerAccount{}}
			if len(ids) > 0 {
				rows, err := tx.LedgerAccount.Query().Where(ledgeraccount.IDIn(ids...), ForUpdate[predicate.LedgerAccount]()).
					Order(ledgeraccount.ByID()).Unique(false).All(ctx)
				if err != nil {
					return fmt.Errorf("lock accounts: %w", err)
				}
				for _, r := range rows {
					b.accounts[Account{r.OwnerType, r.OwnerID, r.Bucket, r.Currency}] = r
				}
			}
			return fn(ctx, b)
		})
		if err == nil {
			for _, k := range b.posted {
				metrics.LedgerPosted(k)
			}
			return nil
		}
		if !Retryable(err) || attempt >= 8 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
}

// Retryable reports whether err is a PostgreSQL deadlock or serialization
// failure, after which the whole transaction may simply be run again.
func Retryable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// Op is one idempotent money-moving operation (see Once).
type Op[T any] struct {
	// Hash fingerprints the request.
	Hash string
	// Accounts are locked, in ID order, before Lookup and Do run.
	Accounts []Account
	// Lookup finds the result of an earlier run with the same key, with that
	// run's request hash; found is false if there was none. It is called
	// before the transaction, inside it (after the locks), and after a lost
	// race on a unique constraint.
	Lookup func(ctx context.Context, c *ent.Client) (res T, hash string, found bool, err error)
	// Do performs the operation: validates, posts, writes the service's rows.
	Do func(ctx context.Context, b *Book) (T, error)
}

// Once runs op exactly once per idempotency key. A replay with the same
// request returns the first result (replayed is true) and moves nothing; the
// same key with a different request is a CONFLICT. When two requests with the
// same key race, the loser's unique-constraint violation is turned into the
// winner's result.
func Once[T any](ctx context.Context, client *ent.Client, op Op[T]) (res T, replayed bool, err error) {
	check := func(c *ent.Client) (T, bool, error) {
		r, h, found, err := op.Lookup(ctx, c)
		if err != nil || !found {
			return r, false, err
		}
		if h != op.Hash {
			var zero T
			return zero, true, apperr.Errorf(apperr.Conflict, "idempotencyKey was already used with different parameters")
		}
		return r, true, nil
	}
	if r, found, err := check(client); err != nil || found {
		return r, found, err
	}
	var out T
	var replay bool
	err = Exec(ctx, client, op.Accounts, func(ctx context.Context, b *Book) error {
		r, found, err := check(b.Tx.Client())
		if err != nil {
			return err
		}
		if found {
			out, replay = r, true
			return nil
		}
		out, err = op.Do(ctx, b)
		return err
	})
	if err != nil && ent.IsConstraintError(err) {
		// Most likely a concurrent request with the same key committed first.
		if r, found, cerr := check(client); cerr != nil || found {
			return r, found, cerr
		}
	}
	if err != nil {
		var zero T
		return zero, false, err
	}
	return Unwrap(out), replay, nil
}

// Unwrap detaches an ent entity read or written in a transaction from it, so
// its edges can be loaded after the commit. Other values pass through.
func Unwrap[T any](v T) T {
	if u, ok := any(v).(interface{ Unwrap() T }); ok && !isNil(v) {
		return u.Unwrap()
	}
	return v
}

func isNil(v any) bool {
	rv := reflect.ValueOf(v)
	return !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil())
}

// TransactionByKey finds a transaction by its idempotency key.
func TransactionByKey(ctx context.Context, c *ent.Client, key string) (*ent.LedgerTransaction, error) {
	t, err := c.LedgerTransaction.Query().Where(ledgertransaction.IdempotencyKey(key)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return t, err
}

// Balance reads an account's balance; an account that does not exist has 0.
func Balance(ctx context.Context, c *ent.Client, a Account) (int64, error) {
	acc, err := c.LedgerAccount.Query().Where(ledgeraccount.OwnerTypeEQ(a.OwnerType), ledgeraccount.OwnerID(a.OwnerID),
		ledgeraccount.Bucket(a.Bucket), ledgeraccount.Currency(a.Currency)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", a, err)
	}
	return acc.BalanceMinor, nil
}

// Check verifies the books: every account's cached balance equals the sum of
// its entries, every transaction sums to zero per currency and has at least
// two entries, and so all accounts together sum to zero per currency. It
// reads everything, so it is for tests and audits, not for requests.
func Check(ctx context.Context, c *ent.Client) error {
	accs, err := c.LedgerAccount.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("check ledger: %w", err)
	}
	entries, err := c.LedgerEntry.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("check ledger: %w", err)
	}
	byAcc := map[pulid.ID]int64{}
	type txCur struct {
		tx  pulid.ID
		cur string
	}
	byTx := map[txCur]int64{}
	count := map[pulid.ID]int{}
	for _, e := range entries {
		byAcc[e.AccountID] += e.AmountMinor
		byTx[txCur{e.TransactionID, e.Currency}] += e.AmountMinor
		count[e.TransactionID]++
	}
	var errs []error
	total := map[string]int64{}
	for _, a := range slices.SortedFunc(slices.Values(accs), func(x, y *ent.LedgerAccount) int { return cmp.Compare(x.ID, y.ID) }) {
		if a.BalanceMinor != byAcc[a.ID] {
			errs = append(errs, fmt.Errorf("account %s %s:%s:%s: balance %d, entries sum to %d",
				a.ID, a.OwnerType, a.OwnerID, a.Bucket, a.BalanceMinor, byAcc[a.ID]))
		}
		total[a.Currency] += a.BalanceMinor
	}
	for k, s := range byTx {
		if s != 0 {
			errs = append(errs, fmt.Errorf("transaction %s: %s entries sum to %d", k.tx, k.cur, s))
		}
	}
	for id, n := range count {
		if n < 2 {
			errs = append(errs, fmt.Errorf("transaction %s has %d entries", id, n))
		}
	}
	for cur, s := range total {
		if s != 0 {
			errs = append(errs, fmt.Errorf("accounts in %s sum to %d", cur, s))
		}
	}
	return errors.Join(errs...)
}
