package vector

import (
	"bytes"
	"context"
	"database/sql"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	drv, err := libsql.Open(sqldtest.URL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return drv.DB()
}

// parityVectors are float32 vectors across the ranges the conversions
// treat differently: ordinary values, half-precision subnormals and ties,
// values near float16's limit, constant vectors (float8's alpha 0).
func parityVectors() [][]float32 {
	r := rand.New(rand.NewPCG(1, 2))
	var out [][]float32
	for n := 0; n < 300; n++ {
		dims := 1 + r.IntN(40)
		v := make([]float32, dims)
		scale := []float32{1, 1e-3, 1e-6, 3e-8, 1000, 60000}[n%6]
		for i := range v {
			v[i] = float32(r.NormFloat64()) * scale
			if n%7 == 0 { // exact ties for the half rounding
				v[i] = 1 + float32(r.IntN(4096))*0x1p-12
			}
		}
		if n%11 == 0 {
			for i := range v {
				v[i] = v[0]
			}
		}
		out = append(out, v)
	}
	return out
}

// TestParityWithServer checks, against sqld's libSQL, that each type
// encodes a float32 vector to the bytes libSQL's own conversion writes
// (vector16(?), vector8(?), ... of the float32 blob) and decodes a blob to
// the components libSQL's vector32(?) reads from it.
func TestParityWithServer(t *testing.T) {
	testParity(t, openDB(t))
}

func testParity(t *testing.T, db *sql.DB) {
	ctx := context.Background()
	checked := 0
	for _, v := range parityVectors() {
		f32, err := encode(F32, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []Type{F16, FB16, F8, F1Bit} {
			ours, err := encode(typ, v)
			if err != nil {
				if typ == F16 { // beyond float16: libSQL would store infinities
					continue
				}
				t.Fatal(err)
			}
			var theirs []byte
			if err := db.QueryRowContext(ctx, "SELECT "+typ.Func()+"(?)", f32).Scan(&theirs); err != nil {
				t.Fatalf("%s(%v): %v", typ.Func(), v, err)
			}
			if typ == F8 && len(theirs) == len(ours) {
				// libSQL leaves the alignment bytes after the steps as
				// they were in memory; ours are 0.
				for i := len(v); i < align4(len(v)); i++ {
					theirs[i] = 0
				}
			}
			if !bytes.Equal(ours, theirs) {
				t.Fatalf("%s of %v:\n ours   %x\n libSQL %x", typ, v, ours, theirs)
			}
			var back []byte
			if err := db.QueryRowContext(ctx, "SELECT vector32(?)", ours).Scan(&back); err != nil {
				t.Fatal(err)
			}
			_, dims, _ := Inspect(ours)
			if got := decode(typ, dims, ours); !equal(got, decode(F32, len(v), back)) {
				t.Fatalf("%s %x: decoded %v, libSQL read %v", typ, ours, got, decode(F32, len(v), back))
			}
			checked++
		}
		f64 := make([]float64, len(v))
		for i, x := range v {
			f64[i] = float64(x)
		}
		ours, _ := encodeF64(f64)
		var theirs []byte
		if err := db.QueryRowContext(ctx, "SELECT vector64(?)", f32).Scan(&theirs); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("F64 of %v:\n ours   %x\n libSQL %x", v, ours, theirs)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d conversions checked", checked)
	}
}

// parityTexts are vectors in libSQL's text form: numbers written every
// way SQLite reads them (exponents, signs, points without digits on one
// side, long decimals whose rounding to float32 is close), spaces where
// libSQL skips them, and text it refuses.
func parityTexts() []string {
	r := rand.New(rand.NewPCG(5, 6))
	out := []string{
		"[]", " [ ] ", "[1]", "[1 2, 3]", "[+1,-.5,1.,1e-50,1E+2]", "[1e39,-1e39]", "[1e400]",
		"[0.1,0.2,0.3]", "[3.4028235e38]", "[1.00000005960464477539]", "[1.4e-45, 7e-46]",
		"\t[1,\n2]\r\n", "[1,2] x", "[1,,2]", "[1,2,]", "[nan]", "[inf]", "[0x10]", "[1e]",
		"[.]", "[1_0]", "1,2", "[1,2", "[--1]", "[1e+]", "[٣]",
	}
	for n := 0; n < 300; n++ {
		parts := make([]string, 1+r.IntN(12))
		for i := range parts {
			x := r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10))
			switch r.IntN(4) {
			case 0:
				parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
			case 1:
				parts[i] = strconv.FormatFloat(x, 'e', r.IntN(25), 64)
			case 2:
				parts[i] = strconv.FormatFloat(x, 'f', r.IntN(30), 64)
			default: // a float32's shortest form, and halfway cases around it
				f := float32(x)
				parts[i] = strconv.FormatFloat(float64(f), 'g', -1, 32) + strings.Repeat("0", r.IntN(3)) + "5"
			}
		}
		sep := []string{",", ", ", " , "}[n%3]
		out = append(out, "["+strings.Join(parts, sep)+"]")
	}
	return out
}

// TestTextParityWithServer checks that each type reads libSQL's text form
// as sqld reads it: vector32(text) and vector64(text) for the float32 and
// float64 vectors, vector16(text), ... for the others.
func TestTextParityWithServer(t *testing.T) {
	testTextParity(t, openDB(t))
}

func testTextParity(t *testing.T, db *sql.DB) {
	ctx := context.Background()
	for _, text := range parityTexts() {
		for _, typ := range []Type{F32, F64, F16, FB16, F8, F1Bit} {
			var blob []byte
			theirErr := db.QueryRowContext(ctx, "SELECT "+typ.Func()+"(?)", text).Scan(&blob)
			var ours, theirs []float64
			var err error
			if typ == F64 {
				ours, err = parseText(text)
				theirs = decodeF64(len(blob)/8, blob)
			} else {
				var v []float32
				v, err = fromText(typ, text)
				ours = widen(v)
				if theirErr == nil {
					if typ == F8 || typ == F1Bit {
						// libSQL's conversion of "[]" to these types writes
						// nothing it can read back.
						if _, _, e := Inspect(blob); e != nil && len(ours) == 0 {
							continue
						}
					}
					_, dims, e := Inspect(blob)
					if e != nil {
						t.Fatalf("%s(%q): libSQL wrote %x: %v", typ.Func(), text, blob, e)
					}
					theirs = widen(decode(typ, dims, blob))
				}
			}
			switch {
			case theirErr != nil && err == nil:
				t.Fatalf("%s(%q): libSQL refuses it (%v), we read %v", typ.Func(), text, theirErr, ours)
			case theirErr != nil:
				continue
			case err != nil && typ == F32 || err != nil && typ == F64:
				t.Fatalf("%s(%q): libSQL reads %v, we refuse it: %v", typ.Func(), text, theirs, err)
			case err != nil:
				continue // beyond the type's range: libSQL stores infinities, we refuse them
			case !sameBits(ours, theirs, typ == F64):
				t.Fatalf("%s(%q):\n ours   %v\n libSQL %v", typ.Func(), text, ours, theirs)
			}
		}
	}
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// sameBits compares components bit for bit, or within one unit in the
// last place (ulp): SQLite's decimal parser is not correctly rounded (it
// multiplies by powers of ten in long double), Go's is, so a float64 read
// from text can differ in its last bit. Rounded to float32 they agree.
func sameBits(a, b []float64, ulp bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := math.Float64bits(a[i]), math.Float64bits(b[i])
		if x == y || ulp && (x == y+1 || y == x+1) {
			continue
		}
		return false
	}
	return true
}
