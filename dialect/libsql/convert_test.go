package libsql

import (
	"database/sql/driver"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTimeRoundTrip(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", -7*3600-30*60), time.FixedZone("", 14*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	for _, loc := range zones {
		for _, in := range []time.Time{
			time.Date(2026, 11, 24, 5, 53, 55, 821181057, loc),
			time.Date(1, 1, 1, 0, 0, 0, 0, loc),
			time.Date(9999, 12, 31, 23, 59, 59, 999999999, loc),
			time.Date(1970, 1, 1, 0, 0, 0, 1, loc),
		} {
			stored := wireValue(in).(string)
			got, ok := columnValue(stored, declTime).(time.Time)
			if !ok || !got.Equal(in) {
				t.Fatalf("%v stored as %q read back as %v", in, stored, got)
			}
			_, off1 := in.Zone()
			_, off2 := got.Zone()
			if off1 != off2 && off1%60 == 0 {
				t.Fatalf("offset of %v changed to %v", in, got)
			}
		}
	}
}

func TestColumnValue(t *testing.T) {
	utc := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, s)
		return t
	}
	tests := []struct {
		decl string
		in   any
		want driver.Value
	}{
		{"DATETIME", "2026-11-24 05:53:55.5+00:00", utc("2026-11-24T05:53:55.5Z")},
		{"datetime", "2026-11-24T05:53:55Z", utc("2026-11-24T05:53:55Z")},
		{"timestamp", "2026-11-24 05:53", utc("2026-11-24T05:53:00Z")},
		{"date", "2026-11-24", utc("2026-11-24T00:00:00Z")},
		{"DATE", int64(1700000000), time.Unix(1700000000, 0).UTC()},
		{"DATE", int64(1700000000123), time.UnixMilli(1700000000123).UTC()},
		{"datetime", "not a time", "not a time"}, // kept, never the zero time
		{"BOOLEAN", int64(1), true},
		{"boolean", int64(0), false},
		{"bool", int64(1), int64(1)}, // ent's "bool" columns scan through database/sql
		{"TEXT", "2026-11-24", "2026-11-24"},
		{"json", `{"a":1}`, []byte(`{"a":1}`)}, // ent scans JSON as []byte only
		{"JSON", []byte(`[1]`), []byte(`[1]`)},
		{"json", nil, nil},
		{"json", int64(3), int64(3)},
		{"", nil, nil},
	}
	for _, tt := range tests {
		got := columnValue(tt.in, classifyDecltype(tt.decl))
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(tt.want.(time.Time)) {
				t.Errorf("%s %v: got %v want %v", tt.decl, tt.in, got, tt.want)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %v: got %#v want %#v", tt.decl, tt.in, got, tt.want)
		}
	}
}

func TestCheckNamedValue(t *testing.T) {
	type myUint uint64
	ok := []struct {
		in   any
		want any
	}{
		{uint64(math.MaxInt64), int64(math.MaxInt64)},
		{myUint(7), int64(7)},
		{uint8(255), int64(255)},
		{true, true},
		{"s", "s"},
		// JSON goes in a BLOB, as go-sqlite3 stores ent's JSON fields.
		{json.RawMessage(`{"a":1}`), []byte(`{"a":1}`)},
		{json.RawMessage(nil), []byte(nil)},
		{map[string]any{"a": 1}, []byte(`{"a":1}`)},
		{[]string{"x", "y"}, []byte(`["x","y"]`)},
		{[2]int{1, 2}, []byte(`[1,2]`)},
		{struct{ A int }{3}, []byte(`{"A":3}`)},
	}
	for _, tt := range ok {
		nv := &driver.NamedValue{Value: tt.in}
		if err := checkNamedValue(nv); err != nil || !reflect.DeepEqual(nv.Value, tt.want) {
			t.Errorf("%T %v: got %#v, %v", tt.in, tt.in, nv.Value, err)
		}
	}
	for _, v := range []any{uint64(math.MaxInt64) + 1, uint64(math.MaxUint64), myUint(math.MaxUint64)} {
		err := checkNamedValue(&driver.NamedValue{Value: v})
		if err == nil || !strings.Contains(err.Error(), "does not fit in a SQLite INTEGER") {
			t.Errorf("%v: %v", v, err)
		}
	}
	err := checkNamedValue(&driver.NamedValue{Ordinal: 2, Value: map[string]any{"f": func() {}}})
	if err == nil || !strings.Contains(err.Error(), "argument #2") || !strings.Contains(err.Error(), "JSON") {
		t.Errorf("unencodable map: %v", err)
	}
	if err := checkNamedValue(&driver.NamedValue{Value: int32(1)}); err != driver.ErrSkip {
		t.Errorf("int32 should go to the default converter, got %v", err)
	}
}
