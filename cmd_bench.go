package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/ratelimit"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// BenchCmd measures the feed end to end: HTTP → GraphQL → ranker plugin.
type BenchCmd struct {
	Interactions int           `default:"1000000" help:"Interactions in the generated world (users = n/20, items = n/50 unless --items)."`
	Items        int           `help:"Catalogue size (default n/50)."`
	Duration     time.Duration `default:"10s" help:"How long each load level runs."`
	Clients      []int         `default:"1,32" help:"Concurrent clients per load level."`
	First        int           `default:"20" help:"Page size asked for."`
	Keep         string        `help:"Keep the benchmark database at this SQLite path (reused if it exists)."`
	CPUProfile   string        `name:"cpuprofile" help:"Write a CPU profile of the server process's load levels here."`
}

// Run seeds a world, trains ALS, serves on loopback and measures.
func (c *BenchCmd) Run(ctx context.Context, log *slog.Logger) error {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	path := c.Keep
	if path == "" {
		dir, err := os.MkdirTemp("", "limelight-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "bench.db")
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := seed.Bench(c.Interactions)
	cfg.Now = seed.DefaultNow
	if c.Items > 0 {
		cfg.Contents = c.Items
		cfg.Influencers = max(1, c.Items/25)
	}
	empty, err := seed.Empty(ctx, st.Client)
	if err != nil {
		return err
	}
	if empty {
		start := time.Now()
		w, err := seed.Generate(cfg)
		if err != nil {
			return err
		}
		if _, err := seed.Load(ctx, st.Client, w); err != nil {
			return err
		}
		log.Info("seeded", "users", cfg.Users, "items", cfg.Contents, "interactions", cfg.Interactions, "took", time.Since(start).Round(time.Millisecond))
	}
	// The benchmark model is the one the issue sets: 64 factors.
	h, svc, err := startFeed(ctx, st, "", map[string]sdk.Params{"als": {"factors": "64"}}, feed.DefaultPipeline(), quiet)
	if err != nil {
		return err
	}
	defer h.Close()
	missing, err := svc.Load(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(missing, "als") {
		rep, err := svc.Train(ctx, "als", cfg.Now)
		if err != nil {
			return err
		}
		log.Info("trained als", "took", rep.Duration.Round(time.Millisecond), "users", rep.Users, "items", rep.Items, "pairs", rep.Interactions)
	}
	_, appKey, err := auth.Create(ctx, st.Client, auth.App, "", "bench")
	if err != nil {
		return err
	}
	users, err := st.Client.User.Query().Limit(5000).IDs(ctx)
	if err != nil {
		return err
	}

	// The benchmark measures the server, not the per-key rate limit.
	resolver := graph.NewResolver(graph.Deps{Client: st.Client, Logger: quiet, Feed: svc, Now: func() time.Time { return cfg.Now },
		RateLimit: ratelimit.Config{Rate: -1}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: graph.NewMux(resolver, st)}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/graphql"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

	feedBody := func(r *rand.Rand) []byte {
		b, _ := json.Marshal(map[string]any{
			"query":     `query($u: ID!, $n: Int) { recommendations(userId: $u, first: $n) { ranker edges { score node { ... on Content { id title } } } } }`,
			"variables": map[string]any{"u": users[r.IntN(len(users))], "n": c.First},
		})
		return b
	}
	trivial := func(*rand.Rand) []byte { return []byte(`{"query":"{ __typename }"}`) }

	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("catalogue %d items × 64 factors, %d users, %d interactions; %s per level\n", cfg.Contents, cfg.Users, cfg.Interactions, c.Duration)
	fmt.Printf("%-12s %8s %10s %10s %10s %8s\n", "query", "clients", "req/s", "p50", "p99", "errors")
	for _, n := range c.Clients {
		var feedRPS float64
		for _, q := range []struct {
			name string
			body func(*rand.Rand) []byte
		}{{"feed", feedBody}, {"__typename", trivial}} {
			load(ctx, client, url, appKey, q.body, n, time.Second) // warm up
			r := load(ctx, client, url, appKey, q.body, n, c.Duration)
			fmt.Printf("%-12s %8d %10.0f %10s %10s %8d\n", q.name, n, r.rps, r.p50, r.p99, r.errors)
			if q.name == "feed" {
				feedRPS = r.rps
			} else {
				fmt.Printf("%-12s %8d %10.2f  (feed req/s ÷ __typename req/s)\n", "ratio", n, feedRPS/r.rps)
			}
		}
	}
	return nil
}

type loadResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

// load runs n clients in a closed loop for d and reports throughput and latency.
func load(ctx context.Context, client *http.Client, url, key string, body func(*rand.Rand) []byte, n int, d time.Duration) loadResult {
	var (
		mu     sync.Mutex
		lats   []time.Duration
		errs   atomic.Int64
		wg     sync.WaitGroup
		cctx   context.Context
		cancel context.CancelFunc
	)
	cctx, cancel = context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var mine []time.Duration
			for cctx.Err() == nil {
				b := body(r)
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				if err != nil {
					if cctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || bytes.Contains(out, []byte(`"errors"`)) {
					if errs.Add(1) == 1 {
						slog.Warn("request failed", "status", resp.StatusCode, "body", string(out))
					}
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lats)
	res := loadResult{errors: errs.Load()}
	if len(lats) > 0 {
		res.rps = float64(len(lats)) / elapsed.Seconds()
		res.p50 = lats[len(lats)/2].Round(10 * time.Microsecond)
		res.p99 = lats[len(lats)*99/100].Round(10 * time.Microsecond)
	}
	return res
}
