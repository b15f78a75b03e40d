package rebuild

import (
	"database/sql"
	"reflect"
	"testing"
)

func TestLosses(t *testing.T) {
	before := &Catalog{
		Objects: []Object{
			{"table", "t", "t", "CREATE TABLE t (id integer PRIMARY KEY, a text COLLATE NOCASE, g text AS (upper(a)), x int, u int UNIQUE) STRICT, WITHOUT ROWID"},
			{"index", "sqlite_autoindex_t_1", "t", ""},
			{"index", "t_a", "t", "CREATE INDEX t_a ON t (lower(a))"},
			{"trigger", "t_log", "t", "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN SELECT 1; END"},
		},
		Stats: []Stat{{Table: "t", Index: sql.NullString{String: "t_a", Valid: true}, Stat: "3 1"}},
	}
	after := &Catalog{Objects: []Object{{"table", "t", "t", "CREATE TABLE t (id integer PRIMARY KEY, a text, g text, u int)"}}}
	want := []string{`COLLATE NOCASE of column "a"`, `the generated expression of column "g"`, `column "x" with its values`,
		"table option STRICT", "table option WITHOUT ROWID", `index "t_a"`, `trigger "t_log"`,
		"1 UNIQUE or PRIMARY KEY constraint index(es)", "1 of its 1 sqlite_stat1 rows"}
	if got := Losses(before, after, "t"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Losses:\n got %q\nwant %q", got, want)
	}
	if got := Losses(before, before, "t"); len(got) != 0 {
		t.Fatalf("no change, losses %q", got)
	}
	if got := Losses(before, &Catalog{}, "t"); len(got) != 0 {
		t.Fatalf("a table dropped on purpose has no losses: %q", got)
	}
}

func TestDependents(t *testing.T) {
	c := &Catalog{Objects: []Object{
		{"table", "t", "t", "CREATE TABLE t (a)"},
		{"table", "o", "o", "CREATE TABLE o (b)"},
		{"view", "v1", "v1", "CREATE VIEW v1 AS SELECT a FROM \"T\""},
		{"view", "v2", "v2", "CREATE VIEW v2 AS SELECT * FROM v1"},
		{"view", "v3", "v3", "CREATE VIEW v3 AS SELECT 't' FROM o"},
		{"trigger", "on_v1", "v1", "CREATE TRIGGER on_v1 INSTEAD OF INSERT ON v1 BEGIN SELECT 1; END"},
		{"trigger", "on_o", "o", "CREATE TRIGGER on_o AFTER INSERT ON o BEGIN DELETE FROM t; END"},
		{"trigger", "on_t", "t", "CREATE TRIGGER on_t AFTER INSERT ON t BEGIN SELECT 1; END"},
	}}
	var names []string
	for _, o := range c.Dependents("t") {
		names = append(names, o.Name)
	}
	if want := []string{"v1", "v2", "on_v1", "on_o"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Dependents = %v, want %v", names, want)
	}
}
