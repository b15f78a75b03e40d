//go:build !(cgo && (linux || darwin) && (amd64 || arm64))

package embedded

import (
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Without cgo, or on a platform go-libsql has no prebuilt libSQL for,
// there is no engine: the package still builds, so that such a binary
// runs on server URLs, and a file: URL fails with noEngine's error
// instead of a build failure inside go-libsql.
func noEngine() error {
	switch runtime.GOOS + "/" + runtime.GOARCH {
	case "linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64":
		return errors.New("embedded: this program was built without cgo (CGO_ENABLED=0, which Go also picks when it finds no C compiler), " +
			"and the embedded libSQL engine needs it: install gcc (or set CC) and build with CGO_ENABLED=1, " +
			"or use a server URL (libsql://, https://, http://, ws://) instead of file:")
	}
	return fmt.Errorf("embedded: there is no embedded libSQL engine for %s/%s (go-libsql ships one for linux and darwin on amd64 and arm64): "+
		"use a server URL (libsql://, https://, http://, ws://) instead of file:", runtime.GOOS, runtime.GOARCH)
}

func init() {
	libsql.RegisterLocalOpener(func(string, string) (*sql.DB, error) { return nil, noEngine() })
}

// Replica is an embedded replica; without the engine, OpenReplica fails.
type Replica struct{}

// ReplicaOption configures OpenReplica.
type ReplicaOption func(*Replica)

// WithAuthToken is the primary's auth token.
func WithAuthToken(string) ReplicaOption { return func(*Replica) {} }

// WithSyncInterval syncs from the primary every d, besides Sync.
func WithSyncInterval(time.Duration) ReplicaOption { return func(*Replica) {} }

// OpenReplica fails: this build has no embedded engine.
func OpenReplica(string, string, ...ReplicaOption) (*Replica, error) { return nil, noEngine() }

// Driver is nil without the engine.
func (*Replica) Driver() *libsql.Driver { return nil }

// Sync fails without the engine.
func (*Replica) Sync() error { return noEngine() }

// Close does nothing without the engine.
func (*Replica) Close() error { return nil }
