package seed

import (
	"context"
	"testing"

	"github.com/limelight-hq/limelight/ent"
)

// MustLoad generates the world of cfg and loads it into client, failing the
// test on any error. It is how tests get a world of the size they need.
func MustLoad(t testing.TB, client *ent.Client, cfg Config) (*World, *IDs) {
	t.Helper()
	w, err := Generate(cfg)
	if err != nil {
		t.Fatalf("generate world: %v", err)
	}
	ids, err := Load(context.Background(), client, w)
	if err != nil {
		t.Fatalf("load world: %v", err)
	}
	return w, ids
}
