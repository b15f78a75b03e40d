package libsql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	entsql "entgo.io/ent/dialect/sql"
)

// Atlas checks foreign keys when a migration starts and again before
// COMMIT, and fails on the violations the second check finds that the
// first did not. Each check reads every row of every table with a foreign
// key: on a million rows it costs far more than an ALTER COLUMN. Yet until
// a statement that can change which rows break a foreign key has run, the
// answer is known without reading: nothing new. So the migration
// transaction answers Atlas with the violations that are new since the
// start, and reads the start's only just before the first statement that
// can make new ones (a table rebuild's copy, say), and the end's only if
// such a statement ran. Atlas sees what it would have seen.

// fkViolation is one row of PRAGMA foreign_key_check.
type fkViolation struct {
	table  string
	rowid  sql.NullInt64 // NULL for WITHOUT ROWID tables
	parent string
	fkid   int64
}

// maxReported bounds the violations handed back: the migration fails on
// the first one anyway, and each costs four arguments.
const maxReported = 1000

// fkChecks tracks one migration transaction's foreign-key state.
type fkChecks struct {
	dirty  bool          // a statement that can add violations has run
	before []fkViolation // the violations at the start, read when dirty was set
}

// wantsStart reports whether stmt is the first statement that can change
// the violations, so that the start's must be read before it runs.
func (f *fkChecks) wantsStart(stmt string) bool { return !f.dirty && changesForeignKeys(stmt) }

// readStart reads the start's violations.
func (f *fkChecks) readStart(ctx context.Context, eq entsql.Conn) error {
	vs, err := readViolations(ctx, eq)
	if err != nil {
		return err
	}
	f.before, f.dirty = vs, true
	return nil
}

// answer serves a PRAGMA foreign_key_check of the migration: the rows
// that break a foreign key now and did not at the start.
func (f *fkChecks) answer(ctx context.Context, eq entsql.Conn, v any) error {
	var fresh []fkViolation
	if f.dirty {
		now, err := readViolations(ctx, eq)
		if err != nil {
			return err
		}
		fresh = minus(now, f.before)
	}
	q, args := violationsQuery(fresh)
	return eq.Query(ctx, q, args, v)
}

func readViolations(ctx context.Context, eq entsql.Conn) ([]fkViolation, error) {
	var rows entsql.Rows
	if err := eq.Query(ctx, "PRAGMA foreign_key_check", []any{}, &rows); err != nil {
		return nil, fmt.Errorf("libsql: migration: PRAGMA foreign_key_check: %w", err)
	}
	defer rows.Close()
	var vs []fkViolation
	for rows.Next() {
		var v fkViolation
		if err := rows.Scan(&v.table, &v.rowid, &v.parent, &v.fkid); err != nil {
			return nil, fmt.Errorf("libsql: migration: reading PRAGMA foreign_key_check: %w", err)
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

func minus(now, before []fkViolation) []fkViolation {
	seen := make(map[fkViolation]bool, len(before))
	for _, v := range before {
		seen[v] = true
	}
	var fresh []fkViolation
	for _, v := range now {
		if !seen[v] {
			fresh = append(fresh, v)
		}
	}
	return fresh
}

// violationsQuery is a query whose rows are vs, in the columns of PRAGMA
// foreign_key_check.
func violationsQuery(vs []fkViolation) (string, []any) {
	if len(vs) > maxReported {
		vs = vs[:maxReported]
	}
	if len(vs) == 0 {
		return `SELECT NULL AS "table", NULL AS rowid, NULL AS parent, NULL AS fkid WHERE 0`, []any{}
	}
	var b strings.Builder
	args := make([]any, 0, 4*len(vs))
	b.WriteString(`SELECT column1 AS "table", column2 AS rowid, column3 AS parent, column4 AS fkid FROM (VALUES `)
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		var rowid any
		if v.rowid.Valid {
			rowid = v.rowid.Int64
		}
		args = append(args, v.table, rowid, v.parent, v.fkid)
	}
	b.WriteString(")")
	return b.String(), args
}

// changesForeignKeys reports whether stmt can change which rows break a
// foreign key. Unknown statements can.
func changesForeignKeys(stmt string) bool {
	kw, rest := nextKeyword(stmt)
	switch kw {
	case "SELECT":
		return false
	case "CREATE": // a new table is empty; an index or view holds no rows
		return false
	case "DROP":
		// DROP TABLE removes parent rows; DROP INDEX can remove the unique
		// index a foreign key needs (a "foreign key mismatch").
		kw2, _ := nextKeyword(rest)
		return kw2 == "TABLE" || kw2 == "INDEX"
	case "PRAGMA":
		_, ok := fkPragma(stmt)
		return !ok
	case "INSERT", "UPDATE":
		// Tables no foreign key involves: ent's sequences and the
		// revisions of versioned migrations.
		return !touchesOnly(stmt, "sqlite_sequence") && !touchesOnly(stmt, "atlas_schema_revisions")
	case "ALTER":
		// RENAME COLUMN carries the foreign keys along; ADD and ALTER COLUMN
		// matter only with a REFERENCES clause; RENAME TO can point
		// children at another table.
		up := strings.ToUpper(rest)
		switch {
		case strings.Contains(up, " RENAME TO "):
			return true
		case strings.Contains(up, " RENAME COLUMN "), strings.Contains(up, " RENAME "):
			return false
		}
		return strings.Contains(up, "REFERENCES")
	}
	return true
}

// touchesOnly reports whether an INSERT or UPDATE writes table.
func touchesOnly(stmt, table string) bool {
	fields := strings.Fields(strings.ToLower(stmt))
	for i, f := range fields {
		if f == "into" || f == "update" {
			if i+1 < len(fields) {
				name := strings.Trim(fields[i+1], "`\"[]")
				if j := strings.IndexByte(name, '('); j >= 0 {
					name = name[:j]
				}
				return name == table
			}
		}
	}
	return false
}
