package builtin

import (
	"fmt"
	"os"
	"testing"
)

// RunTests is a TestMain for packages whose tests start built-in rankers
// through a host with Config.Self = os.Args[0]: the host re-executes the
// test binary as `<test binary> ranker <name>`, which this serves as the
// plugin; any other invocation runs the tests.
//
//	func TestMain(m *testing.M) { builtin.RunTests(m) }
func RunTests(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "ranker" {
		if err := Serve(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
