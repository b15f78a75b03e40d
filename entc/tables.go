package entc

import (
	"fmt"

	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

// Tables loads the ent schema package at path (a directory such as
// ./ent/schema, or an import path) and returns its tables, as the
// generated migrate.Tables would: the input of schema.Diff for versioned
// migrations. It builds and runs the package with the go command, as
// `go generate` does for ent.
func Tables(path string) ([]*entschema.Table, error) {
	graph, err := entc.LoadGraph(path, &gen.Config{})
	if err != nil {
		return nil, fmt.Errorf("loading the ent schema at %s: %w", path, err)
	}
	tables, err := graph.Tables()
	if err != nil {
		return nil, fmt.Errorf("the ent schema at %s: %w", path, err)
	}
	return tables, nil
}
