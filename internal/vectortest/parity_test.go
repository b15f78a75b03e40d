package vectortest

import (
	"bytes"
	"context"
	"database/sql/driver"
	"math/rand/v2"
	"path/filepath"
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
}
