package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
)

// Doc has an embedding of 4 dimensions under a cosine vector index.
type Doc struct {
	ent.Schema
}

func (Doc) Fields() []ent.Field {
	return []ent.Field{
		field.String("title"),
		field.String("topic").Default(""),
		vector.Field("embedding", 4).Optional(),
	}
}

func (Doc) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("author", Author.Type).Ref("docs").Unique(),
	}
}

func (Doc) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("embedding").Annotations(vector.Index(vector.Cosine, vector.MaxNeighbors(8))),
	}
}

// Author writes docs.
type Author struct {
	ent.Schema
}

func (Author) Fields() []ent.Field {
	return []ent.Field{field.String("name")}
}

func (Author) Edges() []ent.Edge {
	return []ent.Edge{edge.To("docs", Doc.Type)}
}
