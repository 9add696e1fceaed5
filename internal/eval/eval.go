package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Model is a ranker under evaluation: in-process (a built-in) or a plugin
// process. Every Train replaces the model.
type Model interface {
	// Info describes the ranker, including its hyperparameters.
	Info() sdk.Info
	// Train trains on d with hyperparameters p.
	Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error)
	// RecommendBatch answers many queries; per-query failures are in the
	// results.
	RecommendBatch(ctx context.Context, qs []sdk.Query) ([]sdk.BatchResult, error)
	// Close releases the model (and stops its process, if any).
	Close() error
}

// InProcess returns a Model that calls r directly.
func InProcess(r sdk.Ranker) Model { return &inProcess{r: r} }

type inProcess struct{ r sdk.Ranker }

func (m *inProcess) Info() sdk.Info { return m.r.Info() }

func (m *inProcess) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	// The same checks the plugin server makes before Train.
	if err := d.Validate(); err != nil {
		return sdk.Report{}, err
	}
	if err := sdk.ValidateParams(m.r.Info().Params, p); err != nil {
		return sdk.Report{}, err
	}
	return m.r.Train(ctx, d, p)
}

func (m *inProcess) RecommendBatch(ctx context.Context, qs []sdk.Query) ([]sdk.BatchResult, error) {
	if b, ok := m.r.(sdk.BatchRecommender); ok {
		return b.RecommendBatch(ctx, qs), nil
	}
	out := make([]sdk.BatchResult, len(qs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				out[i].Items, out[i].Err = m.r.Recommend(ctx, qs[i])
			}
		})
	}
	for i := range qs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, ctx.Err()
}

func (m *inProcess) Close() error { return nil }

// Result is one ranker's offline evaluation.
type Result struct {
	// Ranker is the ranker's name.
	Ranker string `json:"ranker"`
	// Params are the hyperparameters it trained with (defaults left out).
	Params sdk.Params `json:"params,omitempty"`
	// K is the cut-off.
	K int `json:"k"`
	Metrics
	// TrainTime is how long Train took, measured by the caller.
	TrainTime time.Duration `json:"-"`
	// TrainSeconds is TrainTime in seconds, for JSON.
	TrainSeconds float64 `json:"train_seconds"`
	// Failed counts users the ranker could not rank (scored as misses).
	Failed int `json:"failed_users"`
}

// batchSize is how many queries go to a ranker at once.
const batchSize = 1024

// Evaluate trains m on s.Train with params p and scores its top k for every
// held-out user, ranking the full catalogue minus the user's training items.
func Evaluate(ctx context.Context, m Model, s *Split, p sdk.Params, k int) (Result, error) {
	if k < 1 {
		return Result{}, fmt.Errorf("k=%d, want at least 1", k)
	}
	name := m.Info().Name
	res := Result{Ranker: name, Params: p, K: k}
	start := time.Now()
	if _, err := m.Train(ctx, s.Train, p); err != nil {
		return res, fmt.Errorf("train %s: %w", name, err)
	}
	res.TrainTime = time.Since(start)
	res.TrainSeconds = res.TrainTime.Seconds()

	trained := s.trainedItems()
	users := s.Users()
	acc := newAccumulator(s.Train.NumItems)
	for lo := 0; lo < len(users); lo += batchSize {
		batch := users[lo:min(lo+batchSize, len(users))]
		qs := make([]sdk.Query, len(batch))
		for i, u := range batch {
			qs[i] = sdk.Query{User: u, K: k}
		}
		out, err := m.RecommendBatch(ctx, qs)
		if err != nil {
			return res, fmt.Errorf("rank with %s: %w", name, err)
		}
		if len(out) != len(qs) {
			return res, fmt.Errorf("rank with %s: %d answers to %d queries", name, len(out), len(qs))
		}
		for i, u := range batch {
			if out[i].Err != nil {
				if !errors.Is(out[i].Err, sdk.ErrUnknownUser) {
					return res, fmt.Errorf("rank user %d with %s: %w", u, name, out[i].Err)
				}
				res.Failed++
			}
			// The contract excludes consumed items; a ranker that breaks it
			// is not allowed to score with them.
			ranked := make([]int32, 0, k)
			for _, it := range out[i].Items {
				if !trained[u][it.Item] {
					ranked = append(ranked, it.Item)
				}
			}
			acc.add(ranked, s.Test[u], k)
		}
	}
	res.Metrics = acc.metrics()
	return res, nil
}

// trainedItems returns, per evaluated user, the items in their training data.
func (s *Split) trainedItems() map[int32]map[int32]bool {
	s.once.Do(func() {
		s.trained = map[int32]map[int32]bool{}
		for j, u := range s.Train.Users {
			if s.Test[u] == nil {
				continue
			}
			if s.trained[u] == nil {
				s.trained[u] = map[int32]bool{}
			}
			s.trained[u][s.Train.Items[j]] = true
		}
	})
	return s.trained
}

// WriteTable writes results as an aligned text table.
func WriteTable(w io.Writer, rs []Result) error {
	if len(rs) == 0 {
		return nil
	}
	k := rs[0].K
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "ranker\tP@%d\tR@%d\tNDCG@%d\tMAP@%d\tHR@%d\tcoverage\ttrain\tusers\t\n", k, k, k, k, k)
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%s\t%d\t\n", r.Ranker, r.Precision, r.Recall,
			r.NDCG, r.MAP, r.HitRate, r.Coverage, r.TrainTime.Round(time.Millisecond), r.Users)
	}
	return tw.Flush()
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
