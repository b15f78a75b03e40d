package sqldtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

var (
	serverURL string
	authToken string
	local     *Server
)

// Main runs a test package against a fresh sqld, or against the server in
// LIBSQL_TEST_URL. Call it from TestMain. When it cannot get a server it
// fails the package with a message saying how to fix it; it never skips.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv("LIBSQL_TEST_URL"); u != "" {
		serverURL, authToken = u, os.Getenv("LIBSQL_TEST_AUTH_TOKEN")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	srv, err := Start(ctx, Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sqldtest: %v\n", err)
		return 1
	}
	local, serverURL = srv, srv.URL()
	defer srv.Stop()
	return m.Run()
}

// URL is the base URL of the server under test.
func URL() string { return serverURL }

// AuthToken is the token for the server under test ("" for the local one).
func AuthToken() string { return authToken }

// External reports whether the suite runs against LIBSQL_TEST_URL.
func External() bool { return local == nil }

// Local is the server Main started, nil when External.
func Local() *Server { return local }
