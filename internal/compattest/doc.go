// Package compattest checks the driver against libsql-client-go, the
// status quo: ent over a *sql.DB from libsql-client-go through OpenDB, and
// the request counts of that baseline. It lives apart from the core's
// tests because importing libsql-client-go registers the database/sql name
// "libsql", which the core itself must never do.
package compattest
