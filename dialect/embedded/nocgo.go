//go:build !cgo

package embedded

import (
	"database/sql"
	"errors"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Without cgo there is no engine: the package still builds, so that a
// binary built with CGO_ENABLED=0 (Go turns cgo off by itself when it
// finds no C compiler) runs on server URLs, and a file: URL fails with
// this error instead of a build failure inside go-libsql.
var errNoCgo = errors.New("embedded: this program was built without cgo (CGO_ENABLED=0, which Go also picks when it finds no C compiler), " +
	"and the embedded libSQL engine needs it: install gcc (or set CC) and build with CGO_ENABLED=1, " +
	"or use a server URL (libsql://, https://, http://, ws://) instead of file:")

func init() {
	libsql.RegisterLocalOpener(func(string, string) (*sql.DB, error) { return nil, errNoCgo })
}

// Replica is an embedded replica; without cgo, OpenReplica fails.
type Replica struct{}

// ReplicaOption configures OpenReplica.
type ReplicaOption func(*Replica)

// WithAuthToken is the primary's auth token.
func WithAuthToken(string) ReplicaOption { return func(*Replica) {} }

// WithSyncInterval syncs from the primary every d, besides Sync.
func WithSyncInterval(time.Duration) ReplicaOption { return func(*Replica) {} }

// OpenReplica fails: this build has no embedded engine (no cgo).
func OpenReplica(string, string, ...ReplicaOption) (*Replica, error) { return nil, errNoCgo }

// Driver is nil without cgo.
func (*Replica) Driver() *libsql.Driver { return nil }

// Sync fails without cgo.
func (*Replica) Sync() error { return errNoCgo }

// Close does nothing without cgo.
func (*Replica) Close() error { return nil }
