package libsql

import (
	"database/sql"
	"strings"
	"sync/atomic"
)

// LocalOpener opens a local libSQL database for a file: URL (file:path.db,
// file::memory:, or an embedded replica's file with its sync URL), given
// the auth token from WithAuthToken, if any. The embedded engine (package
// github.com/entlibsql/entlibsql/dialect/embedded, which needs cgo)
// registers one when imported; the pure-Go core has none.
type LocalOpener func(dsn, authToken string) (*sql.DB, error)

var localOpener atomic.Pointer[LocalOpener]

// RegisterLocalOpener makes Open hand file: URLs to open. The last
// registration wins.
func RegisterLocalOpener(open LocalOpener) { localOpener.Store(&open) }

func isLocal(dsn string) bool {
	return strings.HasPrefix(dsn, "file:") || strings.HasPrefix(dsn, ":memory:")
}

// openLocal opens a file: URL with the registered opener.
func openLocal(dsn string, opts []Option) (*Driver, error) {
	open := localOpener.Load()
	if open == nil {
		return nil, urlErr(errEmbedded)
	}
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	db, err := (*open)(dsn, cfg.AuthToken())
	if err != nil {
		return nil, err
	}
	return OpenDB(db), nil
}
