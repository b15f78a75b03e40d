package schema

import (
	"entgo.io/ent"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
)

// Sample has a field of every vector type, optional ones among them.
type Sample struct {
	ent.Schema
}

func (Sample) Fields() []ent.Field {
	return []ent.Field{
		vector.Field("f32", 3),
		vector.Field("f32_optional", 3).Optional(),
		vector.Float64Field("f64", 3).Optional(),
		vector.Float16Field("f16", 3).Optional(),
		vector.BFloat16Field("fb16", 3).Optional(),
		vector.Float8Field("f8", 3).Optional(),
		vector.Float1BitField("f1bit", 10).Optional(),
	}
}
