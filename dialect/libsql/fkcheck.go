package libsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// A migration runs with foreign keys off, so nothing stops it from
// leaving rows that break one; Commit checks, and fails on the rows that
// break a foreign key now and did not at the start (those the database
// already had are not the migration's doing). This file is the one place
// that diff is made.
//
// Each check reads every row of every table with a foreign key: on a
// million rows it costs far more than an ALTER COLUMN. Yet until a
// statement that can change which rows break a foreign key has run, the
// answer is known without reading: nothing new. So the start's
// violations are read only just before the first statement that can make
// new ones (a table rebuild's copy, say), and the end's only if such a
// statement ran, once.
//
// Atlas (in ent's Schema.Create) checks at the start and again before
// COMMIT, and fails on what the second check finds that the first did
// not. The migration answers its PRAGMA foreign_key_check with the
// violations that are new since the start: Atlas sees what it would have
// seen, and Commit reuses the answer instead of reading again.

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
	dirty   bool          // a statement that can add violations has run
	before  []fkViolation // the violations at the start, read when dirty was set
	checked bool          // fresh is up to date: no such statement ran since it was read
	fresh   []fkViolation // the violations new since the start, when checked
}

// wantsStart reports whether stmt is the first statement that can change
// the violations, so that the start's must be read before it runs.
func (f *fkChecks) wantsStart(stmt string) bool { return !f.dirty && changesForeignKeys(stmt) }

// ran notes that stmt runs (or is held back to run).
func (f *fkChecks) ran(stmt string) {
	if changesForeignKeys(stmt) {
		f.checked = false
	}
}

// readStart reads the start's violations.
func (f *fkChecks) readStart(ctx context.Context, eq entsql.Conn) error {
	vs, err := readViolations(ctx, eq)
	if err != nil {
		return err
	}
	f.before, f.dirty = vs, true
	return nil
}

// check returns the violations new since the start, reading them (after
// the statements m holds back) only if something could have made some
// since they were last read.
func (f *fkChecks) check(ctx context.Context, m *Migration) ([]fkViolation, error) {
	if !f.dirty || f.checked {
		return f.fresh, nil
	}
	if err := m.flush(ctx, false); err != nil {
		return nil, err
	}
	now, err := readViolations(ctx, m.eq)
	if err != nil {
		return nil, err
	}
	f.fresh, f.checked = minus(now, f.before), true
	return f.fresh, nil
}

// answer serves Atlas's PRAGMA foreign_key_check: the rows that break a
// foreign key now and did not at the start.
func (f *fkChecks) answer(ctx context.Context, m *Migration, v any) error {
	fresh, err := f.check(ctx, m)
	if err != nil {
		return err
	}
	q, args := violationsQuery(fresh)
	return m.eq.Query(ctx, q, args, v)
}

func readViolations(ctx context.Context, eq entsql.Conn) ([]fkViolation, error) {
	var rows entsql.Rows
	if err := eq.Query(ctx, "PRAGMA foreign_key_check", []any{}, &rows); err != nil {
		return nil, wrapError("migration: PRAGMA foreign_key_check", err)
	}
	defer rows.Close()
	var vs []fkViolation
	for rows.Next() {
		var v fkViolation
		if err := rows.Scan(&v.table, &v.rowid, &v.parent, &v.fkid); err != nil {
			return nil, wrapError("migration: reading PRAGMA foreign_key_check", err)
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// minus is now without before, as multisets: rows of WITHOUT ROWID tables
// all have a NULL rowid, so one violation can stand for several.
func minus(now, before []fkViolation) []fkViolation {
	seen := make(map[fkViolation]int, len(before))
	for _, v := range before {
		seen[v]++
	}
	var fresh []fkViolation
	for _, v := range now {
		if seen[v] > 0 {
			seen[v]--
			continue
		}
		fresh = append(fresh, v)
	}
	return fresh
}

// noViolationsQuery is violationsQuery's answer when there are none (the
// common case: Atlas asks at the start and before COMMIT). A connection of
// this driver answers it itself (noViolationsRows), without a request.
const noViolationsQuery = `SELECT NULL AS "table", NULL AS rowid, NULL AS parent, NULL AS fkid WHERE 0`

// noViolationsRows is noViolationsQuery's answer.
func noViolationsRows() driver.Rows {
	return newCachedRows(&hrana.StmtResult{
		Cols: []hrana.Col{{Name: "table"}, {Name: "rowid"}, {Name: "parent"}, {Name: "fkid"}},
		Rows: [][]hrana.Value{},
	})
}

// violationsQuery is a query whose rows are vs, in the columns of PRAGMA
// foreign_key_check.
func violationsQuery(vs []fkViolation) (string, []any) {
	if len(vs) > maxReported {
		vs = vs[:maxReported]
	}
	if len(vs) == 0 {
		return noViolationsQuery, []any{}
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

// ForeignKeyError is a migration that would have left rows breaking a
// foreign key, which they did not break before it: it was rolled back.
type ForeignKeyError struct {
	Violations []ForeignKeyViolation // at most 1000
}

// ForeignKeyViolation is a row that breaks a foreign key (a row of PRAGMA
// foreign_key_check).
type ForeignKeyViolation struct {
	Table  string
	RowID  sql.NullInt64 // NULL for a WITHOUT ROWID table
	Parent string        // the table the row refers to
	FKID   int64         // the foreign key's index in PRAGMA foreign_key_list
}

func newForeignKeyError(vs []fkViolation) *ForeignKeyError {
	if len(vs) > maxReported {
		vs = vs[:maxReported]
	}
	e := &ForeignKeyError{Violations: make([]ForeignKeyViolation, len(vs))}
	for i, v := range vs {
		e.Violations[i] = ForeignKeyViolation{Table: v.table, RowID: v.rowid, Parent: v.parent, FKID: v.fkid}
	}
	return e
}

func (e *ForeignKeyError) Error() string {
	const shown = 10
	var parts []string
	for i, v := range e.Violations {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Violations)-shown))
			break
		}
		row := "a row"
		if v.RowID.Valid {
			row = fmt.Sprintf("row %d", v.RowID.Int64)
		}
		parts = append(parts, fmt.Sprintf("%s %s references a missing %s row", v.Table, row, v.Parent))
	}
	return "libsql: the migration would break foreign keys (rolled back, nothing changed): " + strings.Join(parts, "; ")
}

// changesForeignKeys reports whether stmt can change which rows break a
// foreign key. Unknown statements can.
func changesForeignKeys(stmt string) bool {
	kw, rest := nextKeyword(stmt)
	switch kw {
	case "SELECT":
		return false
	case "CREATE": // a new table is empty; an index, a view or a trigger holds no rows
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
		// Tables no foreign key involves: ent's sequences, the statistics
		// and the revisions of versioned migrations.
		return !touchesOnly(stmt, "sqlite_sequence") && !touchesOnly(stmt, "sqlite_stat1") && !touchesOnly(stmt, "atlas_schema_revisions")
	case "ALTER":
		// RENAME COLUMN carries the foreign keys along; ADD and ALTER COLUMN
		// matter only with a REFERENCES clause; RENAME TO can point
		// children at another table; DROP COLUMN of a referenced column
		// cannot succeed.
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
