// Package schematype holds Go types used by JSON fields of the test schema.
package schematype

// Point is stored as a JSON object.
type Point struct {
	X, Y int
}
