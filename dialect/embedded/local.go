//go:build cgo && (linux || darwin) && (amd64 || arm64)

package embedded

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	golibsql "github.com/tursodatabase/go-libsql"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

func init() { libsql.RegisterLocalOpener(open) }

// localURL is a parsed file: URL.
type localURL struct {
	path         string // ":memory:" for an in-memory database
	syncURL      string // the primary of an embedded replica
	authToken    string
	syncInterval time.Duration
	busyTimeout  time.Duration // how long a statement waits for another connection's lock
}

// maxBusyTimeout keeps the milliseconds within SQLite's int.
const maxBusyTimeout = 24 * time.Hour

// parseLocal parses file:PATH[?syncUrl=URL&authToken=T&syncInterval=D&busyTimeout=D],
// file::memory: and :memory:. Errors never repeat the URL: it may hold a
// token.
func parseLocal(dsn string) (*localURL, error) {
	rest, ok := strings.CutPrefix(dsn, "file:")
	if !ok {
		if dsn == ":memory:" {
			return &localURL{path: ":memory:", busyTimeout: DefaultBusyTimeout}, nil
		}
		return nil, errors.New("embedded: want a file: URL")
	}
	path, query, _ := strings.Cut(rest, "?")
	path = strings.TrimPrefix(path, "//") // file:///abs/path
	if path == "" {
		return nil, errors.New("embedded: the file: URL names no file")
	}
	lu := &localURL{path: path, busyTimeout: DefaultBusyTimeout}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, errors.New("embedded: malformed query in the file: URL")
	}
	for key, vals := range q {
		if len(vals) != 1 {
			return nil, fmt.Errorf("embedded: parameter %q given %d times", key, len(vals))
		}
		v := vals[0]
		switch key {
		case "syncUrl", "sync_url":
			lu.syncURL = v
		case "authToken", "auth_token", "jwt":
			if lu.authToken != "" && lu.authToken != v {
				return nil, errors.New("embedded: conflicting auth tokens in the URL")
			}
			lu.authToken = v
		case "syncInterval", "sync_interval":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("embedded: syncInterval %q is not a positive duration (e.g. 30s)", v)
			}
			lu.syncInterval = d
		case "busyTimeout", "busy_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > maxBusyTimeout {
				return nil, fmt.Errorf("embedded: busyTimeout %q is not a duration from 0 to %v (e.g. 5s)", v, maxBusyTimeout)
			}
			lu.busyTimeout = d
		default:
			return nil, fmt.Errorf("embedded: unknown parameter %q in the file: URL (known: syncUrl, authToken, syncInterval, busyTimeout)", key)
		}
	}
	if lu.syncURL == "" && (lu.authToken != "" || lu.syncInterval != 0) {
		return nil, errors.New("embedded: authToken and syncInterval need syncUrl (an embedded replica)")
	}
	if lu.syncURL != "" && (q.Has("busyTimeout") || q.Has("busy_timeout")) {
		return nil, errors.New("embedded: busyTimeout is for local files; an embedded replica writes to its primary")
	}
	if lu.path == ":memory:" && lu.syncURL != "" {
		return nil, errors.New("embedded: an embedded replica needs a file, not :memory:")
	}
	return lu, nil
}

// open is the LocalOpener this package registers.
func open(dsn, authToken string) (*sql.DB, error) {
	lu, err := parseLocal(dsn)
	if err != nil {
		return nil, err
	}
	switch {
	case authToken == "":
	case lu.authToken == "":
		lu.authToken = authToken
	case lu.authToken != authToken:
		return nil, errors.New("embedded: conflicting auth tokens: the URL and WithAuthToken give different tokens")
	}
	if lu.syncURL != "" {
		r, err := newReplica(lu)
		if err != nil {
			return nil, err
		}
		return r.db, nil
	}
	db, err := openFile("file:"+lu.path, lu.busyTimeout)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if lu.path == ":memory:" {
		// Every connection to :memory: is a database of its own.
		db.SetMaxOpenConns(1)
	}
	return db, nil
}

// Replica is an embedded replica: a local file synced from a primary.
type Replica struct {
	db        *sql.DB
	connector *golibsql.Connector
	drv       *libsql.Driver
}

// ReplicaOption configures OpenReplica.
type ReplicaOption func(*localURL)

// WithAuthToken is the primary's auth token.
func WithAuthToken(token string) ReplicaOption { return func(l *localURL) { l.authToken = token } }

// WithSyncInterval syncs from the primary every d, besides Sync.
func WithSyncInterval(d time.Duration) ReplicaOption {
	return func(l *localURL) { l.syncInterval = d }
}

// OpenReplica opens the embedded replica in file path of the primary at
// primaryURL (libsql://, https:// or http://).
func OpenReplica(path, primaryURL string, opts ...ReplicaOption) (*Replica, error) {
	lu := &localURL{path: path, syncURL: primaryURL}
	for _, o := range opts {
		o(lu)
	}
	return newReplica(lu)
}

func newReplica(lu *localURL) (*Replica, error) {
	var opts []golibsql.Option
	if lu.authToken != "" {
		opts = append(opts, golibsql.WithAuthToken(lu.authToken))
	}
	if lu.syncInterval > 0 {
		opts = append(opts, golibsql.WithSyncInterval(lu.syncInterval))
	}
	c, err := golibsql.NewEmbeddedReplicaConnector(lu.path, lu.syncURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded: opening the replica: %s", redact(err.Error(), lu.authToken))
	}
	// No busy timeout: a replica sends PRAGMA busy_timeout to its
	// primary, which refuses it, and its writes take the primary's locks.
	db := sql.OpenDB(wrapConnector(c, 0))
	return &Replica{db: db, connector: c, drv: libsql.OpenDB(db)}, nil
}

// Driver is the replica's ent driver.
func (r *Replica) Driver() *libsql.Driver { return r.drv }

// Sync pulls the primary's changes into the local file now.
func (r *Replica) Sync() error {
	if _, err := r.connector.Sync(); err != nil {
		return fmt.Errorf("embedded: sync: %w", err)
	}
	return nil
}

// Close closes the replica.
func (r *Replica) Close() error {
	err := r.db.Close()
	if cerr := r.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}
