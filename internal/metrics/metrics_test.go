package metrics

import (
	"fmt"
	"testing"
)

func TestOperationLabelIsBounded(t *testing.T) {
	if got := operationLabel(""); got != "anonymous" {
		t.Fatalf("empty: %q", got)
	}
	if got := operationLabel("Feed{}"); got != "other" {
		t.Fatalf("odd name: %q", got)
	}
	if got := operationLabel("HomeFeed"); got != "HomeFeed" {
		t.Fatalf("plain name: %q", got)
	}
	for i := range 2 * maxOperations {
		operationLabel(fmt.Sprintf("op%d", i))
	}
	if got := operationLabel("oneTooMany"); got != "other" {
		t.Fatalf("past the bound: %q", got)
	}
	if got := operationLabel("HomeFeed"); got != "HomeFeed" {
		t.Fatalf("a known name must keep its label: %q", got)
	}
}

func TestRankerStartedMakesSeriesExist(t *testing.T) {
	RankerStarted("probe")
	mfs, err := Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "ranker" && l.GetValue() == "probe" {
					found[mf.GetName()] = true
				}
			}
		}
	}
	for _, name := range []string{"limelight_ranker_restarts_total", "limelight_ranker_call_errors_total"} {
		if !found[name] {
			t.Errorf("%s has no series for a started ranker (have %v)", name, found)
		}
	}
}
