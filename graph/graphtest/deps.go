package graphtest

import (
	"testing"

	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/internal/store"
)

// NewFromDeps serves the API built from deps (e.g. with a feed service),
// calling as ADMIN like New; it is NewWith under another name.
func NewFromDeps(t testing.TB, st *store.Store, deps graph.Deps) *Server {
	t.Helper()
	return NewWith(t, st, deps)
}
