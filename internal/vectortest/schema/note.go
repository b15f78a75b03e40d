package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
)

// Note has UUID ids, so that its vector index's rowids are not its ids.
type Note struct {
	ent.Schema
}

func (Note) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New),
		field.String("text"),
		vector.Field("embedding", 3),
	}
}

func (Note) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("embedding").Annotations(vector.Index(vector.L2)),
	}
}
