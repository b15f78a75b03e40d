// Package libsql is an ent (entgo.io/ent) driver for libSQL: a sqld server,
// self-hosted or Turso Cloud, reached over the Hrana protocol.
//
// Open a driver from a URL and hand it to a generated ent client:
//
//	drv, err := libsql.Open("libsql://my-db.turso.io?authToken=" + token)
//	if err != nil { ... }
//	client := ent.NewClient(ent.Driver(drv))
//
// The driver's Dialect is "sqlite3", so ent's generated code works
// unchanged. A database/sql connection is one Hrana stream: an autocommit
// statement costs one HTTP request, a transaction of N statements N + 1.
// The package registers no database/sql driver name; OpenDB also accepts a
// *sql.DB from libsql-client-go or go-libsql.
package libsql
