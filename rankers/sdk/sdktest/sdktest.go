// Package sdktest checks a ranker against the plugin contract. Run serves
// the ranker in-process over the real gRPC adapters (on an in-memory
// connection), so what passes here behaves the same behind the host.
//
//	func TestContract(t *testing.T) {
//		sdktest.Run(t, func() sdk.Ranker { return myranker.New() })
//	}
package sdktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Options adjusts Run.
type Options struct {
	// Params are passed to Train; nil means the declared defaults.
	Params sdk.Params
}

// Connect serves r in-process over gRPC, through the same server factory
// and adapters that sdk.Serve uses, and returns a client for it. The
// connection is closed when the test ends.
func Connect(t testing.TB, r sdk.Ranker) *sdk.Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := sdk.NewGRPCServer(nil)
	hs := health.NewServer()
	hs.SetServingStatus("plugin", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	if err := (&sdk.Plugin{Impl: r}).GRPCServer(nil, srv); err != nil {
		t.Fatalf("register: %v", err)
	}
	go srv.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///sdktest",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return sdk.NewClient(conn)
}

// Run checks the ranker that newRanker makes against the contract. Each
// check is a subtest.
func Run(t *testing.T, newRanker func() sdk.Ranker) { RunWith(t, newRanker, Options{}) }

// RunWith is Run with options.
func RunWith(t *testing.T, newRanker func() sdk.Ranker, opt Options) {
	ctx := context.Background()
	d := Dataset()
	c := Connect(t, newRanker())
	info, err := c.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	s := &suite{c: c, info: info, d: d, consumed: consumedBy(d), newRanker: newRanker, opt: opt}

	t.Run("Info", s.checkInfo)
	t.Run("Untrained", s.checkUntrained)
	if _, err := c.Train(ctx, d, opt.Params); err != nil {
		t.Fatalf("Train: %v", err)
	}
	t.Run("Train", s.checkTrain)
	if info.Capabilities.Has(sdk.UserItems) {
		t.Run("Recommend", s.checkRecommend)
		t.Run("Exclude", s.checkExclude)
		t.Run("Candidates", s.checkCandidates)
		t.Run("IncludeConsumed", s.checkIncludeConsumed)
		t.Run("ColdUser", s.checkColdUser)
		t.Run("Batch", s.checkBatch)
	}
	t.Run("Similar", s.checkSimilar)
	t.Run("BadInput", s.checkBadInput)
	t.Run("SaveLoad", s.checkSaveLoad)
	t.Run("BadSnapshot", s.checkBadSnapshot)
	t.Run("Concurrent", s.checkConcurrent)
	t.Run("EmptyDataset", s.checkEmpty)
}

type suite struct {
	c         *sdk.Client
	info      sdk.Info
	d         *sdk.Dataset
	consumed  []map[int32]bool
	newRanker func() sdk.Ranker
	opt       Options
}

// noPanic fails the test if err says the ranker panicked.
func noPanic(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "ranker panicked") {
		t.Errorf("%s panicked: %v", what, err)
	}
}

// wantErr fails the test unless err matches target (any error if target is
// nil) and did not come from a panic.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	noPanic(t, what, err)
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %v", what, target)
	case target != nil && !errors.Is(err, target):
		t.Errorf("%s: error %q, want one matching %q", what, err, target)
	}
}

func (s *suite) checkInfo(t *testing.T) {
	in := s.info
	if in.Name == "" || in.Version == "" {
		t.Errorf("Info has name %q and version %q; want both", in.Name, in.Version)
	}
	if in.Capabilities == 0 {
		t.Error("Info declares no capabilities")
	}
	seen := map[string]bool{}
	for _, p := range in.Params {
		if p.Name == "" || seen[p.Name] {
			t.Errorf("param name %q empty or repeated", p.Name)
		}
		seen[p.Name] = true
		if p.Kind < sdk.ParamInt || p.Kind > sdk.ParamBool {
			t.Errorf("param %s: kind %v", p.Name, p.Kind)
		}
		if (p.Kind == sdk.ParamInt || p.Kind == sdk.ParamFloat) && p.Min > p.Max {
			t.Errorf("param %s: min %g > max %g", p.Name, p.Min, p.Max)
		}
		if err := sdk.ValidateParams(in.Params, sdk.Params{p.Name: p.Default}); err != nil {
			t.Errorf("param %s: default: %v", p.Name, err)
		}
	}
}

func (s *suite) checkUntrained(t *testing.T) {
	ctx := context.Background()
	c := Connect(t, s.newRanker())
	if s.info.Capabilities.Has(sdk.UserItems) {
		_, err := c.Recommend(ctx, sdk.Query{User: 0, K: 5})
		wantErr(t, "Recommend before Train", err, sdk.ErrNotTrained)
	}
	if s.info.Capabilities.Has(sdk.ItemItems) {
		_, err := c.Similar(ctx, 0, 5, nil)
		wantErr(t, "Similar before Train", err, sdk.ErrNotTrained)
	}
	wantErr(t, "Export before Train", c.Export(ctx, &bytes.Buffer{}), nil)
	_, err := c.Train(ctx, s.d, sdk.Params{"no_such_param_anywhere": "1"})
	wantErr(t, "Train with an undeclared param", err, sdk.ErrBadInput)
}

func (s *suite) checkTrain(t *testing.T) {
	r, err := s.c.Train(context.Background(), s.d, s.opt.Params)
	if err != nil {
		t.Fatalf("Train again: %v", err)
	}
	if r.ModelVersion == "" {
		t.Error("Report has no model version")
	}
	if r.Duration <= 0 {
		t.Errorf("Report duration %v", r.Duration)
	}
}

// checkList checks one answer: at most k items, best first, no duplicates,
// all in range, none in skip, all in allow (when not nil).
func (s *suite) checkList(t *testing.T, what string, got []sdk.Scored, k int, skip map[int32]bool, allow map[int32]bool) {
	t.Helper()
	if len(got) > k {
		t.Errorf("%s: %d items, asked for %d", what, len(got), k)
	}
	seen := map[int32]bool{}
	for j, x := range got {
		switch {
		case x.Item < 0 || int(x.Item) >= s.d.NumItems:
			t.Errorf("%s: item %d out of range", what, x.Item)
		case seen[x.Item]:
			t.Errorf("%s: item %d twice", what, x.Item)
		case skip[x.Item]:
			t.Errorf("%s: item %d should have been left out", what, x.Item)
		case allow != nil && !allow[x.Item]:
			t.Errorf("%s: item %d is not a candidate", what, x.Item)
		case x.Score != x.Score:
			t.Errorf("%s: item %d has score NaN", what, x.Item)
		case j > 0 && x.Score > got[j-1].Score:
			t.Errorf("%s: not sorted by score: %v", what, got)
		}
		seen[x.Item] = true
	}
}

// recommend runs q and reports whether to check the answer: a user without
// interactions may be refused with sdk.ErrUnknownUser (the host then asks
// the fallback); any other error fails the test.
func (s *suite) recommend(t *testing.T, c *sdk.Client, q sdk.Query) ([]sdk.Scored, bool) {
	t.Helper()
	got, err := c.Recommend(context.Background(), q)
	if err != nil && errors.Is(err, sdk.ErrUnknownUser) && len(q.History) == 0 &&
		q.User >= 0 && int(q.User) < s.d.NumUsers && len(s.consumed[q.User]) == 0 {
		return nil, false
	}
	if err != nil {
		t.Fatalf("Recommend(%+v): %v", q, err)
	}
	return got, true
}

func set(items ...int32) map[int32]bool {
	m := map[int32]bool{}
	for _, i := range items {
		m[i] = true
	}
	return m
}

func (s *suite) checkRecommend(t *testing.T) {
	total := 0
	for u := range int32(s.d.NumUsers) {
		for _, k := range []int{1, 10, s.d.NumItems + 5} {
			got, ok := s.recommend(t, s.c, sdk.Query{User: u, K: k})
			if !ok {
				continue
			}
			s.checkList(t, fmt.Sprintf("Recommend(user %d, k %d)", u, k), got, k, s.consumed[u], nil)
			total += len(got)
		}
	}
	if total == 0 {
		t.Error("Recommend returned nothing for every user")
	}
}

func (s *suite) checkExclude(t *testing.T) {
	for u := range int32(s.d.NumUsers) {
		first, ok := s.recommend(t, s.c, sdk.Query{User: u, K: 5})
		if !ok {
			continue
		}
		var ex []int32
		for _, x := range first[:min(3, len(first))] {
			ex = append(ex, x.Item)
		}
		ex = append(ex, -7, int32(s.d.NumItems)+3) // out of range: harmless
		got, _ := s.recommend(t, s.c, sdk.Query{User: u, K: 5, Exclude: ex})
		skip := set(ex...)
		for i := range s.consumed[u] {
			skip[i] = true
		}
		s.checkList(t, fmt.Sprintf("Recommend(user %d, exclude %v)", u, ex), got, 5, skip, nil)
	}
}

func (s *suite) checkCandidates(t *testing.T) {
	var cand []int32
	for i := int32(0); i < int32(s.d.NumItems); i += 3 {
		cand = append(cand, i)
	}
	for u := range int32(s.d.NumUsers) {
		got, ok := s.recommend(t, s.c, sdk.Query{User: u, K: 8, Candidates: cand})
		if !ok {
			continue
		}
		s.checkList(t, fmt.Sprintf("Recommend(user %d, candidates)", u), got, 8, s.consumed[u], set(cand...))
	}
}

func (s *suite) checkIncludeConsumed(t *testing.T) {
	for u := range int32(s.d.NumUsers) {
		got, ok := s.recommend(t, s.c, sdk.Query{User: u, K: s.d.NumItems, IncludeConsumed: true})
		if !ok {
			continue
		}
		s.checkList(t, fmt.Sprintf("Recommend(user %d, include consumed)", u), got, s.d.NumItems, nil, nil)
	}
}

func (s *suite) checkColdUser(t *testing.T) {
	ctx := context.Background()
	hist := []sdk.ItemWeight{{Item: 1, Weight: 2}, {Item: 5, Weight: 1}, {Item: 9, Weight: 3}}
	skip := set(1, 5, 9)
	for _, u := range []int32{-1, int32(s.d.NumUsers), int32(s.d.NumUsers) + 40} {
		got, err := s.c.Recommend(ctx, sdk.Query{User: u, K: 6, History: hist})
		if err != nil {
			t.Fatalf("Recommend(user %d with history): %v", u, err)
		}
		s.checkList(t, fmt.Sprintf("Recommend(user %d with history)", u), got, 6, skip, nil)
		if len(got) == 0 {
			t.Errorf("Recommend(user %d with history): nothing", u)
		}
	}
	got, err := s.c.Recommend(ctx, sdk.Query{User: -1, K: 6})
	if err != nil {
		wantErr(t, "Recommend(user -1, no history)", err, sdk.ErrUnknownUser)
	} else {
		s.checkList(t, "Recommend(user -1, no history)", got, 6, nil, nil)
	}
}

func (s *suite) checkBatch(t *testing.T) {
	ctx := context.Background()
	var qs []sdk.Query
	for u := range int32(s.d.NumUsers) {
		qs = append(qs, sdk.Query{User: u, K: 7})
	}
	qs = append(qs, sdk.Query{User: 0, K: 0}) // bad on its own
	got, err := s.c.RecommendBatch(ctx, qs)
	if err != nil {
		t.Fatalf("RecommendBatch: %v", err)
	}
	if len(got) != len(qs) {
		t.Fatalf("RecommendBatch: %d results for %d queries", len(got), len(qs))
	}
	for i, q := range qs[:len(qs)-1] {
		one, err := s.c.Recommend(ctx, q)
		if fmt.Sprint(err) != fmt.Sprint(got[i].Err) {
			t.Fatalf("user %d: Recommend error %v, batch error %v", q.User, err, got[i].Err)
		}
		if !slices.Equal(one, got[i].Items) {
			t.Errorf("user %d: batch %v, single %v", q.User, got[i].Items, one)
		}
	}
	wantErr(t, "batch query with k=0", got[len(qs)-1].Err, sdk.ErrBadInput)
}

func (s *suite) checkSimilar(t *testing.T) {
	ctx := context.Background()
	if !s.info.Capabilities.Has(sdk.ItemItems) {
		_, err := s.c.Similar(ctx, 0, 5, nil)
		wantErr(t, "Similar without ITEM_ITEMS", err, sdk.ErrUnsupported)
		return
	}
	total := 0
	for i := range int32(s.d.NumItems) {
		ex := []int32{(i + 1) % int32(s.d.NumItems), (i + 4) % int32(s.d.NumItems)}
		got, err := s.c.Similar(ctx, i, 6, ex)
		if err != nil {
			t.Fatalf("Similar(%d): %v", i, err)
		}
		s.checkList(t, fmt.Sprintf("Similar(%d)", i), got, 6, set(append(ex, i)...), nil)
		total += len(got)
	}
	if total == 0 {
		t.Error("Similar returned nothing for every item")
	}
}

func (s *suite) checkBadInput(t *testing.T) {
	ctx := context.Background()
	n, m := int32(s.d.NumUsers), int32(s.d.NumItems)
	if s.info.Capabilities.Has(sdk.UserItems) {
		for _, c := range []struct {
			name string
			q    sdk.Query
			want error
		}{
			{"k=0", sdk.Query{User: 0, K: 0}, sdk.ErrBadInput},
			{"k=-3", sdk.Query{User: 0, K: -3}, sdk.ErrBadInput},
			{"user -2", sdk.Query{User: -2, K: 5}, sdk.ErrBadInput},
			{"user beyond range, no history", sdk.Query{User: n + 100, K: 5}, nil},
			{"candidate out of range", sdk.Query{User: 0, K: 5, Candidates: []int32{1, m}}, sdk.ErrBadInput},
			{"negative candidate", sdk.Query{User: 0, K: 5, Candidates: []int32{-1}}, sdk.ErrBadInput},
			{"history item out of range", sdk.Query{User: -1, K: 5, History: []sdk.ItemWeight{{Item: m + 1, Weight: 1}}}, sdk.ErrBadInput},
		} {
			_, err := s.c.Recommend(ctx, c.q)
			wantErr(t, "Recommend "+c.name, err, c.want)
		}
	}
	if s.info.Capabilities.Has(sdk.ItemItems) {
		for _, c := range []struct {
			name string
			item int32
			k    int
		}{{"item -1", -1, 5}, {"item out of range", m, 5}, {"k=0", 0, 0}} {
			_, err := s.c.Similar(ctx, c.item, c.k, nil)
			wantErr(t, "Similar "+c.name, err, sdk.ErrBadInput)
		}
	}
	bad := *s.d
	bad.Users = append([]int32{n}, bad.Users[1:]...)
	_, err := s.c.Train(ctx, &bad, nil)
	wantErr(t, "Train with a user out of range", err, sdk.ErrBadInput)
	_, err = s.c.Train(ctx, s.d, s.badParams())
	wantErr(t, "Train with a param out of range", err, sdk.ErrBadInput)
}

// badParams returns params with the first numeric param out of range, or
// an undeclared one.
func (s *suite) badParams() sdk.Params {
	for _, p := range s.info.Params {
		if p.Kind == sdk.ParamInt || p.Kind == sdk.ParamFloat {
			return sdk.Params{p.Name: fmt.Sprint(p.Max + 1)}
		}
	}
	return sdk.Params{"undeclared": "1"}
}

// answers collects every answer the ranker gives on the dataset.
func (s *suite) answers(t *testing.T, c *sdk.Client) []any {
	ctx := context.Background()
	var out []any
	if s.info.Capabilities.Has(sdk.UserItems) {
		for u := range int32(s.d.NumUsers) {
			got, err := c.Recommend(ctx, sdk.Query{User: u, K: 10})
			out = append(out, got, fmt.Sprint(err))
		}
		got, err := c.Recommend(ctx, sdk.Query{User: -1, K: 10, History: []sdk.ItemWeight{{Item: 2, Weight: 1}, {Item: 3, Weight: 2}}})
		out = append(out, got, fmt.Sprint(err))
	}
	if s.info.Capabilities.Has(sdk.ItemItems) {
		for i := range int32(s.d.NumItems) {
			got, err := c.Similar(ctx, i, 10, nil)
			out = append(out, got, fmt.Sprint(err))
		}
	}
	return out
}

func (s *suite) checkSaveLoad(t *testing.T) {
	ctx := context.Background()
	var snap bytes.Buffer
	if err := s.c.Export(ctx, &snap); err != nil {
		t.Fatalf("Export: %v", err)
	}
	fresh := Connect(t, s.newRanker())
	if _, err := fresh.Import(ctx, bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatalf("Import: %v", err)
	}
	want, got := s.answers(t, s.c), s.answers(t, fresh)
	for i := range want {
		if fmt.Sprint(want[i]) != fmt.Sprint(got[i]) {
			t.Fatalf("after Export and Import, answer %d differs:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
	var again bytes.Buffer
	if err := fresh.Export(ctx, &again); err != nil {
		t.Fatalf("Export after Import: %v", err)
	}
	if !bytes.Equal(again.Bytes(), snap.Bytes()) {
		t.Log("note: a re-exported snapshot differs from the imported one")
	}
}

func (s *suite) checkBadSnapshot(t *testing.T) {
	ctx := context.Background()
	var snap bytes.Buffer
	if err := s.c.Export(ctx, &snap); err != nil {
		t.Fatalf("Export: %v", err)
	}
	b := snap.Bytes()
	c := Connect(t, s.newRanker())
	_, err := c.Import(ctx, strings.NewReader("definitely not a model"))
	wantErr(t, "Import of garbage", err, nil)
	_, err = c.Import(ctx, bytes.NewReader(b[:len(b)/2]))
	wantErr(t, "Import of a truncated snapshot", err, nil)
	flipped := slices.Clone(b)
	flipped[len(flipped)*2/3] ^= 0x40
	if _, err := c.Import(ctx, bytes.NewReader(flipped)); err == nil {
		t.Log("note: a snapshot with a flipped bit was accepted")
	} else {
		noPanic(t, "Import of a corrupted snapshot", err)
	}
	// A failed Import leaves the previous model (here: none, or whatever a
	// flipped snapshot gave) answering without panics.
	if s.info.Capabilities.Has(sdk.UserItems) {
		_, err = c.Recommend(ctx, sdk.Query{User: 0, K: 3})
		noPanic(t, "Recommend after a failed Import", err)
	}
}

func (s *suite) checkConcurrent(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Go(func() {
		if _, err := s.c.Train(ctx, s.d, s.opt.Params); err != nil {
			errs <- fmt.Errorf("Train: %w", err)
		}
	})
	for g := range 4 {
		wg.Go(func() {
			for j := range 25 {
				u := int32((g*25 + j) % s.d.NumUsers)
				if s.info.Capabilities.Has(sdk.UserItems) {
					if _, err := s.c.Recommend(ctx, sdk.Query{User: u, K: 5}); err != nil && !errors.Is(err, sdk.ErrUnknownUser) {
						errs <- fmt.Errorf("Recommend during Train: %w", err)
					}
				}
				if s.info.Capabilities.Has(sdk.ItemItems) {
					if _, err := s.c.Similar(ctx, u%int32(s.d.NumItems), 5, nil); err != nil {
						errs <- fmt.Errorf("Similar during Train: %w", err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func (s *suite) checkEmpty(t *testing.T) {
	ctx := context.Background()
	c := Connect(t, s.newRanker())
	empty := &sdk.Dataset{NumUsers: 3, NumItems: s.d.NumItems, Features: s.d.Features}
	if _, err := c.Train(ctx, empty, s.opt.Params); err != nil {
		noPanic(t, "Train on no interactions", err)
		t.Logf("Train on no interactions: %v", err)
		return
	}
	if s.info.Capabilities.Has(sdk.UserItems) {
		for _, u := range []int32{-1, 0} {
			got, err := c.Recommend(ctx, sdk.Query{User: u, K: 5})
			noPanic(t, "Recommend after training on no interactions", err)
			if err == nil {
				s.checkList(t, "Recommend after training on no interactions", got, 5, nil, nil)
			}
		}
	}
	if s.info.Capabilities.Has(sdk.ItemItems) {
		got, err := c.Similar(ctx, 0, 5, nil)
		noPanic(t, "Similar after training on no interactions", err)
		if err == nil {
			s.checkList(t, "Similar after training on no interactions", got, 5, set(0), nil)
		}
	}
	nothing := &sdk.Dataset{}
	_, err := c.Train(ctx, nothing, s.opt.Params)
	noPanic(t, "Train on an empty dataset", err)
}
