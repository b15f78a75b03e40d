package vectortest

import (
	"bytes"
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
)

// The embedded engine is a libSQL of its own (go-libsql's): every type
// encodes as its vector16(?), vector8(?), ... of the float32 blob write.
// (The vector package checks the same against sqld, decoding included.)
func TestParityEmbedded(t *testing.T) {
	drv, err := libsql.Open("file:" + filepath.Join(t.TempDir(), "parity.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	db, ctx := drv.DB(), context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 200; n++ {
		v := make([]float32, 1+r.IntN(20))
		scale := []float64{1, 1e-6, 3e-8, 1000}[n%4]
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
		}
		for _, c := range []struct {
			fn string
			v  driver.Valuer
		}{
			{"vector16", vector.Float16(v)},
			{"vectorb16", vector.BFloat16(v)},
			{"vector8", vector.Float8(v)},
			{"vector1bit", vector.Float1Bit(v)},
		} {
			ours, err := c.v.Value()
			if err != nil {
				t.Fatal(err)
			}
			var theirs []byte
			if err := db.QueryRowContext(ctx, "SELECT "+c.fn+"(?)", vector.Vector(v)).Scan(&theirs); err != nil {
				t.Fatal(err)
			}
			if c.fn == "vector8" { // libSQL leaves the alignment bytes as they were
				for i := len(v); i < (len(v)+3)/4*4; i++ {
					theirs[i] = 0
				}
			}
			if !bytes.Equal(ours.([]byte), theirs) {
				t.Fatalf("%s(%v):\n ours   %x\n libSQL %x", c.fn, v, ours, theirs)
			}
		}
	}
	// libSQL's text form reads as the embedded engine's conversions read
	// it (the vector package checks sqld the same way, error cases too).
	for n := 0; n < 200; n++ {
		parts := make([]string, 1+r.IntN(10))
		for i := range parts {
			parts[i] = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(16)-8)), []byte("gef")[n%3], r.IntN(20)-1, 64)
		}
		text := " [" + strings.Join(parts, " , ") + "] "
		for _, c := range []struct {
			fn         string
			ours, back interface{ Scan(any) error }
		}{
			{"vector32", new(vector.Vector), new(vector.Vector)},
			{"vector16", new(vector.Float16), new(vector.Float16)},
			{"vectorb16", new(vector.BFloat16), new(vector.BFloat16)},
			{"vector8", new(vector.Float8), new(vector.Float8)},
			{"vector1bit", new(vector.Float1Bit), new(vector.Float1Bit)},
		} {
			var theirs []byte
			if err := db.QueryRowContext(ctx, "SELECT "+c.fn+"(?)", text).Scan(&theirs); err != nil {
				t.Fatalf("%s(%q): %v", c.fn, text, err)
			}
			if err := c.back.Scan(theirs); err != nil {
				t.Fatal(err)
			}
			if err := c.ours.Scan(text); err != nil {
				if c.fn == "vector16" && strings.Contains(err.Error(), "beyond float16's range") {
					continue
				}
				t.Fatalf("%s: %v", text, err)
			}
			if fmt.Sprint(c.ours) != fmt.Sprint(c.back) {
				t.Fatalf("%s(%q):\n ours   %v\n libSQL %v", c.fn, text, c.ours, c.back)
			}
		}
	}
}
