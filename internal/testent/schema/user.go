package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User has every kind of edge: O2O (card), O2M with a cascading foreign
// key (posts), M2M to itself (friends) and O2M to itself (children).
type User struct {
	ent.Schema
}

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique(),
		field.Int("age"),
		field.String("email").Optional(),
		field.String("nickname").Optional().Nillable(),
		field.Time("created_at").Default(time.Now),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("card", Card.Type).Unique(),
		edge.To("posts", Post.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("friends", User.Type),
		edge.To("children", User.Type).From("parent").Unique(),
	}
}
