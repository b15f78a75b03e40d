package schema

import "testing"

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
