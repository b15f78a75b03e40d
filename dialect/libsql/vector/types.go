package vector

import (
	"database/sql/driver"
	"fmt"
)

// Vector is a vector of float32 components, stored as F32_BLOB: the
// type most models' embeddings fit, and libSQL's default. As a
// database/sql value it is written in libSQL's binary format (nil is
// NULL) and scans back from it bit for bit.
type Vector []float32

// Float64 is a vector stored as F64_BLOB.
type Float64 []float64

// Float16 is a vector stored as F16_BLOB, IEEE half precision: each
// component is rounded as libSQL's vector16 rounds it, and reads back as
// that rounded value. A component beyond ±65504 is an error.
type Float16 []float32

// BFloat16 is a vector stored as FB16_BLOB, bfloat16: float32 with the
// lower 16 bits of the mantissa cut off, as libSQL's vectorb16 does.
type BFloat16 []float32

// Float8 is a vector stored as F8_BLOB: each component one of 256 steps
// between the smallest and the largest component, as libSQL's vector8
// quantizes it; it reads back as those steps.
type Float8 []float32

// Float1Bit is a vector stored as F1BIT_BLOB: one bit a component, set
// where the component is above 0; it reads back as +1 and -1.
type Float1Bit []float32

// Dims is the number of components.
func (v Vector) Dims() int { return len(v) }

// Dims is the number of components.
func (v Float64) Dims() int { return len(v) }

// Dims is the number of components.
func (v Float16) Dims() int { return len(v) }

// Dims is the number of components.
func (v BFloat16) Dims() int { return len(v) }

// Dims is the number of components.
func (v Float8) Dims() int { return len(v) }

// Dims is the number of components.
func (v Float1Bit) Dims() int { return len(v) }

// Value writes v in libSQL's binary format; nil is NULL.
func (v Vector) Value() (driver.Value, error) { return value(F32, v) }

// Value writes v in libSQL's binary format; nil is NULL.
func (v Float16) Value() (driver.Value, error) { return value(F16, v) }

// Value writes v in libSQL's binary format; nil is NULL.
func (v BFloat16) Value() (driver.Value, error) { return value(FB16, v) }

// Value writes v in libSQL's binary format; nil is NULL.
func (v Float8) Value() (driver.Value, error) { return value(F8, v) }

// Value writes v in libSQL's binary format; nil is NULL.
func (v Float1Bit) Value() (driver.Value, error) { return value(F1Bit, v) }

// Value writes v in libSQL's binary format; nil is NULL.
func (v Float64) Value() (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	return encodeF64(v)
}

func value(t Type, v []float32) (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	return encode(t, v)
}

// Scan reads a F32_BLOB value, or libSQL's text form ('[1,2,3]');
// NULL is nil.
func (v *Vector) Scan(src any) error { return scan(F32, (*[]float32)(v), src) }

// Scan reads a F16_BLOB value, or libSQL's text form rounded as vector16
// rounds it; NULL is nil.
func (v *Float16) Scan(src any) error { return scan(F16, (*[]float32)(v), src) }

// Scan reads a FB16_BLOB value, or libSQL's text form rounded as
// vectorb16 rounds it; NULL is nil.
func (v *BFloat16) Scan(src any) error { return scan(FB16, (*[]float32)(v), src) }

// Scan reads a F8_BLOB value, or libSQL's text form quantized as vector8
// quantizes it; NULL is nil.
func (v *Float8) Scan(src any) error { return scan(F8, (*[]float32)(v), src) }

// Scan reads a F1BIT_BLOB value, or libSQL's text form as vector1bit
// reads it; NULL is nil.
func (v *Float1Bit) Scan(src any) error { return scan(F1Bit, (*[]float32)(v), src) }

// Scan reads a F64_BLOB value, or libSQL's text form ('[1,2,3]'); NULL is
// nil.
func (v *Float64) Scan(src any) error {
	switch s := src.(type) {
	case nil:
		*v = nil
		return nil
	case string:
		xs, err := parseText(s)
		if err != nil {
			return err
		}
		*v = xs
		return nil
	case []byte:
		dims, err := expect(F64, s)
		if err != nil {
			return err
		}
		*v = decodeF64(dims, s)
		return nil
	}
	return cannotScan(F64, src)
}

var goTypes = [...]string{
	F32: "vector.Vector", F64: "vector.Float64", F1Bit: "vector.Float1Bit",
	F8: "vector.Float8", F16: "vector.Float16", FB16: "vector.BFloat16",
}

func scan(t Type, dst *[]float32, src any) error {
	switch s := src.(type) {
	case nil:
		*dst = nil
		return nil
	case string:
		v, err := fromText(t, s)
		if err != nil {
			return err
		}
		*dst = v
		return nil
	case []byte:
		dims, err := expect(t, s)
		if err != nil {
			return err
		}
		*dst = decode(t, dims, s)
		return nil
	}
	return cannotScan(t, src)
}

func cannotScan(t Type, src any) error {
	return fmt.Errorf("vector: cannot scan a %T into a %s: a vector is a blob (or libSQL's text form)", src, goTypes[t])
}

// expect checks that b is a vector of type t, and returns its dimensions.
func expect(t Type, b []byte) (int, error) {
	got, dims, err := Inspect(b)
	if err != nil {
		return 0, err
	}
	if got != t {
		return 0, fmt.Errorf("vector: cannot scan a %s value into a %s (%s): scan it into a %s", got, goTypes[t], t, goTypes[got])
	}
	return dims, nil
}
