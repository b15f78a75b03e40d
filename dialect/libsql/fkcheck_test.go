package libsql

import (
	"database/sql"
	"reflect"
	"strings"
	"testing"
)

func TestChangesForeignKeys(t *testing.T) {
	tests := map[string]bool{
		"CREATE TABLE `new_t` (`id` integer, CONSTRAINT f FOREIGN KEY (`p`) REFERENCES `p` (`id`))": false,
		"CREATE UNIQUE INDEX `i` ON `t` (`a`) WHERE a > 0":                                          false,
		"DROP INDEX `i`":            true,
		"DROP VIEW `v`":             false,
		"PRAGMA foreign_keys = off": false,
		"INSERT INTO sqlite_sequence (name, seq) VALUES ('t', 4294967296)": false,
		"UPDATE sqlite_sequence SET seq = 0 WHERE name = 't'":              false,
		"ALTER TABLE `t` ALTER COLUMN `note` TO `note` text NULL":          false,
		"ALTER TABLE `t` RENAME COLUMN `a` TO `b`":                         false,
		"ALTER TABLE `t` ADD COLUMN `x` text NULL":                         false,
		"SELECT 1": false,
		"INSERT INTO `new_t` (`id`) SELECT `id` FROM `t`": true,
		"DROP TABLE `t`":                    true,
		"ALTER TABLE `new_t` RENAME TO `t`": true,
		"ALTER TABLE `t` ADD COLUMN `p` integer REFERENCES p(id) DEFAULT 1": true,
		"UPDATE `t` SET `a` = 1 WHERE `a` IS NULL":                          true,
		"DELETE FROM `t`":                                    true,
		"PRAGMA defer_foreign_keys = on":                     true,
		"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x": true,
		"VACUUM": true,
	}
	for stmt, want := range tests {
		if got := changesForeignKeys(stmt); got != want {
			t.Errorf("changesForeignKeys(%q) = %v, want %v", stmt, got, want)
		}
	}
}

func TestMinusAndViolationsQuery(t *testing.T) {
	a := fkViolation{table: "c", rowid: sql.NullInt64{Int64: 1, Valid: true}, parent: "p", fkid: 0}
	b := fkViolation{table: "c", rowid: sql.NullInt64{Int64: 2, Valid: true}, parent: "p", fkid: 0}
	w := fkViolation{table: "w", parent: "p", fkid: 1} // WITHOUT ROWID: NULL rowid
	if got := minus([]fkViolation{a, b, w}, []fkViolation{a}); !reflect.DeepEqual(got, []fkViolation{b, w}) {
		t.Fatalf("minus: %v", got)
	}
	q, args := violationsQuery([]fkViolation{b, w})
	if !strings.Contains(q, "VALUES (?, ?, ?, ?), (?, ?, ?, ?)") || !reflect.DeepEqual(args, []any{"c", int64(2), "p", int64(0), "w", nil, "p", int64(1)}) {
		t.Fatalf("query %s %v", q, args)
	}
	if q, args := violationsQuery(nil); !strings.HasSuffix(q, "WHERE 0") || len(args) != 0 {
		t.Fatalf("empty: %s %v", q, args)
	}
	many := make([]fkViolation, maxReported+5)
	if _, args := violationsQuery(many); len(args) != 4*maxReported {
		t.Fatalf("%d args", len(args))
	}
}
