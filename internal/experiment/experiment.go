// Package experiment runs online A/B experiments between rankers: it
// assigns users to variants by a stable hash, tells the feed which ranker a
// user's variant uses, and computes per-variant results (CTR, CVR, revenue
// per user) with confidence intervals and a significance test.
//
// Attribution is by assignment (intent to treat): every feed-served
// interaction (one that carries a ranker) of a user assigned to a variant,
// inside the experiment's window, counts for that variant, whichever ranker
// ended up serving it (the fallback included). Impressions are VIEW
// interactions, clicks CLICK interactions; conversions are the exposed
// users' attributed, unreversed purchases in the window, and revenue is what
// those users spent in it: the purchases' amounts plus their tips.
package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/conversion"
	"github.com/limelight-hq/limelight/ent/experiment"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/tip"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/store"
)

// Limits on an experiment's definition.
const (
	MaxVariants = 10
	MaxWeight   = 1000
)

// Create starts an experiment. It needs 2 to MaxVariants variants, each
// with a ranker known reports as existing (known may be nil to skip the
// check) and a weight in 1..MaxWeight; the same ranker may appear twice (an
// A/A test). Only one experiment runs at a time: while another runs, Create
// fails with CONFLICT, and so does a name already used.
// The experiment's window starts at now.
func Create(ctx context.Context, client *ent.Client, name string, variants []schema.Variant, known func(string) bool, now time.Time) (*ent.Experiment, error) {
	switch {
	case name == "" || len(name) > 200:
		return nil, apperr.Errorf(apperr.BadInput, "name must be 1-200 characters")
	case len(variants) < 2 || len(variants) > MaxVariants:
		return nil, apperr.Errorf(apperr.BadInput, "an experiment needs 2 to %d variants, got %d", MaxVariants, len(variants))
	}
	for i, v := range variants {
		if v.Weight < 1 || v.Weight > MaxWeight {
			return nil, apperr.Errorf(apperr.BadInput, "variant %d: weight %d must be between 1 and %d", i, v.Weight, MaxWeight)
		}
		if v.Ranker == "" || (known != nil && !known(v.Ranker)) {
			return nil, apperr.Errorf(apperr.BadInput, "variant %d: no running ranker named %q", i, v.Ranker)
		}
	}
	var out *ent.Experiment
	err := store.WithTx(ctx, client, func(tx *ent.Tx) error {
		running, err := tx.Experiment.Query().Where(experiment.StatusEQ(experiment.StatusRUNNING)).First(ctx)
		if err == nil {
			return apperr.Errorf(apperr.Conflict, "experiment %q is running; stop it first", running.Name)
		}
		if !ent.IsNotFound(err) {
			return err
		}
		if taken, err := tx.Experiment.Query().Where(experiment.Name(name)).Exist(ctx); err != nil {
			return err
		} else if taken {
			return apperr.Errorf(apperr.Conflict, "an experiment named %q exists", name)
		}
		out, err = tx.Experiment.Create().SetName(name).SetVariants(variants).
			SetCreatedAt(now.UTC()).Save(ctx)
		return err
	})
	running.Delete(client)
	if ent.IsConstraintError(err) {
		// Lost a race: another experiment started, or took the name, meanwhile.
		if running, rerr := client.Experiment.Query().Where(experiment.StatusEQ(experiment.StatusRUNNING)).First(ctx); rerr == nil {
			return nil, apperr.Wrap(apperr.Conflict, err, fmt.Sprintf("experiment %q is running; stop it first", running.Name))
		}
		return nil, apperr.Wrap(apperr.Conflict, err, fmt.Sprintf("an experiment named %q exists", name))
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Stop stops a running experiment; stopping a stopped one changes nothing.
func Stop(ctx context.Context, client *ent.Client, id pulid.ID, now time.Time) (*ent.Experiment, error) {
	e, err := client.Experiment.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "experiment %s not found", id)
	}
	if err != nil || e.Status == experiment.StatusSTOPPED {
		return e, err
	}
	defer running.Delete(client)
	return e.Update().SetStatus(experiment.StatusSTOPPED).SetStoppedAt(now.UTC()).Save(ctx)
}

// RunningTTL is how long Running trusts its last answer. Every feed request
// asks, so the answer is cached per client; Create and Stop clear the cache
// at once, other replicas see a change within RunningTTL.
const RunningTTL = time.Second

type cached struct {
	e  *ent.Experiment
	at time.Time
}

var running sync.Map // *ent.Client → cached

// Running returns the running experiment, or nil when none runs.
func Running(ctx context.Context, client *ent.Client) (*ent.Experiment, error) {
	if c, ok := running.Load(client); ok && time.Since(c.(cached).at) < RunningTTL {
		return c.(cached).e, nil
	}
	e, err := client.Experiment.Query().Where(experiment.StatusEQ(experiment.StatusRUNNING)).
		Order(ent.Desc(experiment.FieldCreatedAt)).First(ctx)
	if ent.IsNotFound(err) {
		e, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	running.Store(client, cached{e: e, at: time.Now()})
	return e, nil
}

// Assign returns the ranker of the running experiment's variant for a user,
// and the experiment's ID; ok is false when no experiment runs.
func Assign(ctx context.Context, client *ent.Client, userID pulid.ID) (ranker string, experimentID pulid.ID, ok bool, err error) {
	e, err := Running(ctx, client)
	if err != nil || e == nil {
		return "", "", false, err
	}
	return e.Variants[VariantOf(e, userID)].Ranker, e.ID, true, nil
}

// VariantOf returns the index of the variant a user belongs to in e. It
// depends only on the user's and the experiment's IDs and the weights, so a
// user stays in one variant for the experiment's life, and experiments are
// independent of each other.
func VariantOf(e *ent.Experiment, userID pulid.ID) int {
	total := 0
	for _, v := range e.Variants {
		total += v.Weight
	}
	if total <= 0 {
		return 0
	}
	// SHA-256, not FNV: FNV's low bits mix poorly, and the modulus reads them.
	sum := sha256.Sum256([]byte(string(e.ID) + "\x00" + string(userID)))
	x := int(binary.BigEndian.Uint64(sum[:8]) % uint64(total))
	for i, v := range e.Variants {
		if x < v.Weight {
			return i
		}
		x -= v.Weight
	}
	return len(e.Variants) - 1
}

// Revenue is what a variant's users spent in one currency: purchases and
// tips.
type Revenue struct {
	Currency     string
	TotalMinor   int64
	PerUserMinor float64
}

// Interval is a 95% confidence interval.
type Interval struct{ Low, High float64 }

// VariantResult is one variant's numbers.
type VariantResult struct {
	schema.Variant
	Users, Impressions, Clicks, Conversions int
	CTR, CVR                                float64
	CTRInterval, CVRInterval                Interval
	// CTRPValue is the two-sided p-value of the CTR against the first
	// variant's (two-proportion z-test); nil for the first variant.
	CTRPValue *float64
	Revenue   []Revenue
}

// Results is an experiment's outcome so far.
type Results struct {
	Experiment *ent.Experiment
	From, To   time.Time
	Variants   []VariantResult
}

// Compute counts an experiment's results over its window: from its creation
// to its stop, or to now while it runs.
func Compute(ctx context.Context, client *ent.Client, id pulid.ID, now time.Time) (*Results, error) {
	e, err := client.Experiment.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "experiment %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	res := &Results{Experiment: e, From: e.CreatedAt, To: now.UTC()}
	if e.StoppedAt != nil {
		res.To = *e.StoppedAt
	}
	res.Variants = make([]VariantResult, len(e.Variants))
	for i, v := range e.Variants {
		res.Variants[i].Variant = v
	}

	var counts []struct {
		UserID pulid.ID         `json:"user_id"`
		Kind   interaction.Kind `json:"kind"`
		Count  int              `json:"count"`
	}
	err = client.Interaction.Query().
		Where(interaction.OccurredAtGTE(res.From), interaction.OccurredAtLTE(res.To), interaction.RankerNEQ(""),
			interaction.KindIn(interaction.KindVIEW, interaction.KindCLICK)).
		GroupBy(interaction.FieldUserID, interaction.FieldKind).Aggregate(ent.Count()).Scan(ctx, &counts)
	if err != nil {
		return nil, fmt.Errorf("count interactions: %w", err)
	}
	exposed := map[pulid.ID]int{} // user → variant, for users with an impression
	for _, c := range counts {
		vi := VariantOf(e, c.UserID)
		v := &res.Variants[vi]
		switch c.Kind {
		case interaction.KindVIEW:
			v.Impressions += c.Count
			if _, ok := exposed[c.UserID]; !ok {
				exposed[c.UserID] = vi
				v.Users++
			}
		case interaction.KindCLICK:
			v.Clicks += c.Count
		}
	}

	var sales []struct {
		UserID   pulid.ID `json:"user_id"`
		Currency string   `json:"currency"`
		Count    int      `json:"count"`
		Sum      int64    `json:"sum"`
	}
	err = client.Conversion.Query().
		Where(conversion.OccurredAtGTE(res.From), conversion.OccurredAtLTE(res.To),
			conversion.StatusNEQ(conversion.StatusREVERSED), conversion.UserIDNEQ("")).
		GroupBy(conversion.FieldUserID, conversion.FieldCurrency).
		Aggregate(ent.Count(), ent.Sum(conversion.FieldAmountMinor)).Scan(ctx, &sales)
	if err != nil {
		return nil, fmt.Errorf("count conversions: %w", err)
	}
	revenue := make([]map[string]int64, len(res.Variants))
	for _, s := range sales {
		vi, ok := exposed[s.UserID]
		if !ok {
			continue
		}
		res.Variants[vi].Conversions += s.Count
		if revenue[vi] == nil {
			revenue[vi] = map[string]int64{}
		}
		revenue[vi][s.Currency] += s.Sum
	}

	var tips []struct {
		UserID   pulid.ID `json:"user_id"`
		Currency string   `json:"currency"`
		Sum      int64    `json:"sum"`
	}
	err = client.Tip.Query().
		Where(tip.CreatedAtGTE(res.From), tip.CreatedAtLTE(res.To), tip.UserIDNEQ("")).
		GroupBy(tip.FieldUserID, tip.FieldCurrency).Aggregate(ent.Sum(tip.FieldAmountMinor)).Scan(ctx, &tips)
	if err != nil {
		return nil, fmt.Errorf("sum tips: %w", err)
	}
	for _, s := range tips {
		vi, ok := exposed[s.UserID]
		if !ok {
			continue
		}
		if revenue[vi] == nil {
			revenue[vi] = map[string]int64{}
		}
		revenue[vi][s.Currency] += s.Sum
	}

	for i := range res.Variants {
		v := &res.Variants[i]
		v.CTR, v.CTRInterval = rate(v.Clicks, v.Impressions)
		v.CVR, v.CVRInterval = rate(v.Conversions, v.Clicks)
		for cur, total := range revenue[i] {
			r := Revenue{Currency: cur, TotalMinor: total}
			if v.Users > 0 {
				r.PerUserMinor = float64(total) / float64(v.Users)
			}
			v.Revenue = append(v.Revenue, r)
		}
		sort.Slice(v.Revenue, func(a, b int) bool { return v.Revenue[a].Currency < v.Revenue[b].Currency })
		if i > 0 {
			p := TwoProportionP(res.Variants[0].Clicks, res.Variants[0].Impressions, v.Clicks, v.Impressions)
			v.CTRPValue = &p
		}
	}
	return res, nil
}

// rate returns x/n and its Wilson interval; 0 and [0, 1] when n is 0.
func rate(x, n int) (float64, Interval) {
	if n <= 0 {
		return 0, Interval{0, 1}
	}
	lo, hi := Wilson(min(x, n), n)
	return float64(x) / float64(n), Interval{lo, hi}
}

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Wilson returns the Wilson score 95% interval of x successes in n trials.
func Wilson(x, n int) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z95 * z95
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	return math.Max(0, center-half), math.Min(1, center+half)
}

// TwoProportionP is the two-sided p-value of a pooled two-proportion z-test
// of x1/n1 against x2/n2; 1 when either sample is empty or both rates are 0
// or 1.
func TwoProportionP(x1, n1, x2, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	p := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1
	}
	z := (p2 - p1) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// Rankers lists the distinct rankers of e's variants, in variant order.
func Rankers(e *ent.Experiment) []string {
	var out []string
	for _, v := range e.Variants {
		if !slices.Contains(out, v.Ranker) {
			out = append(out, v.Ranker)
		}
	}
	return out
}
