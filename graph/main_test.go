package graph_test

import (
	"testing"

	"github.com/limelight-hq/limelight/rankers/builtin"
)

// TestMain lets the test binary double as the ranker plugin binary: the host
// re-executes it as `<test binary> ranker <name>`, as the server does itself.
func TestMain(m *testing.M) { builtin.RunTests(m) }
