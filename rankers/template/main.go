// Command template is a complete external ranker to copy from: it ranks the
// newest items first, leaving out what the user has seen. Replace the model
// with yours, keep the contract (sdktest.Run checks it), then
//
//	go build -o /srv/limelight/rankers/newest ./rankers/template
//	sha256sum /srv/limelight/rankers/newest
//
// and list the binary in /srv/limelight/rankers/rankers.json:
//
//	{"newest": {"file": "newest", "sha256": "<the sum>"}}
//
// The server (--rankers-dir /srv/limelight/rankers) starts it, checks its
// SHA-256 before every launch, and falls back to popularity if it crashes.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

func main() { sdk.Serve(&newest{}) }

// newest ranks items by publication time.
type newest struct {
	mu sync.RWMutex
	m  *model // nil until trained
}

// model is all the ranker keeps; exported fields so encoding/json can save it.
type model struct {
	NumUsers int
	Order    []int32   // items, newest first
	Seen     [][]int32 // per user, the items they interacted with
}

func (r *newest) Info() sdk.Info {
	return sdk.Info{
		Name:         "newest",
		Version:      "0.1.0",
		Description:  "newest items first (template ranker)",
		Capabilities: sdk.UserItems,
		Needs:        sdk.NeedItemFeatures | sdk.NeedInteractions,
		Params: []sdk.ParamSpec{
			{Name: "skip_seen", Kind: sdk.ParamBool, Default: "true", Doc: "leave out items the user interacted with"},
		},
	}
}

func (r *newest) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	m := &model{NumUsers: d.NumUsers, Seen: make([][]int32, d.NumUsers)}
	for i := range d.NumItems {
		m.Order = append(m.Order, int32(i))
	}
	if len(d.Features) > 0 {
		slices.SortStableFunc(m.Order, func(a, b int32) int {
			return cmp.Compare(d.Features[b].PublishedAt, d.Features[a].PublishedAt)
		})
	}
	if p["skip_seen"] != "false" {
		for j, u := range d.Users {
			m.Seen[u] = append(m.Seen[u], d.Items[j])
		}
	}
	r.mu.Lock()
	r.m = m
	r.mu.Unlock()
	return sdk.Report{Metrics: map[string]float64{"items": float64(d.NumItems)}}, nil
}

func (r *newest) model() (*model, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.m == nil {
		return nil, sdk.ErrNotTrained
	}
	return r.m, nil
}

func (r *newest) Recommend(ctx context.Context, q sdk.Query) ([]sdk.Scored, error) {
	m, err := r.model()
	if err != nil {
		return nil, err
	}
	if err := q.Check(len(m.Order)); err != nil {
		return nil, err
	}
	if q.User >= int32(m.NumUsers) && len(q.History) == 0 {
		return nil, fmt.Errorf("%w: user %d", sdk.ErrUnknownUser, q.User)
	}
	skip := map[int32]bool{}
	for _, i := range q.Exclude {
		skip[i] = true
	}
	if !q.IncludeConsumed {
		if q.Known(m.NumUsers) {
			for _, i := range m.Seen[q.User] {
				skip[i] = true
			}
		}
		for _, h := range q.History {
			skip[h.Item] = true
		}
	}
	var allowed map[int32]bool
	if q.Candidates != nil {
		allowed = map[int32]bool{}
		for _, i := range q.Candidates {
			allowed[i] = true
		}
	}
	var out []sdk.Scored
	for rank, i := range m.Order {
		if len(out) == q.K {
			break
		}
		if !skip[i] && (allowed == nil || allowed[i]) {
			out = append(out, sdk.Scored{Item: i, Score: 1 / float32(rank+1)})
		}
	}
	return out, nil
}

func (r *newest) Similar(ctx context.Context, item int32, k int, exclude []int32) ([]sdk.Scored, error) {
	return nil, sdk.ErrUnsupported
}

func (r *newest) Save(w io.Writer) error {
	m, err := r.model()
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(m)
}

func (r *newest) Load(rd io.Reader) error {
	var m model
	if err := json.NewDecoder(rd).Decode(&m); err != nil {
		return fmt.Errorf("%w: %v", sdk.ErrBadInput, err)
	}
	if len(m.Seen) != m.NumUsers {
		return fmt.Errorf("%w: snapshot has %d seen lists for %d users", sdk.ErrBadInput, len(m.Seen), m.NumUsers)
	}
	for _, i := range m.Order {
		if i < 0 || int(i) >= len(m.Order) {
			return fmt.Errorf("%w: item %d in snapshot", sdk.ErrBadInput, i)
		}
	}
	r.mu.Lock()
	r.m = &m
	r.mu.Unlock()
	return nil
}
