// Package readmetest holds the test that the README's Quick start and
// Versioned migrations sections work as written: it builds a new module
// from their text (see readme_test.go).
package readmetest
