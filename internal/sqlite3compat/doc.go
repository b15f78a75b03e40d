// Package sqlite3compat checks that a database written through this
// module's driver reads the same through ent's sqlite3 dialect on
// go-sqlite3 (github.com/mattn/go-sqlite3), the driver ent's own suites
// use, and the other way round.
//
// It is a module of its own, so that go-sqlite3 (cgo) stays out of
// entlibsql's go.mod; `go test ./...` at the repository root does not
// reach it: run `cd internal/sqlite3compat && go test ./...` (.ci/run does).
package sqlite3compat
