package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/limelight-hq/limelight/internal/apperr"
)

// Limits protect the server from expensive requests.
const (
	// MaxPage is the largest first/last a connection accepts.
	MaxPage = 100
	// DefaultPage is the page size when neither first nor last is given.
	DefaultPage = 20
	// MaxDepth is the deepest selection set an operation may have.
	MaxDepth = 10
	// MaxComplexity bounds gqlgen's complexity score of an operation.
	MaxComplexity = 1000
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes = 1 << 20
)

// checkPageArgs rejects first/last above MaxPage or below zero on any field,
// so nested connections are bounded too.
func checkPageArgs(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Args != nil {
		for _, name := range []string{"first", "last"} {
			if v, ok := fc.Args[name].(*int); ok && v != nil && (*v < 0 || *v > MaxPage) {
				return nil, apperr.Errorf(apperr.BadInput, "%s must be between 0 and %d", name, MaxPage)
			}
		}
	}
	return next(ctx)
}

// pageSize applies DefaultPage when a connection is asked for without first or last.
func pageSize(first, last *int) *int {
	if first == nil && last == nil {
		n := DefaultPage
		return &n
	}
	return first
}

// depthLimit rejects operations nested deeper than max (introspection excepted).
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	if depth(rc.Operation.SelectionSet, rc.Doc, 0, true) > d.max {
		err := gqlerror.Errorf("query is nested deeper than %d levels", d.max)
		err.Extensions = map[string]any{"code": string(apperr.BadInput)}
		return err
	}
	return nil
}

func depth(set ast.SelectionSet, doc *ast.QueryDocument, level int, top bool) int {
	deepest := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if top && (s.Name == "__schema" || s.Name == "__type") {
				continue
			}
			d = depth(s.SelectionSet, doc, level+1, false)
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, doc, level, top)
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil && level < 64 {
				d = depth(f.SelectionSet, doc, level, top)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}
