package graph_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// Nested connections are loaded per level, not per parent: the number of
// SQL queries does not grow with the page size.
func TestNestedConnectionsAreBatched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		cfg := seed.Demo()
		cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions = 100, 30, 300, 1000
		seed.MustLoad(t, st.Client, cfg)
		s := graphtest.New(t, st, nil) // creates the ADMIN key before counting starts
		var queries atomic.Int64
		drv := dialect.DebugWithContext(entsql.OpenDB(st.Dialect, st.DB), func(_ context.Context, args ...any) {
			if len(args) > 0 && strings.Contains(strings.ToUpper(args[0].(string)), "SELECT") {
				queries.Add(1)
			}
		})
		counted := &store.Store{Client: ent.NewClient(ent.Driver(drv)), DB: st.DB, Dialect: st.Dialect}
		cs := graphtest.NewWith(t, counted, graph.Deps{}).As(s.AdminKey)

		run := func(first int) int64 {
			queries.Store(0)
			var out struct {
				Influencers struct {
					Edges []struct {
						Node struct {
							Contents struct {
								TotalCount int
								Edges      []struct{ Node struct{ Title string } }
							}
							Followers struct{ TotalCount int }
						}
					}
				}
			}
			cs.Must(`query($n: Int) { influencers(first: $n) { edges { node {
			  contents(first: 3) { totalCount edges { node { title } } }
			  followers(first: 2) { totalCount } } } } }`, map[string]any{"n": first}, &out)
			if len(out.Influencers.Edges) != first {
				t.Fatalf("got %d influencers", len(out.Influencers.Edges))
			}
			return queries.Load()
		}
		small, large := run(2), run(25)
		t.Logf("SELECTs: %d for 2 influencers, %d for 25", small, large)
		if small == 0 || large != small {
			t.Fatalf("queries: %d for 2 influencers, %d for 25 (want equal and non-zero)", small, large)
		}
	})
}
