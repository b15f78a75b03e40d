package libsql

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// TimeFormat is how time.Time arguments are stored: the text format of
// ent's sqlite3 dialect (mattn/go-sqlite3), so a database written by either
// driver reads back in the other, to the nanosecond and with the offset.
const TimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// timeFormats are parsed, in order, from DATE, DATETIME and TIMESTAMP
// columns: the formats go-sqlite3 reads.
var timeFormats = []string{
	TimeFormat,
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// checkNamedValue implements driver.NamedValueChecker for the cases the
// default converter gets wrong or words poorly; the rest it leaves to
// database/sql (driver.ErrSkip).
func checkNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case nil, int64, float64, bool, string, []byte, time.Time:
		return nil
	case uint64:
		return fitUint(nv, v)
	case json.RawMessage:
		// ent binds JSON fields as json.RawMessage. Stored as go-sqlite3
		// stores it (database/sql makes it a []byte): a BLOB holding the
		// JSON text, which ent's sqlite3 dialect reads back as []byte and
		// SQLite's JSON functions (ent's sqljson predicates) read as JSON.
		nv.Value = []byte(v)
		return nil
	case driver.Valuer:
		return driver.ErrSkip
	}
	rv := reflect.ValueOf(nv.Value)
	switch k := rv.Kind(); {
	case k >= reflect.Uint && k <= reflect.Uintptr:
		return fitUint(nv, rv.Uint())
	case k == reflect.Map, k == reflect.Struct, k == reflect.Array,
		k == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8:
		return jsonArg(nv)
	}
	return driver.ErrSkip
}

// jsonArg stores maps, slices, arrays and structs as JSON, in a BLOB as
// ent's other builders store a JSON field (see json.RawMessage above).
// ent's upsert builders (OnConflict ... SetJSONField) bind a JSON field's
// Go value as it is, which database/sql would refuse.
func jsonArg(nv *driver.NamedValue) error {
	b, err := json.Marshal(nv.Value)
	if err != nil {
		return fmt.Errorf("libsql: argument %s: a %T is stored as JSON, and encoding it failed: %w", argName(nv), nv.Value, err)
	}
	nv.Value = b
	return nil
}

// argName names an argument in errors: by name if it has one, else by
// position.
func argName(nv *driver.NamedValue) string {
	if nv.Name != "" {
		return nv.Name
	}
	return fmt.Sprintf("#%d", nv.Ordinal)
}

// fitUint refuses unsigned values above MaxInt64: SQLite's INTEGER is
// signed 64-bit, and wrapping them around would store a different number.
func fitUint(nv *driver.NamedValue, v uint64) error {
	if v > math.MaxInt64 {
		return fmt.Errorf("libsql: unsigned value %d does not fit in a SQLite INTEGER (signed 64-bit, max %d)", v, int64(math.MaxInt64))
	}
	nv.Value = int64(v)
	return nil
}

// wireArgs converts checked driver values to Hrana values.
func wireArgs(args []driver.NamedValue) ([]any, []hrana.NamedArg) {
	var pos []any
	var named []hrana.NamedArg
	for _, a := range args {
		v := wireValue(a.Value)
		if a.Name != "" {
			named = append(named, hrana.NamedArg{Name: a.Name, Value: v})
			continue
		}
		if pos == nil {
			pos = make([]any, 0, len(args))
		}
		pos = append(pos, v)
	}
	return pos, named
}

func wireValue(v driver.Value) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case time.Time:
		return formatTime(x)
	}
	return v
}

// formatTime writes t in TimeFormat. An offset with seconds (historic
// local mean times, such as New York's -4:56:02 before 1883) does not fit
// the format's ±hh:mm; such a time is written in UTC so the instant stays
// exact.
func formatTime(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.Format(TimeFormat)
}

// columnValue converts a value read from a column to what database/sql
// and ent expect, going by the column's declared type as go-sqlite3 does:
// text and integers in DATE/DATETIME/TIMESTAMP columns become time.Time,
// integers in BOOLEAN columns become bool. Text in a JSON column becomes
// []byte, as the BLOBs ent's JSON fields are stored in come back: ent
// scans JSON into a type that takes only []byte, and JSON text written by
// another client (or by this driver before it stored BLOBs) would
// otherwise fail it.
func columnValue(v any, kind declKind) driver.Value {
	switch kind {
	case declJSON:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	case declTime:
		switch x := v.(type) {
		case string:
			if t, ok := parseTime(x); ok {
				return t
			}
		case int64:
			return unixTime(x)
		}
	case declBool:
		if x, ok := v.(int64); ok {
			return x > 0
		}
	}
	return v
}

// parseTime reads the formats go-sqlite3 reads. Text that is not a time is
// returned unchanged (go-sqlite3 would silently give the zero time).
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSuffix(s, "Z")
	for _, f := range timeFormats {
		if t, err := time.ParseInLocation(f, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// unixTime reads integer time columns as go-sqlite3 does: seconds, or
// milliseconds when too large to be seconds.
func unixTime(n int64) time.Time {
	if n > 1e12 || n < -1e12 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

type declKind uint8

const (
	declOther declKind = iota
	declTime
	declBool
	declJSON
)

func classifyDecltype(decl string) declKind {
	switch strings.ToLower(decl) {
	case "date", "datetime", "timestamp":
		return declTime
	case "boolean":
		return declBool
	case "json":
		return declJSON
	}
	return declOther
}
