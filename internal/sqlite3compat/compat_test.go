package sqlite3compat

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"
	_ "github.com/mattn/go-sqlite3"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/kind"
	"github.com/entlibsql/entlibsql/internal/testent/schema/schematype"
)

// row is what each side writes and both must read back alike.
type row struct {
	name  string
	jmap  map[string]any
	jlist []string
	point schematype.Point
	ts    time.Time
	bin   []byte
	b     bool
	f64   float64
	i64   int64
}

func rows(prefix string) []row {
	ny := time.FixedZone("", -5*3600)
	return []row{
		{prefix + "-a", map[string]any{"s": "🙂 \"q\"", "n": 1.5, "nested": map[string]any{"l": []any{true, nil}}},
			[]string{"x", ""}, schematype.Point{X: -1, Y: math.MaxInt32},
			time.Date(2026, 11, 24, 5, 53, 55, 123456789, ny), []byte{0, 0xff}, true, 0.1 + 0.2, math.MinInt64},
		{prefix + "-b", map[string]any{}, []string{}, schematype.Point{},
			time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC), []byte{}, false, -0.0, math.MaxInt64},
	}
}

func create(ctx context.Context, c *ent.Client, rs []row) error {
	for _, r := range rs {
		err := c.Kind.Create().
			SetB(r.b).SetI8(1).SetI16(2).SetI32(3).SetI64(r.i64).SetI(5).
			SetU8(6).SetU16(7).SetU32(8).SetU64(9).SetU(10).
			SetF32(1.5).SetF64(r.f64).SetStr(r.name).SetTxt("t").SetBin(r.bin).
			SetJmap(r.jmap).SetJlist(r.jlist).SetJpoint(r.point).
			SetColor(kind.ColorRed).SetTs(r.ts).Exec(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// check reads rs back through c, and runs a sqljson predicate on them.
func check(t *testing.T, side string, c *ent.Client, rs []row) {
	t.Helper()
	ctx := context.Background()
	for _, r := range rs {
		k, err := c.Kind.Query().Where(kind.Str(r.name)).Only(ctx)
		if err != nil {
			t.Fatalf("%s: reading %s: %v", side, r.name, err)
		}
		if !reflect.DeepEqual(k.Jmap, r.jmap) || !reflect.DeepEqual(k.Jlist, r.jlist) || k.Jpoint != r.point {
			t.Errorf("%s: %s JSON read back as %#v %#v %#v", side, r.name, k.Jmap, k.Jlist, k.Jpoint)
		}
		if !k.Ts.Equal(r.ts) || k.B != r.b || k.F64 != r.f64 || k.I64 != r.i64 || string(k.Bin) != string(r.bin) || k.Bin == nil {
			t.Errorf("%s: %s read back as ts=%v b=%v f64=%v i64=%v bin=%#v", side, r.name, k.Ts, k.B, k.F64, k.I64, k.Bin)
		}
		// ent's struct scanning, which takes JSON only as []byte.
		var v []struct {
			Jmap map[string]any `json:"jmap"`
		}
		if err := c.Kind.Query().Where(kind.ID(k.ID)).Select(kind.FieldJmap).Scan(ctx, &v); err != nil || len(v) != 1 || !reflect.DeepEqual(v[0].Jmap, r.jmap) {
			t.Errorf("%s: %s struct scan: %v %v", side, r.name, v, err)
		}
	}
	n, err := c.Kind.Query().Where(kind.StrIn(rs[0].name, rs[1].name), func(s *sql.Selector) {
		s.Where(sqljson.ValueEQ(kind.FieldJmap, 1.5, sqljson.Path("n")))
	}).Count(ctx)
	if err != nil || n != 1 {
		t.Errorf("%s: sqljson.ValueEQ counted %d, %v; want 1", side, n, err)
	}
	var types []struct {
		Jmap string `json:"jmap"`
	}
	if err := c.Kind.Query().Where(kind.Str(rs[0].name)).Modify(func(s *sql.Selector) {
		s.Select(sql.As("typeof("+s.C(kind.FieldJmap)+")", "jmap"))
	}).Scan(ctx, &types); err != nil || len(types) != 1 || types[0].Jmap != "blob" {
		t.Errorf("%s: JSON stored as %v (%v), want blob", side, types, err)
	}
}

// TestRoundTripWithGoSQLite3: rows written by this driver on sqld read the
// same from sqld's database file through go-sqlite3, and rows go-sqlite3
// adds to that file read the same through this driver once sqld serves it
// again.
func TestRoundTripWithGoSQLite3(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	srv, err := sqldtest.Start(ctx, sqldtest.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	drv, err := libsql.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ours := ent.NewClient(ent.Driver(drv))
	if err := ours.Schema.Create(ctx); err != nil {
		t.Fatal(err)
	}
	fromUs := rows("entlibsql")
	if err := create(ctx, ours, fromUs); err != nil {
		t.Fatal(err)
	}
	check(t, "entlibsql", ours, fromUs)
	ours.Close()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(dataDir, "data.sqld", "dbs", "default", "data")
	theirs, err := ent.Open("sqlite3", "file:"+file+"?_fk=1")
	if err != nil {
		t.Fatal(err)
	}
	check(t, "go-sqlite3 reading entlibsql's rows", theirs, fromUs)
	fromThem := rows("go-sqlite3")
	if err := create(ctx, theirs, fromThem); err != nil {
		t.Fatal(err)
	}
	theirs.Close()

	srv2, err := sqldtest.Start(ctx, sqldtest.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Stop()
	drv2, err := libsql.Open(srv2.URL())
	if err != nil {
		t.Fatal(err)
	}
	again := ent.NewClient(ent.Driver(drv2))
	defer again.Close()
	check(t, "entlibsql reading go-sqlite3's rows", again, fromThem)
	check(t, "entlibsql reading its own rows after go-sqlite3", again, fromUs)
}
