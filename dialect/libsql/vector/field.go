package vector

import (
	"database/sql/driver"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Field is an ent field holding a Vector of dims components, stored as
// F32_BLOB(dims) on libSQL:
//
//	func (Post) Fields() []ent.Field {
//		return []ent.Field{
//			vector.Field("embedding", 384).Optional(),
//		}
//	}
//
// Creates, updates and predicates check the dimension before anything is
// sent: a vector of another length fails with a *DimensionError naming
// the field, the expected and the given dimension. A nil Vector is NULL
// (leave an optional field unset, or clear it).
func Field(name string, dims int) *FieldBuilder { return newField[Vector](name, dims, F32) }

// Float64Field is Field for a Float64 vector, stored as F64_BLOB(dims).
func Float64Field(name string, dims int) *FieldBuilder {
	return newField[Float64](name, dims, F64)
}

// Float16Field is Field for a Float16 vector, stored as F16_BLOB(dims).
func Float16Field(name string, dims int) *FieldBuilder {
	return newField[Float16](name, dims, F16)
}

// BFloat16Field is Field for a BFloat16 vector, stored as FB16_BLOB(dims).
func BFloat16Field(name string, dims int) *FieldBuilder {
	return newField[BFloat16](name, dims, FB16)
}

// Float8Field is Field for a Float8 vector, stored as F8_BLOB(dims).
func Float8Field(name string, dims int) *FieldBuilder {
	return newField[Float8](name, dims, F8)
}

// Float1BitField is Field for a Float1Bit vector, stored as
// F1BIT_BLOB(dims).
func Float1BitField(name string, dims int) *FieldBuilder {
	return newField[Float1Bit](name, dims, F1Bit)
}

// DimensionError is the error of a vector whose length is not its field's
// dimension.
type DimensionError struct {
	Field     string // the ent field
	Want, Got int    // the field's dimension, and the vector's
}

func (e *DimensionError) Error() string {
	return fmt.Sprintf("vector: field %q holds vectors of %d dimensions, got %d", e.Field, e.Want, e.Got)
}

// FieldBuilder is the builder of a vector field; its methods are those of
// ent's field builders that make sense for a vector. There is no Nillable:
// the vector types are slices, and a nil one is NULL already.
type FieldBuilder struct {
	desc *field.Descriptor
}

// Descriptor implements ent.Field.
func (b *FieldBuilder) Descriptor() *field.Descriptor { return b.desc }

// Optional makes the field optional on create: NULL when not set.
func (b *FieldBuilder) Optional() *FieldBuilder { b.desc.Optional = true; return b }

// Immutable leaves the field out of updates.
func (b *FieldBuilder) Immutable() *FieldBuilder { b.desc.Immutable = true; return b }

// Comment sets the field's comment.
func (b *FieldBuilder) Comment(c string) *FieldBuilder { b.desc.Comment = c; return b }

// StorageKey names the column, when it is not the field's name.
func (b *FieldBuilder) StorageKey(key string) *FieldBuilder { b.desc.StorageKey = key; return b }

// StructTag sets the struct tag of the entity's field.
func (b *FieldBuilder) StructTag(s string) *FieldBuilder { b.desc.Tag = s; return b }

// Sensitive leaves the field out of the entity's String and JSON.
func (b *FieldBuilder) Sensitive() *FieldBuilder { b.desc.Sensitive = true; return b }

// Annotations adds annotations for codegen extensions.
func (b *FieldBuilder) Annotations(annotations ...schema.Annotation) *FieldBuilder {
	b.desc.Annotations = append(b.desc.Annotations, annotations...)
	return b
}

var _ ent.Field = (*FieldBuilder)(nil)

// vectorType is the Go types of this package.
type vectorType interface {
	~[]float32 | ~[]float64
	driver.Valuer
}

func newField[T vectorType](name string, dims int, t Type) *FieldBuilder {
	var zero T
	desc := field.Bytes(name).
		GoType(zero).
		SchemaType(map[string]string{dialect.SQLite: t.Column(dims)}).
		ValueScanner(valueScanner[T]{field: name, dims: dims}).
		Descriptor()
	if desc.Err == nil && (dims < 1 || dims > MaxDims) {
		desc.Err = fmt.Errorf("vector: field %q: dimension %d is not between 1 and %d", name, dims, MaxDims)
	}
	return &FieldBuilder{desc: desc}
}

// valueScanner is the field's field.TypeValueScanner: ent calls Value for
// every create, update and predicate, before it builds the statement.
type valueScanner[T vectorType] struct {
	field string
	dims  int
}

func (s valueScanner[T]) Value(v T) (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	if len(v) != s.dims {
		return nil, &DimensionError{Field: s.field, Want: s.dims, Got: len(v)}
	}
	return v.Value()
}

func (s valueScanner[T]) ScanValue() field.ValueScanner {
	return any(new(T)).(field.ValueScanner)
}

func (s valueScanner[T]) FromValue(v driver.Value) (T, error) {
	p, ok := v.(*T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("vector: field %q: unexpected scan value %T", s.field, v)
	}
	return *p, nil
}
