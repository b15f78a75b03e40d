// Package embedded adds the embedded libSQL engine to the libSQL driver:
// importing it makes libsql.Open (and the generated ent.Open("libsql", ...))
// accept local databases and embedded replicas.
//
//	import _ "github.com/entlibsql/entlibsql/dialect/embedded"
//
//	drv, err := libsql.Open("file:app.db")           // a local file
//	drv, err := libsql.Open("file::memory:")         // in memory
//	drv, err := libsql.Open("file:replica.db?syncUrl=libsql://db.turso.io&syncInterval=30s",
//		libsql.WithAuthToken(token))                 // an embedded replica
//
// An embedded replica is a local file kept in sync with a sqld or Turso
// primary: reads are local, writes go to the primary. OpenReplica gives
// the same with Sync at hand.
//
// The engine is github.com/tursodatabase/go-libsql, which links a prebuilt
// libSQL with cgo. It registers the database/sql name "libsql", as
// libsql-client-go does, so the two cannot be linked into one binary; the
// pure-Go core (dialect/libsql) imports neither.
package embedded

import "time"

// DefaultBusyTimeout is how long a statement waits for a lock another
// connection (or process) holds on the file before it fails with
// SQLITE_BUSY, as go-sqlite3 waits by default. Set it per URL with
// busyTimeout (0 fails at once).
const DefaultBusyTimeout = 5 * time.Second
