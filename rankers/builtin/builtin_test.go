package builtin_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/limelight-hq/limelight/rankers/builtin"
)

func TestNamesAndNew(t *testing.T) {
	t.Parallel()
	if got := builtin.Names(); !slices.Equal(got, []string{"als", "popular", "similarity"}) {
		t.Errorf("Names() = %v", got)
	}
	for _, n := range builtin.Names() {
		r, err := builtin.New(n)
		if err != nil || r.Info().Name != n {
			t.Errorf("New(%q) = %v, %v", n, r, err)
		}
	}
	if _, err := builtin.New("nope"); !errors.Is(err, builtin.ErrUnknown) {
		t.Errorf("New(nope): %v", err)
	}
	if err := builtin.Serve("nope"); !errors.Is(err, builtin.ErrUnknown) {
		t.Errorf("Serve(nope): %v", err)
	}
}
