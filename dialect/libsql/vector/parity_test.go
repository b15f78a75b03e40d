package vector

import (
	"bytes"
	"context"
	"database/sql"
	"math/rand/v2"
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
