package schema

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
)

// SQLite cannot change a column in place, so Atlas plans every column
// change as a rebuild: CREATE TABLE new_t, copy every row, DROP TABLE t,
// rename, re-create the indexes. libSQL can: ALTER TABLE t ALTER COLUMN c
// TO <definition> rewrites the column's declaration in constant time,
// leaving rows, indexes and foreign keys alone. It does not check the
// rows against the new definition, so this file uses it only where it
// means what the rebuild means, and checks the rows first.

// Counter runs a SELECT count(*) query and returns the count. The plan
// rewriting needs nothing else from the database.
type Counter func(ctx context.Context, query string) (int64, error)

// AlterColumns rewrites plan, an Atlas SQLite plan, for libSQL: each table
// rebuild whose changes are all column changes ALTER COLUMN can make is
// replaced by those ALTER COLUMN statements. A change qualifies when it
// touches only NOT NULL, the DEFAULT, or the declared type within the same
// type affinity (the rebuild would convert stored values across
// affinities), of a column outside the primary key.
//
// Before a column becomes NOT NULL the NULLs in it are counted (with
// count): where the column has a default they are set to it first, as the
// rebuild's copy would do; where it has none, any NULL is an error naming
// the table, the column and the count, and nothing is changed. Rows that
// would fail a new CHECK are counted the same way. These checks also
// guard the rebuilds left as they are.
//
// The returned plan is a new one; plan is not modified.
func AlterColumns(ctx context.Context, plan *migrate.Plan, count Counter) (*migrate.Plan, error) {
	out := *plan
	out.Changes = nil
	changes := plan.Changes
	for i := 0; i < len(changes); i++ {
		m, end := rebuildAt(changes, i)
		if m == nil {
			out.Changes = append(out.Changes, changes[i])
			continue
		}
		if err := checkTightening(ctx, m, count); err != nil {
			return nil, err
		}
		alters, ok := alterStmts(m, changes[i:end+1])
		if !ok {
			out.Changes = append(out.Changes, changes[i:end+1]...)
		} else {
			out.Changes = append(out.Changes, alters...)
		}
		i = end
	}
	return &out, nil
}

// rebuildAt reports whether changes[i] starts a table rebuild, and returns
// its ModifyTable and the index of its last change. A rebuild is the
// contiguous run Atlas plans: CREATE TABLE new_t (with its sqlite_sequence
// row, if any), the copy INSERT, DROP TABLE t, the rename of new_t, then
// the indexes of t re-created.
func rebuildAt(changes []*migrate.Change, i int) (*atlas.ModifyTable, int) {
	add, ok := changes[i].Source.(*atlas.AddTable)
	if !ok || !strings.HasPrefix(add.T.Name, "new_") {
		return nil, 0
	}
	name := strings.TrimPrefix(add.T.Name, "new_")
	var m *atlas.ModifyTable
	for j := i + 1; j < len(changes); j++ {
		c := changes[j]
		switch src := c.Source.(type) {
		case *atlas.AddTable: // the sqlite_sequence row of new_t
			if src != add {
				return nil, 0
			}
			continue
		case nil: // the copy
			if !strings.HasPrefix(c.Cmd, "INSERT INTO "+quote(add.T.Name)) {
				return nil, 0
			}
			continue
		case *atlas.ModifyTable:
			if src.T.Name != name || (m != nil && src != m) {
				return nil, 0
			}
			m = src
			if !strings.Contains(c.Cmd, "RENAME TO") {
				continue // DROP TABLE t
			}
		default:
			return nil, 0
		}
		end := j
		for end+1 < len(changes) {
			idx, ok := changes[end+1].Source.(*atlas.AddIndex)
			if !ok || idx.I == nil || !strings.Contains(changes[end+1].Cmd, " ON "+quote(name)) {
				break
			}
			end++
		}
		return m, end
	}
	return nil, 0
}

// alterStmts turns a rebuild into ALTER COLUMN statements, if every
// change of m qualifies.
func alterStmts(m *atlas.ModifyTable, block []*migrate.Change) ([]*migrate.Change, bool) {
	_, defs, ok := tableDefs(block[0].Cmd)
	if !ok {
		return nil, false
	}
	var fills, alters []*migrate.Change
	for _, c := range m.Changes {
		mc, ok := c.(*atlas.ModifyColumn)
		if !ok || !alterable(m.T, mc) {
			return nil, false
		}
		def, ok := columnDef(defs, mc.To.Name)
		if !ok {
			return nil, false
		}
		if tightensNull(mc) && mc.To.Default != nil {
			fill, ok := fillNulls(m.T.Name, mc.To.Name, block)
			if !ok {
				return nil, false
			}
			fills = append(fills, fill)
		}
		alters = append(alters, &migrate.Change{
			Cmd:     fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TO %s", quote(m.T.Name), quote(mc.To.Name), def),
			Source:  m,
			Comment: fmt.Sprintf("alter column %q of table %q in place", mc.To.Name, m.T.Name),
		})
	}
	return append(fills, alters...), len(alters) > 0
}

// alterable reports whether ALTER COLUMN makes change mc with the meaning
// of the rebuild.
func alterable(t *atlas.Table, mc *atlas.ModifyColumn) bool {
	const allowed = atlas.ChangeNull | atlas.ChangeDefault | atlas.ChangeType
	if mc.From == nil || mc.To == nil || mc.From.Name != mc.To.Name || mc.Change&^allowed != 0 {
		return false
	}
	if t.PrimaryKey != nil {
		for _, p := range t.PrimaryKey.Parts {
			if p.C != nil && p.C.Name == mc.To.Name {
				return false
			}
		}
	}
	if hasAttr[*sqlite.AutoIncrement](mc.To.Attrs) || hasAttr[*atlas.GeneratedExpr](mc.To.Attrs) || hasAttr[*atlas.GeneratedExpr](mc.From.Attrs) {
		return false
	}
	if mc.Change.Is(atlas.ChangeType) {
		from, err1 := declType(mc.From)
		to, err2 := declType(mc.To)
		if err1 != nil || err2 != nil || affinity(from) != affinity(to) {
			return false
		}
	}
	return true
}

func hasAttr[T any](attrs []atlas.Attr) bool {
	for _, a := range attrs {
		if _, ok := a.(T); ok {
			return true
		}
	}
	return false
}

func declType(c *atlas.Column) (string, error) {
	if c.Type == nil {
		return "", fmt.Errorf("column %q has no type", c.Name)
	}
	if c.Type.Raw != "" {
		return c.Type.Raw, nil
	}
	return sqlite.FormatType(c.Type.Type)
}

func tightensNull(mc *atlas.ModifyColumn) bool {
	return mc.Change.Is(atlas.ChangeNull) && mc.From.Type != nil && mc.From.Type.Null && mc.To.Type != nil && !mc.To.Type.Null
}

// fillNulls sets a column's NULLs to its default, taking the expression
// from the rebuild's copy (IFNULL(`c`, x) AS `c`), so both paths agree.
func fillNulls(table, column string, block []*migrate.Change) (*migrate.Change, bool) {
	re := regexp.MustCompile(`IFNULL\(` + regexp.QuoteMeta(quote(column)) + `, (.+?)\) AS ` + regexp.QuoteMeta(quote(column)))
	for _, c := range block {
		if m := re.FindStringSubmatch(c.Cmd); m != nil && strings.HasPrefix(c.Cmd, "INSERT INTO") {
			return &migrate.Change{
				Cmd:     fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL", quote(table), quote(column), m[1], quote(column)),
				Comment: fmt.Sprintf("set the NULLs of %q.%q to its default", table, column),
			}, true
		}
	}
	return nil, false
}

// checkTightening fails when a change would add a constraint that rows
// already break: a column without a default made NOT NULL over NULLs, or
// a CHECK the rows do not pass. Run before anything, it keeps such a
// migration from changing anything, and names what breaks it.
func checkTightening(ctx context.Context, m *atlas.ModifyTable, count Counter) error {
	for _, c := range m.Changes {
		var where, column, constraint string
		switch c := c.(type) {
		case *atlas.ModifyColumn:
			if !tightensNull(c) || c.To.Default != nil {
				continue
			}
			where, column, constraint = quote(c.To.Name)+" IS NULL", c.To.Name, "NOT NULL"
		case *atlas.AddCheck:
			if !checksCurrentRows(m) {
				continue
			}
			where, constraint = "NOT ("+c.C.Expr+")", checkName(c.C)
		case *atlas.ModifyCheck:
			if !checksCurrentRows(m) {
				continue
			}
			where, constraint = "NOT ("+c.To.Expr+")", checkName(c.To)
		default:
			continue
		}
		n, err := count(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", quote(m.T.Name), where))
		if err != nil {
			return fmt.Errorf("schema: counting the rows of %q that break %s: %w", m.T.Name, constraint, err)
		}
		if n > 0 {
			return &TightenError{Table: m.T.Name, Column: column, Rows: n, Constraint: constraint}
		}
	}
	return nil
}

// checksCurrentRows reports whether a CHECK of m can be judged on the
// table's current rows: not when m also adds, renames, drops or changes
// columns, which the rebuild's copy fills or renames before the check
// applies. The copy enforces the CHECK in the transaction either way.
func checksCurrentRows(m *atlas.ModifyTable) bool {
	for _, c := range m.Changes {
		switch c.(type) {
		case *atlas.AddColumn, *atlas.RenameColumn, *atlas.DropColumn, *atlas.ModifyColumn:
			return false
		}
	}
	return true
}

func checkName(c *atlas.Check) string {
	if c.Name != "" {
		return fmt.Sprintf("CHECK %s (%s)", c.Name, c.Expr)
	}
	return fmt.Sprintf("CHECK (%s)", c.Expr)
}

// TightenError reports rows that break a constraint a migration would add.
// The migration changes nothing.
type TightenError struct {
	Table      string
	Column     string // empty for a table CHECK
	Constraint string // NOT NULL, or CHECK [name] (expr)
	Rows       int64  // rows that break it
}

func (e *TightenError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("schema: cannot add %s to table %q: %d rows break it (fix or delete them first)",
			e.Constraint, e.Table, e.Rows)
	}
	return fmt.Sprintf("schema: cannot make column %q.%q %s: %d rows break it (fix or delete them first, or give the column a default)",
		e.Table, e.Column, e.Constraint, e.Rows)
}
