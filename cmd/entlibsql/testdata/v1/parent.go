// Package v1 is the first version of a test ent schema: parents with
// cascading children.
package v1

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Parent has children that are deleted with it.
type Parent struct{ ent.Schema }

// Fields of Parent.
func (Parent) Fields() []ent.Field {
	return []ent.Field{field.String("name"), field.String("note")}
}

// Edges of Parent.
func (Parent) Edges() []ent.Edge {
	return []ent.Edge{edge.To("children", Kid.Type).Annotations(entsql.OnDelete(entsql.Cascade))}
}

// Kid belongs to a parent.
type Kid struct{ ent.Schema }

// Fields of Kid.
func (Kid) Fields() []ent.Field { return []ent.Field{field.String("label")} }

// Edges of Kid.
func (Kid) Edges() []ent.Edge {
	return []ent.Edge{edge.From("parent", Parent.Type).Ref("children").Unique().Required()}
}
