// Package graphtest drives the real HTTP handler in-process for API tests:
// requests go through the same mux, transports, limits and error presenter as
// in production, against a real store.
package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/ratelimit"
	"github.com/limelight-hq/limelight/internal/store"
)

// Server is an API under test.
type Server struct {
	// Handler is the full HTTP mux.
	Handler http.Handler
	// Store is the store behind it.
	Store *store.Store
	// Resolver is the root resolver, for tests that need its services.
	Resolver *graph.Resolver
	t        testing.TB
	// Header is sent with every request (e.g. Authorization).
	Header http.Header
	// AdminKey is the secret of the ADMIN key New sends by default.
	AdminKey string
}

// New serves the API over st and sends every request with a fresh ADMIN
// key (see As to call as someone else). now may be nil for the real clock.
// Rate limiting is off; use NewWith with a RateLimit to test it.
func New(t testing.TB, st *store.Store, now func() time.Time) *Server {
	return NewWith(t, st, graph.Deps{Now: now})
}

// NewWith is New with the given dependencies: Client is set to st's, a zero
// RateLimit turns rate limiting off, and a nil Logger logs warnings and
// errors only (request lines would drown test output).
func NewWith(t testing.TB, st *store.Store, d graph.Deps) *Server {
	t.Helper()
	d.Client = st.Client
	if d.RateLimit == (ratelimit.Config{}) {
		d.RateLimit.Rate = -1
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	r := graph.NewResolver(d)
	s := &Server{Handler: graph.NewMux(r, st), Store: st, Resolver: r, t: t, Header: http.Header{}}
	s.AdminKey = s.NewKey(auth.Admin, "")
	s.Header.Set("Authorization", "Bearer "+s.AdminKey)
	return s
}

// NewKey creates an API key directly in the store and returns its secret.
func (s *Server) NewKey(role auth.Role, ownerID string) string {
	s.t.Helper()
	_, secret, err := auth.Create(context.Background(), s.Store.Client, role, pulid.ID(ownerID), "graphtest")
	if err != nil {
		s.t.Fatalf("create %s key: %v", role, err)
	}
	return secret
}

// As returns a copy of s that sends Authorization: Bearer secret; an empty
// secret sends no Authorization header (an anonymous caller).
func (s *Server) As(secret string) *Server {
	c := *s
	c.Header = s.Header.Clone()
	c.Header.Del("Authorization")
	if secret != "" {
		c.Header.Set("Authorization", "Bearer "+secret)
	}
	return &c
}

// WithT returns a copy of s that reports failures to t (for subtests).
func (s *Server) WithT(t testing.TB) *Server {
	c := *s
	c.t = t
	return &c
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a decoded GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Codes lists the extensions.code of every error.
func (r Response) Codes() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.Code())
	}
	return out
}

// HasCode reports whether some error carries code.
func (r Response) HasCode(code string) bool {
	for _, e := range r.Errors {
		if e.Code() == code {
			return true
		}
	}
	return false
}

// Raw sends a raw HTTP request to path and decodes the reply as GraphQL.
func (s *Server) Raw(method, path, contentType string, body []byte) Response {
	s.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range s.Header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	resp := Response{Status: rec.Code}
	if strings.Contains(rec.Header().Get("Content-Type"), "json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			s.t.Fatalf("%s %s: undecodable reply %q: %v", method, path, rec.Body.String(), err)
		}
	}
	return resp
}

// Do posts a query with variables.
func (s *Server) Do(query string, vars map[string]any) Response {
	s.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		s.t.Fatal(err)
	}
	return s.Raw(http.MethodPost, "/graphql", "application/json", body)
}

// Must posts a query, fails the test on any error, and decodes data into out.
func (s *Server) Must(query string, vars map[string]any, out any) {
	s.t.Helper()
	r := s.Do(query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		s.t.Fatalf("query failed (status %d): %+v\nquery: %s", r.Status, r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			s.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

// Fail posts a query that must fail with code, and returns the response.
func (s *Server) Fail(code, query string, vars map[string]any) Response {
	s.t.Helper()
	r := s.Do(query, vars)
	if !r.HasCode(code) {
		s.t.Fatalf("want error code %s, got status %d errors %+v data %s\nquery: %s", code, r.Status, r.Errors, r.Data, query)
	}
	return r
}
