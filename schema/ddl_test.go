package schema

import (
	"reflect"
	"testing"
)

func TestTableDefs(t *testing.T) {
	tests := []struct {
		in    string
		table string
		defs  []string
	}{
		{"CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL DEFAULT ('a, (b)'), CONSTRAINT `fk` FOREIGN KEY (`x`) REFERENCES `p` (`id`) ON DELETE CASCADE)",
			"new_users", []string{"`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT", "`name` text NOT NULL DEFAULT ('a, (b)')", "CONSTRAINT `fk` FOREIGN KEY (`x`) REFERENCES `p` (`id`) ON DELETE CASCADE"}},
		{`create table "we""ird" (a int, "b,c" text, [d] real) STRICT`,
			`we"ird`, []string{"a int", `"b,c" text`, "[d] real"}},
		{"CREATE TABLE t (a text DEFAULT 'it''s )')", "t", []string{"a text DEFAULT 'it''s )'"}},
	}
	for _, tt := range tests {
		table, defs, ok := tableDefs(tt.in)
		if !ok || table != tt.table || !reflect.DeepEqual(defs, tt.defs) {
			t.Errorf("tableDefs(%s) = %q, %q, %v", tt.in, table, defs, ok)
		}
	}
	for _, bad := range []string{"CREATE INDEX i ON t (a)", "CREATE TABLE t (a text", "CREATE TABLE (a)", "CREATE TABLE t AS SELECT 1", "CREATE TABLE t (a text DEFAULT 'x)"} {
		if _, _, ok := tableDefs(bad); ok {
			t.Errorf("tableDefs(%s) accepted", bad)
		}
	}
}

func TestColumnDef(t *testing.T) {
	defs := []string{"`id` integer", "`check` text NULL", "CHECK (id > 0)", "CONSTRAINT c UNIQUE (id)"}
	for col, want := range map[string]string{"id": "`id` integer", "check": "`check` text NULL", "CONSTRAINT": "", "CHECK": ""} {
		got, ok := columnDef(defs, col)
		if got != want || ok != (want != "") {
			t.Errorf("columnDef(%q) = %q, %v", col, got, ok)
		}
	}
}

func TestAffinity(t *testing.T) {
	for decl, want := range map[string]string{
		"integer": "INTEGER", "bigint": "INTEGER", "INT8": "INTEGER",
		"text": "TEXT", "varchar(255)": "TEXT", "CLOB": "TEXT",
		"blob": "BLOB", "": "BLOB",
		"real": "REAL", "double": "REAL", "float": "REAL",
		"bool": "NUMERIC", "datetime": "NUMERIC", "json": "NUMERIC", "uuid": "NUMERIC", "decimal(10,2)": "NUMERIC",
	} {
		if got := affinity(decl); got != want {
			t.Errorf("affinity(%q) = %s, want %s", decl, got, want)
		}
	}
}

func FuzzTableDefs(f *testing.F) {
	f.Add("CREATE TABLE `t` (`a` text NOT NULL DEFAULT ('x'), CONSTRAINT c CHECK (a <> ''))")
	f.Add(`CREATE TABLE "a""b" ([c] int, 'd' real)`)
	f.Fuzz(func(t *testing.T, s string) {
		table, defs, ok := tableDefs(s)
		if !ok {
			return
		}
		for _, d := range defs {
			if name, _, ok := ident(d); ok {
				columnDef(defs, name)
			}
		}
		_ = table
	})
}

func TestWrapped(t *testing.T) {
	for x, want := range map[string]bool{
		"(CURRENT_TIMESTAMP)": true, "CURRENT_TIMESTAMP": false, "(a) + (b)": false,
		"((a) + (b))": true, "(')')": true, "(lower(hex(randomblob(4))))": true, "(": false,
	} {
		if got := wrapped(x); got != want {
			t.Errorf("wrapped(%q) = %v", x, got)
		}
	}
}
