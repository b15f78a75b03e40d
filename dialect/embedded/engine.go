//go:build cgo && (linux || darwin) && (amd64 || arm64)

package embedded

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	// Registers the database/sql name "libsql".
	_ "github.com/tursodatabase/go-libsql"
)

// openFile opens a local database with go-libsql's driver, its errors
// passed through mapError.
func openFile(dsn string, busyTimeout time.Duration) (*sql.DB, error) {
	probe, err := sql.Open("libsql", dsn) // connects to nothing
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	probe.Close()
	dc, ok := d.(driver.DriverContext)
	if !ok {
		return nil, fmt.Errorf("go-libsql's driver (%T) has no OpenConnector", d)
	}
	c, err := dc.OpenConnector(dsn)
	if err != nil {
		return nil, mapError(err)
	}
	return sql.OpenDB(wrapConnector(c, busyTimeout)), nil
}
