package vector

import (
	"encoding/binary"
	"fmt"
	"math"
)

// libSQL's binary vector format (libsql-sqlite3/src/vectorInt.h): the
// components in little-endian order, then, for every type but float32, a
// trailer whose last byte names the type. A blob of even length is a
// float32 vector without a trailer, which is how libSQL writes them.
//
//	F32_BLOB   f32 × dims                                   [1]?
//	F64_BLOB   f64 × dims                                   2
//	F16_BLOB   f16 × dims                                   5
//	FB16_BLOB  bf16 × dims                                  6
//	F8_BLOB    u8 × dims, 0-3 bytes to a multiple of 4,
//	           alpha f32, shift f32 (x = alpha·q + shift),  0, padding bytes, 4
//	F1BIT_BLOB one bit a component (bit i%8 of byte i/8, set for x > 0),
//	           a 0 byte if that made an even length,        trailing bits, 3
//
// where "trailing bits" is 8 × (length − 1) − dims.

// MaxDims is the largest vector libSQL accepts.
const MaxDims = 65536

// Type is one of libSQL's vector column types. Its value is the type byte
// of libSQL's binary format.
type Type uint8

// The vector types, as libSQL numbers them.
const (
	F32   Type = 1 // F32_BLOB: float32 components
	F64   Type = 2 // F64_BLOB: float64 components
	F1Bit Type = 3 // F1BIT_BLOB: one bit a component (x > 0)
	F8    Type = 4 // F8_BLOB: one byte a component, linearly quantized
	F16   Type = 5 // F16_BLOB: IEEE half precision
	FB16  Type = 6 // FB16_BLOB: bfloat16 (float32 cut to its upper half)
)

var typeInfo = [...]struct{ column, fn string }{
	F32:   {"F32_BLOB", "vector32"},
	F64:   {"F64_BLOB", "vector64"},
	F1Bit: {"F1BIT_BLOB", "vector1bit"},
	F8:    {"F8_BLOB", "vector8"},
	F16:   {"F16_BLOB", "vector16"},
	FB16:  {"FB16_BLOB", "vectorb16"},
}

func (t Type) valid() bool { return t >= F32 && t <= FB16 }

// String is the column type's name, e.g. "F32_BLOB".
func (t Type) String() string {
	if !t.valid() {
		return fmt.Sprintf("vector.Type(%d)", uint8(t))
	}
	return typeInfo[t].column
}

// Column is the declared type of a column of dims components, e.g.
// "F32_BLOB(128)".
func (t Type) Column(dims int) string { return fmt.Sprintf("%s(%d)", t, dims) }

// Func is libSQL's SQL function that converts a vector to this type,
// e.g. "vector16".
func (t Type) Func() string {
	if !t.valid() {
		return ""
	}
	return typeInfo[t].fn
}

// Inspect reads the type and the number of components of a blob in
// libSQL's vector format, checking its length as libSQL does and more
// strictly: a blob libSQL would misread (a float32 blob whose length is
// not a multiple of 4, a padding or trailing count that does not match
// the length) is an error.
func Inspect(b []byte) (Type, int, error) {
	n := len(b)
	if n%2 == 0 {
		if n%4 != 0 {
			return 0, 0, fmt.Errorf("vector: a %d-byte blob is not a float32 vector (4 bytes a component)", n)
		}
		return withDims(F32, n/4)
	}
	t, body := Type(b[n-1]), n-1
	var dims int
	switch t {
	case F32:
		if body%4 != 0 {
			return 0, 0, fmt.Errorf("vector: a float32 vector of %d bytes (4 bytes a component)", body)
		}
		dims = body / 4
	case F64:
		if body%8 != 0 {
			return 0, 0, fmt.Errorf("vector: a float64 vector of %d bytes (8 bytes a component)", body)
		}
		dims = body / 8
	case F16, FB16:
		dims = body / 2 // body is even: the blob's length is odd
	case F1Bit:
		if body < 2 || body%2 != 0 {
			return 0, 0, fmt.Errorf("vector: a float1bit vector of %d bytes", n)
		}
		dims = body*8 - int(b[n-2])
		if dims < 1 || bitBlobLen(dims) != n {
			return 0, 0, fmt.Errorf("vector: a float1bit vector of %d bytes cannot have %d trailing bits", n, b[n-2])
		}
	case F8:
		if body < 2+8 || body%2 != 0 {
			return 0, 0, fmt.Errorf("vector: a float8 vector of %d bytes", n)
		}
		pad := int(b[n-2])
		dims = body - 2 - 8 - pad
		if pad > 3 || dims < 0 || b[n-3] != 0 || f8BlobLen(dims) != n {
			return 0, 0, fmt.Errorf("vector: a float8 vector of %d bytes cannot have %d padding bytes", n, pad)
		}
	default:
		return 0, 0, fmt.Errorf("vector: unknown vector type byte %d", b[n-1])
	}
	return withDims(t, dims)
}

func withDims(t Type, dims int) (Type, int, error) {
	if dims > MaxDims {
		return 0, 0, fmt.Errorf("vector: %d components, more than libSQL's %d", dims, MaxDims)
	}
	return t, dims, nil
}

func bitBlobLen(dims int) int {
	data := (dims + 7) / 8
	if data%2 == 0 {
		data++ // padding, so that the trailing-bits byte sits at an odd offset
	}
	return data + 2
}

func f8BlobLen(dims int) int { return align4(dims) + 8 + 3 }

func align4(n int) int { return (n + 3) / 4 * 4 }

// checkFinite rejects what libSQL's distances cannot use.
func checkFinite(i int, x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("vector: component %d is %v: libSQL vectors hold finite numbers", i, x)
	}
	return nil
}

// encode writes v, float32 components, as a blob of type t (any but F64).
func encode(t Type, v []float32) ([]byte, error) {
	if len(v) > MaxDims {
		return nil, fmt.Errorf("vector: %d components, more than libSQL's %d", len(v), MaxDims)
	}
	for i, x := range v {
		if err := checkFinite(i, float64(x)); err != nil {
			return nil, err
		}
	}
	switch t {
	case F32:
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b, nil
	case F16, FB16:
		b := make([]byte, 2*len(v)+1)
		for i, x := range v {
			var h uint16
			if t == F16 {
				var ok bool
				if h, ok = toFloat16(x); !ok {
					return nil, fmt.Errorf("vector: component %d (%g) is beyond float16's range (±65504)", i, x)
				}
			} else {
				h = uint16(math.Float32bits(x) >> 16)
			}
			binary.LittleEndian.PutUint16(b[2*i:], h)
		}
		b[len(b)-1] = byte(t)
		return b, nil
	case F8:
		return encodeF8(v)
	case F1Bit:
		if len(v) == 0 {
			return nil, fmt.Errorf("vector: a float1bit vector needs at least one component")
		}
		b := make([]byte, bitBlobLen(len(v)))
		for i, x := range v {
			if x > 0 {
				b[i/8] |= 1 << (i % 8)
			}
		}
		b[len(b)-2] = byte(8*(len(b)-1) - len(v))
		b[len(b)-1] = byte(F1Bit)
		return b, nil
	}
	return nil, fmt.Errorf("vector: cannot encode float32 components as %s", t)
}

// decode reads a blob of type t (any but F64) as float32 components.
func decode(t Type, dims int, b []byte) []float32 {
	v := make([]float32, dims)
	switch t {
	case F32:
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range v {
			v[i] = fromFloat16(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case FB16:
		for i := range v {
			v[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case F8:
		alpha, shift := f8Params(b, dims)
		for i := range v {
			v[i] = float32(alpha*float32(b[i])) + shift // no fused multiply-add: libSQL rounds the product
		}
	case F1Bit:
		for i := range v {
			v[i] = -1
			if b[i/8]>>(i%8)&1 == 1 {
				v[i] = 1
			}
		}
	}
	return v
}

func encodeF64(v []float64) ([]byte, error) {
	if len(v) > MaxDims {
		return nil, fmt.Errorf("vector: %d components, more than libSQL's %d", len(v), MaxDims)
	}
	b := make([]byte, 8*len(v)+1)
	for i, x := range v {
		if err := checkFinite(i, x); err != nil {
			return nil, err
		}
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	b[len(b)-1] = byte(F64)
	return b, nil
}

func decodeF64(dims int, b []byte) []float64 {
	v := make([]float64, dims)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}
