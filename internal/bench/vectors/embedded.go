//go:build cgo

package main

// The embedded engine needs cgo; without it, -engines sqld still runs.
import _ "github.com/entlibsql/entlibsql/dialect/embedded"
