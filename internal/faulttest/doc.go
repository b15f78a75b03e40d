// Package faulttest holds the driver's fault tests: workloads of at least
// a thousand operations run through dialect/libsql against real sqld
// servers while something breaks (a fault proxy cutting, delaying or
// corrupting HTTP requests and WebSocket frames; sqld killed with SIGKILL
// and restarted on its data; a replica that disappears; a transaction
// left idle past the server's limits). After each, every acknowledged
// write must be there exactly once, every transaction whole or absent,
// the driver must work again, and closing it must leave no goroutine
// behind.
//
// Run them with go test ./internal/faulttest/ (-v prints a table of
// operations, errors, losses and duplicates per fault); -short runs
// smaller workloads, for the race detector.
package faulttest
