package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User owns todos.
type User struct {
	ent.Schema
}

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty(),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		// Deleting a user deletes their todos, in the database.
		edge.To("todos", Todo.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}
