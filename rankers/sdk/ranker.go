// Package sdk is what a ranker plugin is written against: implement Ranker,
// call Serve from main, and the Limelight server can start the binary, train
// it and ask it for recommendations.
//
//	func main() { sdk.Serve(myranker.New()) }
//
// Users and items are dense indexes chosen by the host for one training run
// (0..NumUsers-1 and 0..NumItems-1); every call after Train speaks that index
// space. The host side of the contract is Client (one ranker process) and the
// rankers/host package (many of them, with timeouts, restarts and fallback).
// Package sdktest checks a Ranker against the contract in-process.
package sdk

import (
	"context"
	"io"
	"strings"
	"time"
)

// Ranker is implemented by every ranker. The gRPC server calls its methods
// concurrently: Recommend and Similar may run while Train or Load replaces
// the model, so an implementation builds a new model aside and swaps it in.
//
// Methods return the sentinel errors of this package (wrapped with context)
// for the caller's mistakes and for missing models; they travel across the
// process boundary and come out of Client with errors.Is intact.
type Ranker interface {
	// Info describes the ranker. It is called before any training.
	Info() Info

	// Train replaces the model with one trained on d. p holds the
	// hyperparameters by name; those not given take their declared defaults.
	// d has been checked with Dataset.Validate and p with ValidateParams.
	Train(ctx context.Context, d *Dataset, p Params) (Report, error)

	// Recommend returns at most q.K items for a user, best first, with no
	// duplicates, none of q.Exclude, and none the user already consumed
	// (training interactions and q.History) unless q.IncludeConsumed.
	// It fails with ErrBadInput for K < 1, a user below -1, or items out of
	// range; with ErrUnknownUser for a user it cannot rank (-1, beyond the
	// trained range, or without training interactions, and no usable
	// History); with ErrNotTrained before Train or Load.
	Recommend(ctx context.Context, q Query) ([]Scored, error)

	// Similar returns at most k items like item, best first, never item
	// itself nor any of exclude. It fails with ErrBadInput for k < 1 or an
	// item out of range, and with ErrUnsupported if the ranker has no
	// ItemItems capability.
	Similar(ctx context.Context, item int32, k int, exclude []int32) ([]Scored, error)

	// Save writes the model so that Load, in another process, restores a
	// ranker that answers exactly as this one does.
	Save(w io.Writer) error

	// Load replaces the model with one written by Save.
	Load(r io.Reader) error
}

// BatchRecommender may be implemented by a Ranker that answers many queries
// faster together than one by one. Without it the server runs Recommend for
// each query on GOMAXPROCS goroutines.
type BatchRecommender interface {
	// RecommendBatch returns one result per query, in order.
	RecommendBatch(ctx context.Context, qs []Query) []BatchResult
}

// ModelVersioner may be implemented by a Ranker to say which model it holds,
// so that Import can tell the host (Train reports it in its Report).
type ModelVersioner interface {
	// ModelVersion returns the version of the current model, "" for none.
	ModelVersion() string
}

// Info describes a ranker.
type Info struct {
	// Name is how the host and the GraphQL API refer to the ranker.
	Name string
	// Version is the version of the ranker's code, not of its model.
	Version string
	// Description is one line for operators.
	Description string
	// Capabilities says which questions the ranker answers.
	Capabilities Capability
	// Needs says which training data the ranker uses; the host may leave
	// out the rest.
	Needs Need
	// Params declares the hyperparameters Train accepts.
	Params []ParamSpec
}

// Capability is a set of questions a ranker answers.
type Capability uint8

const (
	// UserItems means Recommend works.
	UserItems Capability = 1 << iota
	// ItemItems means Similar works.
	ItemItems
)

// Has reports whether c includes all of o.
func (c Capability) Has(o Capability) bool { return c&o == o }

// String lists the capabilities, e.g. "USER_ITEMS|ITEM_ITEMS".
func (c Capability) String() string {
	var s []string
	if c.Has(UserItems) {
		s = append(s, "USER_ITEMS")
	}
	if c.Has(ItemItems) {
		s = append(s, "ITEM_ITEMS")
	}
	return strings.Join(s, "|")
}

// Need is a set of kinds of training data.
type Need uint8

const (
	// NeedInteractions means the ranker uses Dataset.Users, Items, Weights
	// and Times.
	NeedInteractions Need = 1 << iota
	// NeedItemFeatures means the ranker uses Dataset.Features.
	NeedItemFeatures
)

// Has reports whether n includes all of o.
func (n Need) Has(o Need) bool { return n&o == o }

// String lists the needs, e.g. "INTERACTIONS|ITEM_FEATURES".
func (n Need) String() string {
	var s []string
	if n.Has(NeedInteractions) {
		s = append(s, "INTERACTIONS")
	}
	if n.Has(NeedItemFeatures) {
		s = append(s, "ITEM_FEATURES")
	}
	return strings.Join(s, "|")
}

// Query asks for recommendations for one user.
type Query struct {
	// User is the user index, or -1 for a user the model has not seen.
	User int32
	// K is the most items to return; at least 1.
	K int
	// Exclude lists items never to return.
	Exclude []int32
	// Candidates, when not nil, restricts ranking to these items.
	Candidates []int32
	// History holds recent interactions of the user. Rankers fold it in for
	// a user the model does not know (User -1 or beyond the trained range);
	// its items always count as consumed.
	History []ItemWeight
	// IncludeConsumed allows items the user already consumed.
	IncludeConsumed bool
}

// ItemWeight is one interaction in a Query's History.
type ItemWeight struct {
	// Item is the item index.
	Item int32
	// Weight is the interaction's weight, as in Dataset.Weights.
	Weight float32
}

// Scored is one ranked item. Higher scores are better; scores are only
// comparable within one answer of one ranker.
type Scored struct {
	// Item is the item index.
	Item int32
	// Score is the ranker's score; higher is better.
	Score float32
}

// BatchResult is the answer to one query of a batch.
type BatchResult struct {
	// Items is the ranking, best first; nil when Err is set.
	Items []Scored
	// Err is why this query failed, if it did.
	Err error
}

// Report describes a finished training run.
type Report struct {
	// Duration is the wall time Train took.
	Duration time.Duration
	// Metrics holds ranker-specific numbers (loss, sizes, timings).
	Metrics map[string]float64
	// ModelVersion identifies the trained model; when a ranker leaves it
	// empty the server makes one up from the name and the time.
	ModelVersion string
}
