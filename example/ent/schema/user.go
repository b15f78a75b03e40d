package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User writes posts.
type User struct {
	ent.Schema
}

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty(),
		field.String("email").Optional(),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		// Deleting a user deletes their posts, in the database.
		edge.To("posts", Post.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}
