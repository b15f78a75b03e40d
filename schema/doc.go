// Package schema adapts ent's Atlas-based SQLite migrations to sqld, the
// libSQL server: it rewrites the statements Atlas plans for SQLite that
// sqld refuses.
//
// A driver from github.com/entlibsql/entlibsql/dialect/libsql applies it
// to client.Schema.Create on its own, and runs the whole migration on one
// server stream with foreign keys off; nothing here needs calling for
// that. It is for users who run Atlas plans themselves.
package schema
