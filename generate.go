package main

// The ent client (and graph/ent.graphqls) first, then gqlgen over the result.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run -mod=mod github.com/99designs/gqlgen generate
