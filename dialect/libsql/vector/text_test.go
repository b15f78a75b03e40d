package vector

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// libSQL's text form, as its vector32 reads it (sqld 0.24.32 agrees on
// each: TestTextParityWithServer).
func TestParseText(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		in   string
		want []float64
		err  string
	}{
		{"[1,2,3]", []float64{1, 2, 3}, ""},
		{" \t[ 1 , 2.5e1 ,-3 ]\n ", []float64{1, 25, -3}, ""},
		{"[1 2, 3]", []float64{12, 3}, ""}, // spaces are skipped inside numbers too
		{"[]", []float64{}, ""},
		{"[ ]", []float64{}, ""},
		{"[+1, .5, 1., 1e-50, 0.1, 1E+2]", []float64{1, 0.5, 1, 1e-50, 0.1, 100}, ""},
		{"[1e400, -1e400]", []float64{inf, -inf}, ""},
		{"", nil, "must start with '['"},
		{"1,2", nil, "must start with '['"},
		{"[1,2", nil, "must end with ']'"},
		{"[", nil, "must end with ']'"},
		{"[1,2] x", nil, `has "x" after its closing ']'`},
		{"[1,2]]", nil, `has "]" after its closing ']'`},
		{"[1,,2]", nil, `has "" at position 1, not a number`},
		{"[1,2,]", nil, `has "" at position 2, not a number`},
		{"[,]", nil, `has "" at position 0, not a number`},
		{"[nan]", nil, `has "nan" at position 0, not a number`},
		{"[inf]", nil, `has "inf" at position 0, not a number`},
		{"[0x10]", nil, `has "0x10" at position 0, not a number`},
		{"[1e]", nil, `has "1e" at position 0, not a number`},
		{"[.]", nil, `has "." at position 0, not a number`},
		{"[1_000]", nil, `has "1_000" at position 0, not a number`},
		{"[" + strings.Repeat("1", 1025) + "]", nil, "has a number of more than 1024 characters"},
		{"[" + strings.Repeat("1,", MaxDims) + "1]", nil, "more than libSQL's 65536 components"},
	} {
		got, err := parseText(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%.40q: %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) || got == nil {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func TestScanTextEveryType(t *testing.T) {
	text := "[1, 2, 3.3, -70000]"
	var f32 Vector
	if err := f32.Scan(text); err != nil || !equal(f32, []float32{1, 2, 3.3, -70000}) {
		t.Errorf("Vector: %v %v", f32, err)
	}
	var f64 Float64
	if err := f64.Scan(text); err != nil || len(f64) != 4 || f64[2] != 3.3 {
		t.Errorf("Float64: %v %v", f64, err)
	}
	var fb16 BFloat16
	if err := fb16.Scan(text); err != nil || !equal(fb16[:3], []float32{1, 2, 3.296875}) {
		t.Errorf("BFloat16: %v %v", fb16, err)
	}
	var bits Float1Bit
	if err := bits.Scan(text); err != nil || !equal(bits, []float32{1, 1, 1, -1}) {
		t.Errorf("Float1Bit: %v %v", bits, err)
	}
	var f16 Float16
	if err := f16.Scan(text); err == nil || !strings.Contains(err.Error(), "vector: a text vector read as a vector.Float16: component 3 (-70000) is beyond float16's range") {
		t.Errorf("Float16 out of range: %v", err)
	}
	if err := f16.Scan("[1, 2, 3.3]"); err != nil || !equal(f16, []float32{1, 2, 3.30078125}) {
		t.Errorf("Float16: %v %v", f16, err)
	}
	var f8 Float8
	if err := f8.Scan("[0, 1, 255]"); err != nil || !equal(f8, []float32{0, 1, 255}) {
		t.Errorf("Float8: %v %v", f8, err)
	}
	for _, s := range []interface{ Scan(any) error }{&f32, &f64, &f16, &fb16, &f8, &bits} {
		if err := s.Scan("[]"); err != nil {
			t.Errorf("%T of []: %v", s, err)
		}
	}
	if f32 == nil || len(f32) != 0 || bits == nil || len(bits) != 0 {
		t.Errorf("[] reads as %#v, %#v: want empty, not nil", f32, bits)
	}
	if err := f32.Scan("[1,x]"); err == nil || !strings.Contains(err.Error(), `vector: a text vector has "x" at position 1, not a number`) {
		t.Errorf("bad text: %v", err)
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"[1,2,3]", "[]", " [ -1.5e3 , .5 ] ", "[1,,2]", "[1e400]", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		xs, err := parseText(s)
		if err != nil {
			return
		}
		if len(xs) > MaxDims {
			t.Fatalf("%d components", len(xs))
		}
		// What was read writes back as text that reads the same.
		parts := make([]string, len(xs))
		for i, x := range xs {
			if math.IsNaN(x) {
				t.Fatalf("%q: NaN at %d", s, i)
			}
			parts[i] = formatNumber(x)
		}
		again, err := parseText("[" + strings.Join(parts, ",") + "]")
		if err != nil || len(again) != len(xs) {
			t.Fatalf("%q -> %v -> %v %v", s, xs, again, err)
		}
		for i := range xs {
			if again[i] != xs[i] {
				t.Fatalf("%q: component %d %v, again %v", s, i, xs[i], again[i])
			}
		}
		for _, typ := range []Type{F32, F16, FB16, F8, F1Bit} {
			fromText(typ, s) // no panic
		}
	})
}

func formatNumber(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "1e999"
	case math.IsInf(x, -1):
		return "-1e999"
	}
	return fmtG(x)
}

func fmtG(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
