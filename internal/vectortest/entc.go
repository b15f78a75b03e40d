//go:build ignore

// entc.go generates ./ent from ./schema with the libSQL extension; run it
// with `go generate ./internal/vectortest/`.
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	libsqlentc "github.com/entlibsql/entlibsql/entc"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Target:   "./ent",
		Package:  "github.com/entlibsql/entlibsql/internal/vectortest/ent",
		Features: []gen.Feature{gen.FeatureUpsert, gen.FeatureModifier},
	}, entc.Extensions(libsqlentc.Extension()))
	if err != nil {
		log.Fatal(err)
	}
}
