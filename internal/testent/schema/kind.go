package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"

	"github.com/entlibsql/entlibsql/internal/testent/schema/schematype"
)

// Kind has a field of every ent type, so tests can round-trip each one.
// The required fields come first; the opt_* fields are Optional and
// Nillable (pointers in the generated struct, NULL in the database), except
// the JSON ones, which are nil-able Go types (map, slice, *Point) and only
// Optional. No field has a validator or range limit: u64 and opt_u64 accept
// the whole uint64 range.
type Kind struct {
	ent.Schema
}

func (Kind) Fields() []ent.Field {
	return []ent.Field{
		field.Bool("b"),
		field.Int8("i8"),
		field.Int16("i16"),
		field.Int32("i32"),
		field.Int64("i64"),
		field.Int("i"),
		field.Uint8("u8"),
		field.Uint16("u16"),
		field.Uint32("u32"),
		field.Uint64("u64"),
		field.Uint("u"),
		field.Float32("f32"),
		field.Float("f64"),
		field.String("str"),
		field.Text("txt"),
		field.Bytes("bin"),
		field.JSON("jmap", map[string]any{}),
		field.Strings("jlist"),
		field.JSON("jpoint", schematype.Point{}),
		field.UUID("uid", uuid.UUID{}).Default(uuid.New),
		field.Enum("color").Values("red", "green", "blue"),
		field.Time("ts"),
		field.Int("dflt").Default(42),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),

		field.String("opt_str").Optional().Nillable(),
		field.Int64("opt_i64").Optional().Nillable(),
		field.Uint64("opt_u64").Optional().Nillable(),
		field.Float("opt_f64").Optional().Nillable(),
		field.Bool("opt_b").Optional().Nillable(),
		field.Bytes("opt_bin").Optional().Nillable(),
		field.Time("opt_ts").Optional().Nillable(),
		field.UUID("opt_uid", uuid.UUID{}).Optional().Nillable(),
		field.Enum("opt_color").Values("red", "green", "blue").Optional().Nillable(),
		field.JSON("opt_jmap", map[string]any{}).Optional(),
		field.Strings("opt_jlist").Optional(),
		field.JSON("opt_jpoint", &schematype.Point{}).Optional(),
		field.String("plain_opt").Optional(),
	}
}
