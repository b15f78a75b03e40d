package libsql_test

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"
	"github.com/google/uuid"

	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/kind"
	"github.com/entlibsql/entlibsql/internal/testent/schema/schematype"
)

// newKind fills every required field of the field zoo.
func newKind(c *ent.Client) *ent.KindCreate {
	return c.Kind.Create().
		SetB(true).SetI8(1).SetI16(2).SetI32(3).SetI64(4).SetI(5).
		SetU8(6).SetU16(7).SetU32(8).SetU64(9).SetU(10).
		SetF32(1.5).SetF64(2.5).SetStr("s").SetTxt("t").SetBin([]byte{1}).
		SetJmap(map[string]any{"a": 1.0}).SetJlist([]string{"x"}).SetJpoint(schematype.Point{X: 1, Y: 2}).
		SetColor(kind.ColorRed).SetTs(time.Now())
}

func TestFieldTypesRoundTrip(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	str := "NUL\x00inside, emoji 🙂👍🏽, quotes \"' and \\ backslash, CJK 漢字"
	ts := time.Date(2026, 11, 24, 5, 53, 55, 123456789, ny)
	optTS := time.Date(1969, 7, 20, 20, 17, 40, 999999999, time.FixedZone("", 5*3600+45*60))
	optStr, optI64, optU64, optF64, optB := "", int64(math.MinInt64), uint64(math.MaxInt64), -0.125, false
	optUID := uuid.New()
	optColor := kind.OptColorBlue
	tests := []struct {
		name string
		mut  func(*ent.KindCreate)
		want func(*testing.T, *ent.Kind)
	}{
		{"extremes", func(k *ent.KindCreate) {
			k.SetB(false).SetI8(math.MinInt8).SetI16(math.MaxInt16).SetI32(math.MinInt32).SetI64(math.MaxInt64).SetI(math.MinInt64).
				SetU8(math.MaxUint8).SetU16(math.MaxUint16).SetU32(math.MaxUint32).SetU64(math.MaxInt64).SetU(math.MaxInt64).
				SetF32(math.MaxFloat32).SetF64(math.SmallestNonzeroFloat64)
		}, func(t *testing.T, k *ent.Kind) {
			if k.B || k.I8 != math.MinInt8 || k.I16 != math.MaxInt16 || k.I32 != math.MinInt32 || k.I64 != math.MaxInt64 || k.I != math.MinInt64 {
				t.Fatalf("signed: %+v", k)
			}
			if k.U8 != math.MaxUint8 || k.U16 != math.MaxUint16 || k.U32 != math.MaxUint32 || k.U64 != math.MaxInt64 || k.U != math.MaxInt64 {
				t.Fatalf("unsigned: %+v", k)
			}
			if k.F32 != math.MaxFloat32 || k.F64 != math.SmallestNonzeroFloat64 {
				t.Fatalf("floats: %v %v", k.F32, k.F64)
			}
		}},
		{"floats exact", func(k *ent.KindCreate) { k.SetF32(0.1).SetF64(0.1 + 0.2) }, func(t *testing.T, k *ent.Kind) {
			if k.F32 != float32(0.1) || k.F64 != 0.1+0.2 {
				t.Fatalf("floats: %v %v", k.F32, k.F64)
			}
		}},
		{"strings and bytes", func(k *ent.KindCreate) {
			k.SetStr(str).SetTxt(strings.Repeat("long text ", 10000)).SetBin([]byte{0, 0xff, 0, 0x80})
		}, func(t *testing.T, k *ent.Kind) {
			if k.Str != str || k.Txt != strings.Repeat("long text ", 10000) || !bytes.Equal(k.Bin, []byte{0, 0xff, 0, 0x80}) {
				t.Fatalf("strings/bytes: %q %d %v", k.Str, len(k.Txt), k.Bin)
			}
		}},
		{"empty bytes are not nil", func(k *ent.KindCreate) { k.SetBin([]byte{}).SetOptBin([]byte{}) }, func(t *testing.T, k *ent.Kind) {
			if k.Bin == nil || len(k.Bin) != 0 || k.OptBin == nil || *k.OptBin == nil || len(*k.OptBin) != 0 {
				t.Fatalf("empty bytes: %#v %#v", k.Bin, k.OptBin)
			}
		}},
		{"json", func(k *ent.KindCreate) {
			k.SetJmap(map[string]any{"s": str, "n": 1.5, "nested": map[string]any{"l": []any{true, nil}}}).
				SetJlist([]string{"a", "", "🙂"}).SetJpoint(schematype.Point{X: -1, Y: math.MaxInt32})
		}, func(t *testing.T, k *ent.Kind) {
			want := map[string]any{"s": str, "n": 1.5, "nested": map[string]any{"l": []any{true, nil}}}
			if !reflect.DeepEqual(k.Jmap, want) || !reflect.DeepEqual(k.Jlist, []string{"a", "", "🙂"}) || k.Jpoint != (schematype.Point{X: -1, Y: math.MaxInt32}) {
				t.Fatalf("json: %#v %#v %#v", k.Jmap, k.Jlist, k.Jpoint)
			}
		}},
		{"time to the nanosecond in any zone", func(k *ent.KindCreate) { k.SetTs(ts).SetOptTs(optTS) }, func(t *testing.T, k *ent.Kind) {
			if !k.Ts.Equal(ts) || k.OptTs == nil || !k.OptTs.Equal(optTS) {
				t.Fatalf("times: %v (want %v), %v (want %v)", k.Ts, ts, k.OptTs, optTS)
			}
			if _, off := k.Ts.Zone(); off != -5*3600 {
				t.Fatalf("offset lost: %v", k.Ts)
			}
		}},
		{"optional and nillable set", func(k *ent.KindCreate) {
			k.SetOptStr(optStr).SetOptI64(optI64).SetOptU64(optU64).SetOptF64(optF64).SetOptB(optB).
				SetOptUID(optUID).SetOptColor(optColor).SetOptJmap(map[string]any{}).SetPlainOpt("p")
		}, func(t *testing.T, k *ent.Kind) {
			if k.OptStr == nil || *k.OptStr != optStr || *k.OptI64 != optI64 || *k.OptU64 != optU64 || *k.OptF64 != optF64 ||
				*k.OptB != optB || *k.OptUID != optUID || *k.OptColor != optColor || k.OptJmap == nil || k.PlainOpt != "p" {
				t.Fatalf("optionals: %+v", k)
			}
		}},
		// ent's generated code points a Nillable bytes field at a nil slice
		// for NULL, with any driver.
		{"optional and nillable unset are NULL", func(*ent.KindCreate) {}, func(t *testing.T, k *ent.Kind) {
			if k.OptStr != nil || k.OptI64 != nil || k.OptU64 != nil || k.OptF64 != nil || k.OptB != nil || (k.OptBin != nil && *k.OptBin != nil) ||
				k.OptTs != nil || k.OptUID != nil || k.OptColor != nil || k.OptJmap != nil || k.PlainOpt != "" {
				t.Fatalf("unset optionals: %+v", k)
			}
		}},
		{"defaults, uuid and enum", func(k *ent.KindCreate) { k.SetColor(kind.ColorGreen) }, func(t *testing.T, k *ent.Kind) {
			if k.Dflt != 42 || k.UID == uuid.Nil || k.Color != kind.ColorGreen || k.CreatedAt.IsZero() {
				t.Fatalf("defaults: %+v", k)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newKind(c)
			tt.mut(b)
			created, err := b.Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Kind.Get(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, got)
			if got.UID != created.UID {
				t.Fatalf("uuid changed: %v -> %v", created.UID, got.UID)
			}
		})
	}
}

func TestUint64AboveMaxInt64IsAnError(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	before, err := c.Kind.Query().Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newKind(c).SetU64(math.MaxInt64 + 1).Save(ctx)
	if err == nil || !strings.Contains(err.Error(), "does not fit in a SQLite INTEGER") {
		t.Fatalf("saving MaxInt64+1: %v", err)
	}
	if after, _ := c.Kind.Query().Count(ctx); after != before {
		t.Fatalf("a row was written: %d -> %d", before, after)
	}
}

// TestJSONFields: JSON goes in a BLOB, as go-sqlite3 stores ent's JSON
// fields; SQLite's JSON functions read a BLOB of JSON text, so ent's
// sqljson predicates work; and ent's struct scanning, which takes JSON
// only as []byte, reads it, and JSON text written by another client too.
func TestJSONFields(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	tag := uniq(t, "j")
	k, err := newKind(c).SetJmap(map[string]any{"tag": tag, "n": 7.0, "list": []any{"a", "b"}}).
		SetJlist([]string{tag, "other"}).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ := queryString(t, c, "SELECT typeof(jmap) FROM kinds WHERE id = ?", k.ID); typ != "blob" {
		t.Fatalf("JSON stored as %q, want blob as go-sqlite3 stores it", typ)
	}
	preds := map[string]func(*sql.Selector){
		"ValueEQ":        func(s *sql.Selector) { s.Where(sqljson.ValueEQ(kind.FieldJmap, tag, sqljson.Path("tag"))) },
		"ValueGT":        func(s *sql.Selector) { s.Where(sqljson.ValueGT(kind.FieldJmap, 6, sqljson.Path("n"))) },
		"HasKey":         func(s *sql.Selector) { s.Where(sqljson.HasKey(kind.FieldJmap, sqljson.Path("list"))) },
		"LenEQ":          func(s *sql.Selector) { s.Where(sqljson.LenEQ(kind.FieldJmap, 2, sqljson.Path("list"))) },
		"ValueContains":  func(s *sql.Selector) { s.Where(sqljson.ValueContains(kind.FieldJlist, tag)) },
		"StringContains": func(s *sql.Selector) { s.Where(sqljson.StringContains(kind.FieldJmap, tag[1:], sqljson.Path("tag"))) },
		"ValueIsNotNull": func(s *sql.Selector) { s.Where(sqljson.ValueIsNotNull(kind.FieldJmap)) },
	}
	for name, p := range preds {
		ids, err := c.Kind.Query().Where(kind.ID(k.ID), p).IDs(ctx)
		if err != nil || len(ids) != 1 {
			t.Errorf("sqljson.%s found %v, %v; want [%v]", name, ids, err, k.ID)
		}
	}
	// sqljson.Append updates in place.
	if err := c.Kind.UpdateOneID(k.ID).AppendJlist([]string{"appended"}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Kind.GetX(ctx, k.ID).Jlist; !reflect.DeepEqual(got, []string{tag, "other", "appended"}) {
		t.Fatalf("after AppendJlist: %v", got)
	}

	// JSON text, as another client (or this driver before) may write it.
	if _, err := c.ExecContext(ctx, "UPDATE kinds SET jpoint = ? WHERE id = ?", `{"x":5,"y":6}`, k.ID); err != nil {
		t.Fatal(err)
	}
	// ent's struct scanning (sql.ScanSlice), which the generated Select
	// and GroupBy use: JSON goes through a Scanner that takes only []byte.
	var v []struct {
		Jmap   map[string]any   `json:"jmap"`
		Jpoint schematype.Point `json:"jpoint"`
		Jlist  []string         `json:"jlist"`
	}
	if err := c.Kind.Query().Where(kind.ID(k.ID)).Select(kind.FieldJmap, kind.FieldJpoint, kind.FieldJlist).Scan(ctx, &v); err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 || v[0].Jmap["tag"] != tag || v[0].Jpoint != (schematype.Point{X: 5, Y: 6}) || len(v[0].Jlist) != 3 {
		t.Fatalf("struct scan read %+v", v)
	}
	if got := c.Kind.GetX(ctx, k.ID).Jpoint; got != (schematype.Point{X: 5, Y: 6}) {
		t.Fatalf("JSON text read back as %v", got)
	}
}

// TestUpsertJSONFields: ent's upsert builders bind a JSON field's Go value
// (a map, a slice, a struct) as it is; the driver stores it as JSON, in a
// BLOB as ent's other builders do.
func TestUpsertJSONFields(t *testing.T) {
	c := entClient(t)
	ctx := context.Background()
	jmap := map[string]any{"k": "v", "n": 2.0}
	jlist := []string{"a", "b"}
	jpoint := schematype.Point{X: 3, Y: 4}
	id, err := newKind(c).
		OnConflict(sql.ConflictColumns(kind.FieldID)).
		Update(func(u *ent.KindUpsert) { u.SetJmap(jmap).SetJlist(jlist).SetJpoint(jpoint) }).
		ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The conflict branch, as the upsert writes it: SET col = ? with the
	// Go value bound.
	if _, err := c.ExecContext(ctx, "UPDATE kinds SET jmap = ?, jlist = ?, jpoint = ? WHERE id = ?", jmap, jlist, jpoint, id); err != nil {
		t.Fatal(err)
	}
	k := c.Kind.GetX(ctx, id)
	if !reflect.DeepEqual(k.Jmap, jmap) || !reflect.DeepEqual(k.Jlist, jlist) || k.Jpoint != jpoint {
		t.Fatalf("read back %v %v %v", k.Jmap, k.Jlist, k.Jpoint)
	}
	if typ := queryString(t, c, "SELECT typeof(jmap) || typeof(jlist) || typeof(jpoint) FROM kinds WHERE id = ?", id); typ != "blobblobblob" {
		t.Fatalf("upserted JSON stored as %q", typ)
	}
}

// queryString runs a query of one text value through the ent client.
func queryString(t *testing.T, c *ent.Client, query string, args ...any) string {
	t.Helper()
	rows, err := c.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var s string
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	if err := rows.Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
