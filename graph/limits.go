package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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
	n, err := nodes(rc.Operation.SelectionSet, rc, 0)
	if err == nil && n > MaxNodes {
		err = fmt.Errorf("query may return up to %d nodes; the limit is %d (ask for smaller pages)", n, MaxNodes)
	}
	if err != nil {
		gerr := gqlerror.Errorf("%s", err.Error())
		gerr.Extensions = map[string]any{"code": string(apperr.BadInput)}
		return gerr
	}
	return nil
}

// MaxNodes bounds how many objects one operation may return, counting
// every connection as full pages of the size it asks for.
const MaxNodes = 10_000

// nodes estimates the most objects a selection can return: a connection
// multiplies what is below it by its page size. Nested connections must
// say first or last (top-level ones default to DefaultPage), so that no
// request can fetch a whole edge.
func nodes(set ast.SelectionSet, rc *graphql.OperationContext, level int) (int, error) {
	total := 0
	for _, sel := range set {
		var n int
		var err error
		switch s := sel.(type) {
		case *ast.InlineFragment:
			n, err = nodes(s.SelectionSet, rc, level)
		case *ast.FragmentSpread:
			if f := rc.Doc.Fragments.ForName(s.Name); f != nil && level < 64 {
				n, err = nodes(f.SelectionSet, rc, level)
			}
		case *ast.Field:
			n, err = fieldNodes(s, rc, level)
		}
		if err != nil {
			return 0, err
		}
		total += n
		if total > 1<<30 {
			return total, nil
		}
	}
	return total, nil
}

func fieldNodes(f *ast.Field, rc *graphql.OperationContext, level int) (int, error) {
	def := f.Definition
	if def == nil || strings.HasPrefix(f.Name, "__") {
		return 0, nil
	}
	child, err := nodes(f.SelectionSet, rc, level+1)
	if err != nil {
		return 0, err
	}
	mult := 1
	if strings.HasSuffix(def.Type.Name(), "Connection") && def.Arguments.ForName("first") != nil {
		args := f.ArgumentMap(rc.Variables)
		switch first, last := toInt(args["first"]), toInt(args["last"]); {
		case first > 0 || last > 0:
			mult = max(first, last)
		case args["first"] != nil || args["last"] != nil:
			mult = 0
		case level == 0 || def.Arguments.ForName("first").DefaultValue != nil:
			mult = DefaultPage
		default:
			return 0, fmt.Errorf("%s needs first or last", f.Alias)
		}
	} else if def.Type.Elem != nil && level == 0 {
		mult = MaxPage // top-level lists (nodes, rankers, ...) count as full pages
	}
	return mult * (1 + child), nil
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
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
