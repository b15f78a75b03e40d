// Package testent holds the ent schema the integration tests run on: every
// ent field type and every kind of edge, generated into ./ent.
package testent

//go:generate go run -mod=mod entgo.io/ent/cmd/ent generate --feature sql/upsert,sql/execquery --target ./ent ./schema
