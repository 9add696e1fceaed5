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
