// Package vectortest holds the ent schema the tests of libSQL vectors run
// on (github.com/entlibsql/entlibsql/dialect/libsql/vector): documents
// with an indexed F32 embedding and an author (for eager loading), notes
// with UUID ids (the rowid join), samples with a field of every vector
// type, and the items of the vector benchmark (internal/bench/vectors).
// The generated client lives in ./ent and is checked in; regenerate it
// with `go generate ./internal/vectortest/` after editing ./schema.
package vectortest

//go:generate go run entc.go
