//go:build ignore

package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	libsqlentc "github.com/entlibsql/entlibsql/entc"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{gen.FeatureUpsert},
	}, entc.Extensions(libsqlentc.Extension()))
	if err != nil {
		log.Fatal(err)
	}
}
