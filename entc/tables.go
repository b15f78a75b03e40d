package entc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

// Tables loads the ent schema package at path (a directory such as
// ./ent/schema or ent/schema, or an import path) and returns its tables,
// as the generated migrate.Tables would: the input of schema.Diff for
// versioned migrations. It builds and runs the package with the go
// command, as `go generate` does for ent.
func Tables(path string) ([]*entschema.Table, error) {
	graph, err := entc.LoadGraph(localPath(path), &gen.Config{})
	if err != nil {
		return nil, fmt.Errorf("loading the ent schema at %s: %w", path, err)
	}
	tables, err := graph.Tables()
	if err != nil {
		return nil, fmt.Errorf("the ent schema at %s: %w", path, err)
	}
	return tables, nil
}

// localPath makes a relative directory such as ent/schema, as Atlas users
// write it (ent://ent/schema), explicit for the go command, which would
// take it for an import path ("package ent/schema is not in std").
func localPath(path string) string {
	if filepath.IsAbs(path) || path == "." || path == ".." ||
		strings.HasPrefix(path, "./") || strings.HasPrefix(path, "../") {
		return path
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "./" + filepath.ToSlash(path)
	}
	return path
}
