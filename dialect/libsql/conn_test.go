package libsql

import "testing"

func TestKeepsStream(t *testing.T) {
	tests := map[string]bool{
		"SELECT 1":                            false,
		"INSERT INTO t VALUES (1)":            false,
		"begin":                               true,
		"  BEGIN IMMEDIATE":                   true,
		"-- note\n/* c */ savepoint a":        true,
		"PRAGMA foreign_keys = off":           true,
		"pragma foreign_keys=OFF;":            true,
		"PRAGMA foreign_keys":                 false,
		"PRAGMA table_info(users)":            true, // over-cautious: costs a close later, never a lost state
		"ATTACH 'x' AS y":                     true,
		"CREATE TEMP TABLE x(a)":              true,
		"create temporary view v as select 1": true,
		"CREATE TABLE temp_x(a)":              false,
		"COMMIT":                              false,
		"-- only a comment":                   false,
		"/* unterminated":                     false,
		"":                                    false,
	}
	for sql, want := range tests {
		if got := keepsStream(sql); got != want {
			t.Errorf("keepsStream(%q) = %v, want %v", sql, got, want)
		}
	}
}
