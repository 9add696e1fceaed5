package sdktest_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/limelight-hq/limelight/rankers/popular"
	"github.com/limelight-hq/limelight/rankers/sdk"
	"github.com/limelight-hq/limelight/rankers/sdk/sdktest"
)

// broken is a popularity ranker with one deliberate contract violation.
type broken struct {
	*popular.Ranker
	how string
}

func (b *broken) Recommend(ctx context.Context, q sdk.Query) ([]sdk.Scored, error) {
	switch b.how {
	case "panic":
		if len(q.Candidates) > 0 && q.Candidates[len(q.Candidates)-1] >= sdktest.NumItems {
			var m map[string]int
			m["boom"]++
		}
	case "consumed":
		q.IncludeConsumed = true
	}
	got, err := b.Ranker.Recommend(ctx, q)
	if b.how == "unsorted" && len(got) > 2 {
		got[0], got[len(got)-1] = got[len(got)-1], got[0]
	}
	if b.how == "toomany" {
		got = append(got, sdk.Scored{Item: 0, Score: -1})
	}
	return got, err
}

func (b *broken) Similar(ctx context.Context, item int32, k int, exclude []int32) ([]sdk.Scored, error) {
	got, err := b.Ranker.Similar(ctx, item, k, exclude)
	if b.how == "self" && err == nil {
		got = append([]sdk.Scored{{Item: item, Score: 99}}, got...)
	}
	return got, err
}

func (b *broken) Load(r io.Reader) error {
	if b.how == "forgetful" {
		io.Copy(io.Discard, r)
		return nil
	}
	return b.Ranker.Load(r)
}

// TestBrokenHelper runs the suite on a broken ranker when asked to by
// TestRunCatchesViolations; otherwise it does nothing.
func TestBrokenHelper(t *testing.T) {
	how := os.Getenv("SDKTEST_BROKEN")
	if how == "" {
		t.Skip("only run as a child of TestRunCatchesViolations")
	}
	sdktest.Run(t, func() sdk.Ranker { return &broken{Ranker: popular.New(), how: how} })
}

// TestRunCatchesViolations checks that the suite fails a ranker for each
// kind of violation, so that passing it means something.
func TestRunCatchesViolations(t *testing.T) {
	t.Parallel()
	for how, want := range map[string]string{
		"panic":     "panicked",
		"consumed":  "should have been left out",
		"unsorted":  "not sorted by score",
		"toomany":   "asked for",
		"self":      "should have been left out",
		"forgetful": "after Export and Import",
	} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SDKTEST_BROKEN="+how)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a ranker that is broken (%s):\n%s", how, out)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("the suite failed, but not with %q:\n%s", want, out)
			}
		})
	}
}

func TestDatasetIsValidAndStable(t *testing.T) {
	t.Parallel()
	a, b := sdktest.Dataset(), sdktest.Dataset()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Len() == 0 || len(a.Features) != a.NumItems {
		t.Fatalf("dataset has %d interactions and %d features for %d items", a.Len(), len(a.Features), a.NumItems)
	}
	for j := range a.Users {
		if a.Users[j] != b.Users[j] || a.Items[j] != b.Items[j] || a.Weights[j] != b.Weights[j] {
			t.Fatal("Dataset differs between calls")
		}
	}
}
