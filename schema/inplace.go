package schema

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"github.com/entlibsql/entlibsql/internal/ddl"
	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// SQLite changes a table in place only to add, rename or drop a column,
// so Atlas plans every other change as a rebuild: CREATE TABLE new_t,
// copy every row, DROP TABLE t, rename, re-create the indexes. And ent
// writes every field default as an expression, which Atlas never adds in
// place: adding a field with a default rebuilds the table.
//
// This file replaces a rebuild by statements that change the table where
// it is, whenever every change of the rebuild has one that means the
// same:
//
//   - a new column whose default is a constant (or that has none):
//     ALTER TABLE t ADD COLUMN, nullable or NOT NULL (over rows, a NOT NULL
//     column needs a default, as the rebuild's copy does);
//   - a new column whose default SQLite cannot add (CURRENT_TIMESTAMP, a
//     function): ADD COLUMN without it, UPDATE t SET c = default (what the
//     rebuild's copy computes row by row, with t's triggers held off), then
//     libSQL's ALTER COLUMN to declare the default;
//   - a dropped column (ent's WithDropColumn): ALTER TABLE t DROP COLUMN,
//     after the indexes that use it;
//   - a renamed column: ALTER TABLE t RENAME COLUMN;
//   - NOT NULL, the DEFAULT or the type within one affinity of a column:
//     libSQL's ALTER TABLE t ALTER COLUMN c TO <definition>, which rewrites
//     the declaration in constant time;
//   - indexes added, dropped or changed: CREATE and DROP INDEX.
//
// ALTER COLUMN does not check the rows against the new definition, so
// before a column becomes NOT NULL its NULLs are counted (and set to its
// default, if it has one, as the rebuild's copy would), and rows that
// would fail a new CHECK are counted the same way.
//
// What else a rebuild does (foreign keys, CHECK constraints, a type
// across affinities, the primary key) stays a rebuild; keep.go makes it
// keep what the table holds beyond the ent schema.

// Counter runs a SELECT count(*) query and returns the count. The plan
// rewriting needs nothing else from the database.
type Counter func(ctx context.Context, query string) (int64, error)

// AlterColumns rewrites plan, an Atlas SQLite plan, for libSQL: each table
// rebuild whose changes all have an in-place form is replaced by it. A
// plan alone does not say what the tables hold, so the forms that need
// it stay rebuilds here: a default SQLite cannot add, a changed default
// (both need the table's triggers and definition), a dropped column. Rows that would break a NOT NULL
// or a CHECK the plan adds are counted first with count: any is an error
// naming the table, the column and the count, and nothing is changed.
//
// The returned plan is a new one; plan is not modified. WithLibSQL does
// this and more (see keep.go); AlterColumns is for plans run some other
// way.
func AlterColumns(ctx context.Context, plan *migrate.Plan, count Counter) (*migrate.Plan, error) {
	return (&planner{count: count, libsql: true}).inPlace(ctx, plan)
}

// planner rewrites Atlas plans.
type planner struct {
	count   Counter // nil: no row checks (a migration file)
	libsql  bool    // libSQL's ALTER COLUMN may be used
	catalog func(context.Context) (*rebuild.Catalog, error)
	cat     *rebuild.Catalog // read once, when first needed
}

func (p *planner) readCatalog(ctx context.Context) (*rebuild.Catalog, error) {
	if p.cat == nil && p.catalog != nil {
		cat, err := p.catalog(ctx)
		if err != nil {
			return nil, err
		}
		p.cat = cat
	}
	return p.cat, nil
}

// current is the catalog and table's definition in it; nil without a
// catalog, or for a table it cannot read.
func (p *planner) current(ctx context.Context, table string) (*rebuild.Catalog, *ddl.Table, error) {
	if p.catalog == nil {
		return nil, nil, nil
	}
	cat, err := p.readCatalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	cur, ok := cat.Table(table)
	if !ok {
		return cat, nil, nil
	}
	return cat, cur, nil
}

// inPlace replaces the rebuilds of plan that can be done in place.
func (p *planner) inPlace(ctx context.Context, plan *migrate.Plan) (*migrate.Plan, error) {
	out := *plan
	out.Changes = nil
	changes := plan.Changes
	for i := 0; i < len(changes); i++ {
		m, end := rebuildAt(changes, i)
		if m == nil {
			if add, ok := changes[i].Source.(*atlas.AddColumn); ok {
				// Atlas's own ADD COLUMN, of a column without a default.
				if err := p.checkNewNotNull(ctx, alteredTable(changes[i].Cmd), add.C); err != nil {
					return nil, err
				}
			}
			out.Changes = append(out.Changes, changes[i])
			continue
		}
		if err := p.checkTightening(ctx, m); err != nil {
			return nil, err
		}
		stmts, ok, err := p.inPlaceStmts(ctx, m, changes[i:end+1])
		if err != nil {
			return nil, err
		}
		if ok {
			out.Changes = append(out.Changes, stmts...)
		} else {
			out.Changes = append(out.Changes, changes[i:end+1]...)
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
			if !strings.HasPrefix(c.Cmd, "INSERT INTO "+ddl.Quote(add.T.Name)) {
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
			if !ok || idx.I == nil || !strings.Contains(changes[end+1].Cmd, " ON "+ddl.Quote(name)) {
				break
			}
			end++
		}
		return m, end
	}
	return nil, 0
}

// inPlaceStmts turns a rebuild into statements that change the table in
// place, if every change of m has such a form.
func (p *planner) inPlaceStmts(ctx context.Context, m *atlas.ModifyTable, block []*migrate.Change) ([]*migrate.Change, bool, error) {
	nt, ok := ddl.ParseCreateTable(block[0].Cmd)
	if !ok {
		return nil, false, nil
	}
	table := ddl.Quote(m.T.Name)
	stmt := func(cmd, comment string, args ...any) *migrate.Change {
		return &migrate.Change{Cmd: cmd, Source: m, Comment: fmt.Sprintf(comment, args...)}
	}
	var (
		dropIdx, renames, adds, fills, alters, dropCols, createIdx []*migrate.Change
		updates                                                    []*migrate.Change // defaults SQLite cannot add: filled row by row
	)
	if ok, err := p.strictAccepts(ctx, m, nt); err != nil || !ok {
		return nil, false, err
	}
	dropped := map[string]bool{} // indexes the changes drop themselves
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *atlas.DropIndex:
			dropped[ddl.FoldName(c.I.Name)] = true
		case *atlas.ModifyIndex:
			dropped[ddl.FoldName(c.From.Name)] = true
		}
	}
	created := func(name string) (*migrate.Change, bool) {
		for _, c := range block {
			if n, _, ok := ddl.CreateIndex(c.Cmd); ok && n == name {
				return c, true
			}
		}
		return nil, false
	}
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *atlas.AddIndex:
			ci, ok := created(c.I.Name)
			if !ok {
				return nil, false, nil
			}
			createIdx = append(createIdx, ci)
		case *atlas.DropIndex:
			dropIdx = append(dropIdx, stmt("DROP INDEX "+ddl.Quote(c.I.Name), "drop index %q of table %q", c.I.Name, m.T.Name))
		case *atlas.ModifyIndex:
			ci, ok := created(c.To.Name)
			if !ok {
				return nil, false, nil
			}
			dropIdx = append(dropIdx, stmt("DROP INDEX "+ddl.Quote(c.From.Name), "drop index %q of table %q to make it again", c.From.Name, m.T.Name))
			createIdx = append(createIdx, ci)
		case *atlas.RenameColumn:
			renames = append(renames, stmt(fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", table, ddl.Quote(c.From.Name), ddl.Quote(c.To.Name)),
				"rename column %q of table %q to %q", c.From.Name, m.T.Name, c.To.Name))
		case *atlas.ModifyColumn:
			if !p.libsql || !alterable(m.T, c) {
				return nil, false, nil
			}
			col := nt.Column(c.To.Name)
			if col == nil {
				return nil, false, nil
			}
			if tightensNull(c) && c.To.Default != nil {
				fill, ok := fillNulls(m.T.Name, c.To.Name, block)
				if !ok {
					return nil, false, nil
				}
				fills = append(fills, fill)
			}
			if c.Change.Is(atlas.ChangeDefault) {
				keep, ok, err := p.keepDefaultValues(ctx, m, c.To.Name)
				if err != nil || !ok {
					return nil, false, err
				}
				updates = append(updates, keep)
			}
			alters = append(alters, stmt(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TO %s", table, ddl.Quote(c.To.Name), col.Def),
				"alter column %q of table %q in place", c.To.Name, m.T.Name))
		case *atlas.AddColumn:
			col := nt.Column(c.C.Name)
			if col == nil || col.PrimaryKey || col.Unique || col.Generated {
				return nil, false, nil
			}
			expr, without, hasDefault := ddl.Default(col.Def)
			if !hasDefault || ddl.Constant(expr) {
				adds = append(adds, stmt(fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", table, col.Def), "add column %q to table %q", c.C.Name, m.T.Name))
				continue
			}
			if !p.libsql || p.catalog == nil {
				return nil, false, nil
			}
			placeholder := ""
			if !c.C.Type.Null {
				placeholder = " DEFAULT " + zeroOf(col.Type)
			}
			adds = append(adds, stmt(fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s%s", table, without, placeholder),
				"add column %q to table %q, its default (which SQLite cannot add in place) set below", c.C.Name, m.T.Name))
			updates = append(updates, stmt(fmt.Sprintf("UPDATE %s SET %s = %s", table, ddl.Quote(c.C.Name), expr),
				"give the rows of %q the default of %q, as a rebuild's copy would", m.T.Name, c.C.Name))
			alters = append(alters, stmt(fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TO %s", table, ddl.Quote(c.C.Name), col.Def),
				"declare the default of %q.%q", m.T.Name, c.C.Name))
		case *atlas.DropColumn:
			drops, ok, err := p.dropColumn(ctx, m, c.C.Name, dropped)
			if err != nil || !ok {
				return nil, false, err
			}
			dropCols = append(dropCols, drops...)
		default:
			return nil, false, nil // foreign keys, checks, table options: a rebuild
		}
	}
	updates = append(updates, fills...)
	fills = nil
	if len(updates) > 0 {
		// The UPDATEs would fire t's triggers, as the rebuild's copy into
		// new_t does not: hold them off while they run.
		cat, err := p.readCatalog(ctx)
		if err != nil {
			return nil, false, err
		}
		triggers := cat.On("trigger", m.T.Name)
		var off, on []*migrate.Change
		for _, tr := range triggers {
			off = append(off, stmt("DROP TRIGGER "+ddl.Quote(tr.Name), "hold trigger %q off while the rows get their default", tr.Name))
			on = append(on, stmt(tr.SQL, "make trigger %q again", tr.Name))
		}
		updates = append(append(off, updates...), on...)
	}
	var out []*migrate.Change
	for _, part := range [][]*migrate.Change{dropIdx, renames, adds, updates, fills, alters, dropCols, createIdx} {
		out = append(out, part...)
	}
	return out, true, nil
}

// strictAccepts reports whether every column m adds or retypes has a type
// a STRICT table accepts, or the table is not STRICT. libSQL's ALTER
// COLUMN and SQLite's ADD COLUMN refuse such a type only when they run
// (ALTER COLUMN naming nothing but the table's definition); the rebuild
// planner refuses it before anything runs, naming the column.
func (p *planner) strictAccepts(ctx context.Context, m *atlas.ModifyTable, nt *ddl.Table) (bool, error) {
	var added, retyped bool // a column of a type STRICT refuses
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *atlas.AddColumn:
			if col := nt.Column(c.C.Name); col == nil || !ddl.StrictType(col.Type) {
				added = true
			}
		case *atlas.ModifyColumn:
			if col := nt.Column(c.To.Name); c.Change.Is(atlas.ChangeType) && (col == nil || !ddl.StrictType(col.Type)) {
				retyped = true
			}
		}
	}
	if !added && !retyped {
		return true, nil
	}
	_, cur, err := p.current(ctx, m.T.Name)
	if err != nil {
		return false, err
	}
	if cur == nil {
		// A bare plan (AlterColumns) does not say whether the table is
		// STRICT: ADD COLUMN fails by itself if it is, ALTER COLUMN
		// without a reason.
		return !retyped, nil
	}
	return !cur.HasOption(ddl.Strict), nil
}

// keepDefaultValues writes out the values rows read from column's
// default: a row written before the column was added (ADD COLUMN) stores
// no value for it, and reads the default the schema declares now, so
// changing the default with ALTER COLUMN would change that row (the
// rebuild's copy writes every value out). Only rows that read the old
// default can be such rows: those are rewritten, with what they read.
func (p *planner) keepDefaultValues(ctx context.Context, m *atlas.ModifyTable, column string) (*migrate.Change, bool, error) {
	_, cur, err := p.current(ctx, m.T.Name)
	if err != nil || cur == nil || cur.Column(column) == nil {
		return nil, false, err
	}
	col := ddl.Quote(column)
	where := " WHERE " + col + " IS NULL"
	if old, _, has := ddl.Default(cur.Column(column).Def); has {
		where = " WHERE " + col + " IS " + old
		if !ddl.Constant(old) {
			where = "" // no row reads a default ADD COLUMN refuses; still, every row
		}
	}
	return &migrate.Change{
		Cmd:     fmt.Sprintf("UPDATE %s SET %s = %s%s", ddl.Quote(m.T.Name), col, col, where),
		Source:  m,
		Comment: fmt.Sprintf("write out the values rows of %q read from the old default of %q, which ALTER COLUMN changes", m.T.Name, column),
	}, true, nil
}

// dropColumn is ALTER TABLE DROP COLUMN for a column nothing else in the
// table needs, after the indexes that use it (which cannot outlive it).
// Anything else that uses it (a trigger, a view, a constraint, a
// generated column) leaves the change to the rebuild, which names it.
func (p *planner) dropColumn(ctx context.Context, m *atlas.ModifyTable, column string, dropped map[string]bool) ([]*migrate.Change, bool, error) {
	cat, cur, err := p.current(ctx, m.T.Name)
	if err != nil || cur == nil {
		return nil, false, err
	}
	col := cur.Column(column)
	if col == nil || col.PrimaryKey || col.Unique || mentionsConstraint(col.Def) {
		return nil, false, nil
	}
	uses := func(sql string) bool { return ddl.UsesColumn(sql, m.T.Name, column) }
	for _, c := range cur.Columns {
		if !ddl.SameName(c.Name, column) && uses(c.Tail()) {
			return nil, false, nil
		}
	}
	for _, c := range cur.Constraints {
		if uses(c) {
			return nil, false, nil
		}
	}
	for _, o := range append(cat.On("trigger", m.T.Name), cat.Dependents(m.T.Name)...) {
		if uses(o.SQL) {
			return nil, false, nil
		}
	}
	var out []*migrate.Change
	for _, idx := range cat.On("index", m.T.Name) {
		if uses(idx.SQL) && !dropped[ddl.FoldName(idx.Name)] {
			dropped[ddl.FoldName(idx.Name)] = true
			out = append(out, &migrate.Change{Cmd: "DROP INDEX " + ddl.Quote(idx.Name), Source: m,
				Comment: fmt.Sprintf("drop index %q, which uses column %q", idx.Name, column)})
		}
	}
	return append(out, &migrate.Change{
		Cmd:     fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", ddl.Quote(m.T.Name), ddl.Quote(column)),
		Source:  m,
		Comment: fmt.Sprintf("drop column %q of table %q", column, m.T.Name),
	}), true, nil
}

// mentionsConstraint reports whether a column definition has a constraint
// SQLite's DROP COLUMN refuses.
func mentionsConstraint(def string) bool {
	for _, t := range ddl.Tokens(def) {
		if t.Is("REFERENCES") || t.Is("CHECK") || t.Is("GENERATED") {
			return true
		}
	}
	return false
}

// zeroOf is a constant of the affinity of decl: the stand-in default of a
// NOT NULL column added before its rows get their real default.
func zeroOf(decl string) string {
	switch affinity(decl) {
	case "TEXT":
		return "''"
	case "BLOB":
		if strings.TrimSpace(decl) != "" {
			return "x''"
		}
	case "REAL":
		return "0.0"
	}
	return "0"
}

// checkNewNotNull fails when a NOT NULL column without a default is
// added to a table with rows: every row would break it (SQLite's ADD
// COLUMN, or the rebuild's copy, fails the same way, later).
func (p *planner) checkNewNotNull(ctx context.Context, table string, c *atlas.Column) error {
	if c.Type == nil || c.Type.Null || c.Default != nil || hasAttr[*atlas.GeneratedExpr](c.Attrs) || p.count == nil || table == "" {
		return nil
	}
	n, err := p.count(ctx, fmt.Sprintf("SELECT count(*) FROM %s", ddl.Quote(table)))
	if err != nil {
		return fmt.Errorf("schema: counting the rows of %q: %w", table, err)
	}
	if n > 0 {
		return &TightenError{Table: table, Column: c.Name, Rows: n, Constraint: "NOT NULL", New: true}
	}
	return nil
}

// alteredTable is the table of an ALTER TABLE statement, or "".
func alteredTable(stmt string) string {
	toks := ddl.Tokens(stmt)
	if len(toks) > 2 && toks[0].Is("ALTER") && toks[1].Is("TABLE") {
		return toks[2].Name()
	}
	return ""
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
	re := regexp.MustCompile(`IFNULL\(` + regexp.QuoteMeta(ddl.Quote(column)) + `, (.+?)\) AS ` + regexp.QuoteMeta(ddl.Quote(column)))
	for _, c := range block {
		if m := re.FindStringSubmatch(c.Cmd); m != nil && strings.HasPrefix(c.Cmd, "INSERT INTO") {
			return &migrate.Change{
				Cmd:     fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL", ddl.Quote(table), ddl.Quote(column), m[1], ddl.Quote(column)),
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
func (p *planner) checkTightening(ctx context.Context, m *atlas.ModifyTable) error {
	if p.count == nil {
		return nil
	}
	for _, c := range m.Changes {
		var where, column, constraint string
		switch c := c.(type) {
		case *atlas.AddColumn:
			if err := p.checkNewNotNull(ctx, m.T.Name, c.C); err != nil {
				return err
			}
			continue
		case *atlas.ModifyColumn:
			if !tightensNull(c) || c.To.Default != nil {
				continue
			}
			where, column, constraint = ddl.Quote(c.To.Name)+" IS NULL", c.To.Name, "NOT NULL"
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
		n, err := p.count(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", ddl.Quote(m.T.Name), where))
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
	New        bool   // the column is new: NOT NULL without a default
}

func (e *TightenError) Error() string {
	switch {
	case e.Column == "":
		return fmt.Sprintf("schema: cannot add %s to table %q: %d rows break it (fix or delete them first)",
			e.Constraint, e.Table, e.Rows)
	case e.New:
		return fmt.Sprintf("schema: cannot add column %q to table %q as NOT NULL without a default: its %d rows would have no value (give the field a default, or make it optional)",
			e.Column, e.Table, e.Rows)
	}
	return fmt.Sprintf("schema: cannot make column %q.%q %s: %d rows break it (fix or delete them first, or give the column a default)",
		e.Table, e.Column, e.Constraint, e.Rows)
}
