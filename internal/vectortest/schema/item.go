package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/index"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
)

// Item is the vector benchmark's entity (internal/bench/vectors): an
// embedding of 128 dimensions under a cosine vector index with libSQL's
// default settings.
type Item struct {
	ent.Schema
}

func (Item) Fields() []ent.Field {
	return []ent.Field{vector.Field("embedding", 128)}
}

func (Item) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("embedding").Annotations(vector.Index(vector.Cosine)),
	}
}
