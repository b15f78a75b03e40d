// Package schema adapts ent's Atlas-based SQLite migrations to libSQL.
//
// WithLibSQL, passed to client.Schema.Create (or WriteTo, to see what it
// runs), changes tables in place where SQLite or libSQL can (ADD, DROP
// and RENAME COLUMN, libSQL's ALTER COLUMN), checks the rows before a
// constraint is tightened, and makes the table rebuilds left keep what
// the database holds beyond the ent schema: indexes, triggers, views,
// table options, generated and undeclared columns, statistics. Under the
// migration's lock it checks that the tables are still what ent planned
// from, and plans again if another migration changed them meanwhile (app
// instances starting at once).
//
// Versioned migrations: Diff writes the next migration file of a
// directory in Atlas's format, keeping those objects in the same way;
// Apply runs the pending files, each in a libsql.Migration (foreign keys
// off on one stream, checked before COMMIT), recording them as the Atlas
// CLI does; Status and Hash report on and rehash a directory.
//
// The libSQL driver (dialect/libsql) runs every migration on one server
// stream with foreign keys off without this package; without WithLibSQL
// it refuses a rebuild that would lose what ent does not declare.
package schema
