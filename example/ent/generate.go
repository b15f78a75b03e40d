// Package ent is the example's ent client, generated with the libSQL
// extension; regenerate it with `go generate ./example/ent` after editing
// ./schema.
package ent

//go:generate go run entc.go
