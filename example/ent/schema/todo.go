package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Todo is one item on a user's list.
type Todo struct {
	ent.Schema
}

func (Todo) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty(),
		field.Enum("priority").Values("low", "normal", "high").Default("normal"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("done_at").Optional().Nillable(),
	}
}

func (Todo) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", User.Type).Ref("todos").Unique().Required(),
	}
}
