package graph_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/limelight-hq/limelight/rankers/builtin"
)

// TestMain lets the test binary double as the ranker plugin binary: the host
// re-executes it as `<test binary> ranker <name>`, as the server does itself.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "ranker" {
		if err := builtin.Serve(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
