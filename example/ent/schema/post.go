package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
)

// EmbeddingDims is the dimension of the posts' embeddings.
const EmbeddingDims = 128

// Post is written by one user and carries tags.
type Post struct {
	ent.Schema
}

func (Post) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty(),
		field.Int("likes").Default(0),
		field.Time("created_at").Default(time.Now).Immutable(),
		// What the post is about, for semantic search: a libSQL
		// F32_BLOB(128) column, under a vector index.
		vector.Field("embedding", EmbeddingDims).Optional(),
	}
}

func (Post) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("embedding").Annotations(vector.Index(vector.Cosine)),
	}
}

func (Post) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("author", User.Type).Ref("posts").Unique().Required(),
		edge.To("tags", Tag.Type),
	}
}
