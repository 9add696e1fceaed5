package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/metrics"
)

// NewGraphQLHandler returns the /graphql handler: GraphQL over HTTP (GET and
// POST with application/json), with limits and error codes.
func NewGraphQLHandler(r *Resolver) http.Handler {
	cfg := Config{Resolvers: r}
	cfg.Directives.Auth = r.authDirective
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(introspectionGate{dev: r.dev})
	srv.Use(observe{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(depthLimit{max: MaxDepth})
	srv.AroundFields(checkPageArgs)
	srv.AroundFields(r.guardResults)
	srv.SetErrorPresenter(presentError(r.log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		r.log.ErrorContext(ctx, "panic in resolver", "panic", v)
		return apperr.Errorf(apperr.Internal, "internal error")
	})
	return r.requestLog(r.authenticate(guard(srv)))
}

// guard answers requests gqlgen's transports would reject without a code:
// wrong methods and content types; and it bounds the body size.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.Method {
		case http.MethodGet, http.MethodOptions:
			if hasNUL(req.URL.RawQuery) || strings.Contains(req.URL.RawQuery, "%00") {
				writeError(w, http.StatusBadRequest, apperr.BadInput, "strings must not contain NUL characters")
				return
			}
			if q := strings.TrimSpace(req.URL.Query().Get("query")); strings.HasPrefix(q, "mutation") {
				w.Header().Set("Allow", "POST")
				writeError(w, http.StatusMethodNotAllowed, apperr.BadInput, "mutations need POST")
				return
			}
		case http.MethodPost:
			mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, apperr.BadInput, "Content-Type must be application/json")
				return
			}
			if req.ContentLength > MaxBodyBytes {
				writeError(w, http.StatusRequestEntityTooLarge, apperr.BadInput, "request body is larger than 1 MiB")
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBodyBytes))
			if err != nil {
				writeError(w, http.StatusRequestEntityTooLarge, apperr.BadInput, "request body is larger than 1 MiB")
				return
			}
			if hasNUL(string(body)) {
				writeError(w, http.StatusBadRequest, apperr.BadInput, "strings must not contain NUL characters")
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, apperr.BadInput, "use GET or POST")
			return
		}
		next.ServeHTTP(w, req)
	})
}

func writeError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	writeErrorExt(w, status, code, msg, nil)
}

// writeErrorExt writes a GraphQL-shaped error with extra extensions.
func writeErrorExt(w http.ResponseWriter, status int, code apperr.Code, msg string, ext map[string]any) {
	e := map[string]any{"code": code}
	for k, v := range ext {
		e[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": e}},
	})
}

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// NewMux serves the whole HTTP API: /graphql, GraphiQL at /, /healthz,
// /readyz and /metrics (Prometheus).
func NewMux(r *Resolver, db Pinger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/graphql", NewGraphQLHandler(r))
	mux.Handle("GET /{$}", playground.Handler("Limelight", "/graphql"))
	mux.Handle("GET /metrics", metrics.Handler())
	mux.Handle("GET /r/{token}", r.Redirect())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

// hasNUL reports whether a JSON text holds a NUL character, raw or escaped:
// PostgreSQL cannot store one in text, and no field here needs it.
func hasNUL(s string) bool {
	return strings.Contains(s, "\x00") || strings.Contains(s, `\u0000`)
}
