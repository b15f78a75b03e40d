// Package testent holds the ent schema the integration tests of the libSQL
// driver run on: a Kind entity with every ent field type (required,
// optional and nillable variants) and User/Card/Post/Tag entities covering
// every kind of edge (O2O, O2M with ON DELETE CASCADE, M2M, and both
// self-referencing forms). The generated client lives in ./ent
// (github.com/entlibsql/entlibsql/internal/testent/ent) and is checked in;
// regenerate it with `go generate ./internal/testent/` after editing
// ./schema.
package testent

//go:generate go run entc.go
