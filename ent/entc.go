//go:build ignore

// This program generates the ent client and the ent part of the GraphQL
// schema (graph/ent.graphqls). Run it through `go generate ./...`.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphqls"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:    "./ent",
		Package:   "github.com/limelight-hq/limelight/ent",
		Features:  []gen.Feature{gen.FeatureLock, gen.FeatureUpsert, gen.FeatureExecQuery},
		Templates: []*gen.Template{gen.MustParse(gen.NewTemplate("pulid").ParseFiles("ent/schema/pulid/template/pulid.tmpl"))},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
