// Package ent is the example's generated ent client; regenerate it with
// `go generate ./example/ent` after editing ./schema.
package ent

//go:generate go run -mod=mod entgo.io/ent/cmd/ent generate ./schema
