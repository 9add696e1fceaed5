// Package builtin lists the rankers compiled into the Limelight binary. The
// server starts each as a child process by re-executing itself as
// `limelight ranker <name>`, which calls Serve.
package builtin

import (
	"errors"
	"fmt"
	"slices"

	"github.com/limelight-hq/limelight/rankers/als"
	"github.com/limelight-hq/limelight/rankers/popular"
	"github.com/limelight-hq/limelight/rankers/sdk"
	"github.com/limelight-hq/limelight/rankers/similarity"
)

// ErrUnknown is returned by New and Serve for a name that is not a built-in
// ranker.
var ErrUnknown = errors.New("unknown built-in ranker")

var constructors = map[string]func() sdk.Ranker{
	als.Name:        func() sdk.Ranker { return als.New() },
	popular.Name:    func() sdk.Ranker { return popular.New() },
	similarity.Name: func() sdk.Ranker { return similarity.New() },
}

// Names returns the names of the built-in rankers, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns a new, untrained built-in ranker.
func New(name string) (sdk.Ranker, error) {
	c, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %v)", ErrUnknown, name, Names())
	}
	return c(), nil
}

// Serve serves the named built-in ranker as a plugin on this process's
// stdin/stdout handshake and returns when the host stops it. It is what
// `limelight ranker <name>` runs.
func Serve(name string) error {
	r, err := New(name)
	if err != nil {
		return err
	}
	sdk.Serve(r)
	return nil
}
