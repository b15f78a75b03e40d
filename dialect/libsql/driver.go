package libsql

import (
	"database/sql"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Driver is an ent dialect.Driver for libSQL. Its Dialect is "sqlite3", so
// ent's generated code, its SQL builder and its migrations treat the
// database as the SQLite it is.
type Driver struct {
	*entsql.Driver
	fk      fkRequests // see entmigrate.go
	foreign bool       // the *sql.DB is another driver's (OpenDB)
}

var _ dialect.Driver = (*Driver)(nil)

// idleConns keeps a pool of idle connections: an idle conn holds no
// server stream unless the caller left session state on it, so keeping
// them costs nothing, and it spares database/sql closing and re-creating
// them under concurrency.
const idleConns = 32

// Open returns a driver for the libSQL server at dsn. See ParseURL for the
// URL forms. Nothing is sent to the server until the first statement.
// With the embedded engine imported (package dialect/embedded), Open also
// takes file: URLs: see RegisterLocalOpener.
func Open(dsn string, opts ...Option) (*Driver, error) {
	if isLocal(dsn) {
		return openLocal(dsn, opts)
	}
	c, err := NewConnector(dsn, opts...)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxIdleConns(idleConns)
	return OpenDB(db), nil
}

// OpenDB wraps a *sql.DB that reaches a libSQL database: one opened with
// this package's Connector, or one from libsql-client-go or go-libsql.
func OpenDB(db *sql.DB) *Driver {
	_, ours := db.Driver().(sqlDriver)
	return &Driver{Driver: entsql.OpenDB(dialect.SQLite, db), foreign: !ours}
}
