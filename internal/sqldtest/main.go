package sqldtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// mainTimeout bounds getting the package's server, which on a fresh
// machine includes the npm install.
const mainTimeout = 10 * time.Minute

// Set by Main before any test runs, read-only afterwards.
var (
	serverURL string
	authToken string
	local     *Server
)

// Main runs the tests of a package against a server: the one in
// LIBSQL_TEST_URL if set (starting nothing), otherwise a fresh sqld
// started here and stopped after the tests. Call it from TestMain:
//
//	func TestMain(m *testing.M) { sqldtest.Main(m) }
//
// If it can get no server it prints why and how to fix it, and exits 1:
// a suite that silently skipped would pass without testing anything.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv("LIBSQL_TEST_URL"); u != "" {
		serverURL, authToken = u, os.Getenv("LIBSQL_TEST_AUTH_TOKEN")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), mainTimeout)
	srv, err := Start(ctx, Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sqldtest: cannot start sqld for these tests: %s\n",
			strings.ReplaceAll(err.Error(), "\n", "\nsqldtest: "))
		return 1
	}
	local, serverURL = srv, srv.URL()
	code := m.Run()
	if code != 0 {
		// What the server said is often the clue to a failure.
		fmt.Fprintf(os.Stderr, "sqldtest: tests failed; the last lines sqld printed:\n%s\n", indent(lastLines(srv.Output(), 40)))
	}
	if err := srv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "sqldtest: stopping sqld: %v\n", err)
	}
	return code
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// URL is the HTTP base URL of the server under test: the local sqld's
// ("http://127.0.0.1:PORT") or LIBSQL_TEST_URL verbatim.
func URL() string { return serverURL }

// AuthToken is the token for the server under test: LIBSQL_TEST_AUTH_TOKEN
// for an external one, "" for the local sqld, which has no auth. Never
// log it.
func AuthToken() string { return authToken }

// External reports whether the tests run against LIBSQL_TEST_URL.
func External() bool { return serverURL != "" && local == nil }

// Local is the sqld Main started, or nil when External.
func Local() *Server { return local }
