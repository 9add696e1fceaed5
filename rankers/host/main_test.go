package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/popular"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Environment variables that steer the rankers this test binary serves when
// the host re-executes it.
const (
	envExternal  = "LIMELIGHT_TEST_EXTERNAL"   // ranker to serve when run without arguments
	envDelay     = "LIMELIGHT_TEST_DELAY"      // how long "slow" takes to Recommend
	envMarkerDir = "LIMELIGHT_TEST_MARKER_DIR" // where "slow" notes that a Recommend began
)

// TestMain serves a ranker when the host started this binary as a plugin
// (go-plugin's magic cookie is set), the usual re-exec trick: `<test binary>
// ranker <name>` plays `limelight ranker <name>`.
func TestMain(m *testing.M) {
	if os.Getenv(sdk.Handshake.MagicCookieKey) == sdk.Handshake.MagicCookieValue {
		name := os.Getenv(envExternal)
		if len(os.Args) >= 3 && os.Args[1] == "ranker" {
			name = os.Args[2]
		}
		if err := serveTestRanker(name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func serveTestRanker(name string) error {
	switch name {
	case "slow":
		delay, _ := time.ParseDuration(os.Getenv(envDelay))
		sdk.Serve(&slowRanker{Ranker: popular.New(), delay: delay, markers: os.Getenv(envMarkerDir)})
		return nil
	case "v2": // built against a future SDK
		hs := sdk.Handshake
		hs.ProtocolVersion = 2
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: hs,
			Plugins:         plugin.PluginSet{sdk.PluginName: &sdk.Plugin{Impl: popular.New()}},
			GRPCServer:      sdk.NewGRPCServer,
		})
		return nil
	}
	return builtin.Serve(name)
}

// slowRanker is the popularity ranker, slowed down in Recommend.
type slowRanker struct {
	*popular.Ranker
	delay   time.Duration
	markers string
}

func (r *slowRanker) Info() sdk.Info {
	in := r.Ranker.Info()
	in.Name = "slow"
	return in
}

func (r *slowRanker) Recommend(ctx context.Context, q sdk.Query) ([]sdk.Scored, error) {
	if r.markers != "" {
		os.WriteFile(filepath.Join(r.markers, "recommend-"+strconv.Itoa(os.Getpid())), nil, 0o644)
	}
	select {
	case <-time.After(r.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r.Ranker.Recommend(ctx, q)
}
