package rebuild

import (
	"fmt"

	"github.com/entlibsql/entlibsql/internal/ddl"
)

// A rebuild of an AUTOINCREMENT table loses its counter: DROP TABLE
// deletes the table's sqlite_sequence row, and the new table's row holds
// only the largest id copied into it. Rows deleted from the end of the
// table had larger ids, which new rows then get again: ids that other
// tables, caches or URLs may still hold come back for other rows.

// SequenceStmts returns the statements that give temp, the new table of
// a rebuild of table, the AUTOINCREMENT counter of table where it is
// larger. They run after the copy and before DROP TABLE, and read the
// counter in the database, so they hold in a migration file too; they
// change nothing but sqlite_sequence (which must exist: temp has
// AUTOINCREMENT).
func SequenceStmts(table, temp string) []Stmt {
	q := ddl.QuoteString
	old := fmt.Sprintf("(SELECT max(seq) FROM sqlite_sequence WHERE name = %s COLLATE NOCASE)", q(table))
	comment := fmt.Sprintf("keep the AUTOINCREMENT counter of %q", table)
	return []Stmt{
		{SQL: fmt.Sprintf("UPDATE sqlite_sequence SET seq = %s WHERE name = %s COLLATE NOCASE AND seq < %s", old, q(temp), old), Comment: comment, From: -1},
		{SQL: fmt.Sprintf("INSERT INTO sqlite_sequence (name, seq) SELECT %s, seq FROM sqlite_sequence WHERE name = %s COLLATE NOCASE AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s COLLATE NOCASE) ORDER BY seq DESC LIMIT 1",
			q(temp), q(table), q(temp)), Comment: comment, From: -1},
	}
}

// KeepsSequence reports whether the new table of a rebuild, as create
// (its CREATE TABLE statement) defines it, has an AUTOINCREMENT counter
// to keep.
func KeepsSequence(create string) bool {
	t, ok := ddl.ParseCreateTable(create)
	return ok && autoIncrement(t)
}
