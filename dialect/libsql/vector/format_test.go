package vector

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"
)

// Blobs sqld 0.24.32 wrote for '[1,2,3.3]' ('[1,-2,3.3]' for the bits)
// with vector32, vector16, vectorb16, vector8, vector1bit and vector64.
var serverBlobs = []struct {
	t    Type
	in   []float32
	hex  string
	back []float32
}{
	{F32, []float32{1, 2, 3}, "0000803F0000004000004040", []float32{1, 2, 3}},
	{F16, []float32{1, 2, 3.3}, "003C00409A4205", []float32{1, 2, 3.30078125}},
	{FB16, []float32{1, 2, 3.3}, "803F0040534006", []float32{1, 2, 3.296875}},
	{F8, []float32{1, 2, 3.3}, "006FFF00FAC6133C0000803F000104", nil},
	{F1Bit, []float32{1, -2, 3.3}, "050D03", []float32{1, -1, 1}},
}

func TestEncodeMatchesServer(t *testing.T) {
	for _, c := range serverBlobs {
		got, err := encode(c.t, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.t, err)
		}
		if h := strings.ToUpper(hex.EncodeToString(got)); h != c.hex {
			t.Errorf("%s %v: %s, sqld wrote %s", c.t, c.in, h, c.hex)
		}
		typ, dims, err := Inspect(got)
		if err != nil || typ != c.t || dims != len(c.in) {
			t.Errorf("%s: Inspect = %s, %d, %v", c.t, typ, dims, err)
		}
		if c.back != nil {
			if back := decode(c.t, dims, got); !equal(back, c.back) {
				t.Errorf("%s: decoded %v, want %v", c.t, back, c.back)
			}
		}
	}
	b, _ := encodeF64([]float64{1, 2, 3.3})
	if h := strings.ToUpper(hex.EncodeToString(b)); h != "000000000000F03F00000000000000406666666666660A4002" {
		t.Errorf("F64: %s", h)
	}
}

func TestRoundTripEveryType(t *testing.T) {
	in := []float32{0.25, -1.5, 3, 0, 1024, -0.125, 7, 8, 9} // representable in every type
	for _, typ := range []Type{F32, F16, FB16} {
		for n := 0; n <= len(in); n++ {
			b, err := encode(typ, in[:n])
			if err != nil {
				t.Fatal(err)
			}
			got, dims, err := Inspect(b)
			if err != nil || got != typ || dims != n {
				t.Fatalf("%s/%d: Inspect = %s, %d, %v", typ, n, got, dims, err)
			}
			if back := decode(typ, dims, b); !equal(back, in[:n]) {
				t.Fatalf("%s/%d: %v, want %v", typ, n, back, in[:n])
			}
		}
	}
	for n := 1; n <= 40; n++ { // every padding of the bit and byte formats
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%3) - 1
		}
		for _, typ := range []Type{F1Bit, F8} {
			b, err := encode(typ, v)
			if err != nil {
				t.Fatal(err)
			}
			got, dims, err := Inspect(b)
			if err != nil || got != typ || dims != n {
				t.Fatalf("%s/%d: Inspect = %s, %d, %v (%x)", typ, n, got, dims, err, b)
			}
		}
	}
}

func TestFloat16(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
		ok   bool
	}{
		{0, 0x0000, true},
		{float32(math.Copysign(0, -1)), 0x8000, true},
		{1, 0x3c00, true},
		{-2, 0xc000, true},
		{65504, 0x7bff, true},
		{65519, 0x7bff, true},         // rounds down to the largest half
		{65520, 0x7c00, false},        // rounds up past it
		{1e6, 0x7c00, false},          // too large
		{0x1p-14, 0x0400, true},       // smallest normal
		{0x1p-24, 0x0001, true},       // smallest subnormal
		{0x1p-26, 0x0000, true},       // below it
		{1 + 0x1p-11, 0x3c00, true},   // a tie: to even
		{1 + 3*0x1p-11, 0x3c02, true}, // a tie: to even, up
		{float32(math.Inf(1)), 0x7c00, false},
	} {
		h, ok := toFloat16(c.in)
		if h != c.want || ok != c.ok {
			t.Errorf("toFloat16(%g) = %#04x, %v; want %#04x, %v", c.in, h, ok, c.want, c.ok)
		}
		if ok && fromFloat16(h) != c.in && c.in == fromFloat16(c.want) {
			t.Errorf("fromFloat16(%#04x) = %g", h, fromFloat16(h))
		}
	}
	// Every finite half converts back to itself.
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 {
			continue
		}
		f := fromFloat16(uint16(h))
		if back, ok := toFloat16(f); !ok || back != uint16(h) {
			t.Fatalf("half %#04x -> %g -> %#04x", h, f, back)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, c := range []struct {
		t    Type
		v    []float32
		want string
	}{
		{F32, []float32{1, float32(math.NaN())}, "component 1 is NaN"},
		{F32, []float32{float32(math.Inf(-1))}, "component 0 is -Inf"},
		{F16, []float32{1, 70000}, "component 1 (70000) is beyond float16's range"},
		{F1Bit, []float32{}, "at least one component"},
		{F32, make([]float32, MaxDims+1), "more than libSQL's 65536"},
		{F8, []float32{-3e38, 3e38}, "a float8 vector's components span -3e+38 to 3e+38, beyond float32's range"},
	} {
		if _, err := encode(c.t, c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.t, err, c.want)
		}
	}
	if _, err := encodeF64([]float64{math.NaN()}); err == nil {
		t.Error("F64 NaN accepted")
	}
}

func TestInspectRejects(t *testing.T) {
	for _, c := range []struct{ hex, want string }{
		{"000000000000", "not a float32 vector"},
		{"000007", "unknown vector type byte 7"},
		{"0000000002", "float64 vector of 4 bytes"},
		{"0000000001", ""}, // a float32 with its type byte: fine
		{"03", "float1bit vector of 1 bytes"},
		{"05FF03", "cannot have 255 trailing bits"},
		{"05000003", ""}, // even: a float32
		{"00000000000000000000000304", "cannot have 3 padding bytes"},
		{"000000000000000004", "float8 vector of 9 bytes"},
	} {
		b, _ := hex.DecodeString(c.hex)
		_, _, err := Inspect(b)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.hex, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.hex, err, c.want)
		}
	}
}

func TestScan(t *testing.T) {
	var v Vector
	if err := v.Scan([]byte{0, 0, 0x80, 0x3f, 1}); err != nil || !equal(v, []float32{1}) {
		t.Fatalf("f32 with its type byte: %v %v", v, err)
	}
	if err := v.Scan(nil); err != nil || v != nil {
		t.Fatalf("NULL: %v %v", v, err)
	}
	if err := v.Scan([]byte{}); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("empty blob: %#v %v", v, err)
	}
	h, _ := hex.DecodeString("003C00409A4205")
	if err := v.Scan(h); err == nil || !strings.Contains(err.Error(), "cannot scan a F16_BLOB value into a vector.Vector (F32_BLOB): scan it into a vector.Float16") {
		t.Fatalf("f16 into Vector: %v", err)
	}
	if err := v.Scan(" [1, -2.5e1 ] "); err != nil || !equal(v, []float32{1, -25}) {
		t.Fatalf("text: %v %v", v, err)
	}
	if err := v.Scan(int64(3)); err == nil || !strings.Contains(err.Error(), "cannot scan a int64 into a vector.Vector: a vector is a blob (or libSQL's text form)") {
		t.Fatalf("integer: %v", err)
	}
	var f Float16
	if err := f.Scan(h); err != nil || !equal(f, []float32{1, 2, 3.30078125}) {
		t.Fatalf("Float16: %v %v", f, err)
	}
	var d Float64
	b, _ := Float64{1.5, -2}.Value()
	if err := d.Scan(b); err != nil || len(d) != 2 || d[0] != 1.5 || d[1] != -2 {
		t.Fatalf("Float64: %v %v", d, err)
	}
	if b, err := Vector(nil).Value(); b != nil || err != nil {
		t.Fatalf("nil Value: %v %v", b, err)
	}
}

func FuzzInspect(f *testing.F) {
	for _, c := range serverBlobs {
		b, _ := hex.DecodeString(c.hex)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, dims, err := Inspect(b)
		if err != nil {
			return
		}
		if typ == F64 {
			v := decodeF64(dims, b)
			if again, err := encodeF64(v); err == nil && !bytes.Equal(again, b) {
				t.Fatalf("F64 %x -> %v -> %x", b, v, again)
			}
			return
		}
		v := decode(typ, dims, b)
		if len(v) != dims {
			t.Fatalf("%d components, Inspect said %d", len(v), dims)
		}
		// A well-formed blob of the exact-width types encodes back to itself
		// (but for a float32's optional type byte).
		if typ == F32 || typ == F16 || typ == FB16 {
			again, err := encode(typ, v)
			if err == nil && !bytes.Equal(again, b) && !(typ == F32 && bytes.Equal(again, b[:len(b)-1])) {
				t.Fatalf("%s %x -> %v -> %x", typ, b, v, again)
			}
		}
	})
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
