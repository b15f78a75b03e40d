package rebuild

import (
	"errors"
	"fmt"
	"strings"

	"github.com/entlibsql/entlibsql/internal/ddl"
)

// Intent is what a plan means to remove from a table it rebuilds, beyond
// leaving it out of the new definition: with ent's WithDropColumn and
// WithDropIndex, the columns and indexes the ent schema no longer has.
// Everything else the table holds is kept.
type Intent struct {
	DropColumns   []string
	DropIndexes   []string
	RenameColumns map[string]string // old name to new name
}

// Stmt is a statement of a completed plan.
type Stmt struct {
	SQL     string
	Comment string // why Keep added or changed it; "" for a plan statement as it was
	From    int    // the plan statement it is or replaces; -1 for one Keep added
}

// Error is a rebuild that cannot keep what its table holds. It is found
// before anything runs: the migration changes nothing.
type Error struct {
	Table    string
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cannot rebuild table %q keeping what it holds beyond the ent schema: %s; nothing was changed",
		e.Table, strings.Join(e.Problems, "; "))
}

// Keep returns plan with each of its table rebuilds completed so that the
// table keeps what the catalog says it holds and the plan does not
// declare, except what intent says the plan removes:
//
//   - columns the new definition lacks, with their values (generated
//     columns are declared again, not copied), and the COLLATE and
//     UNIQUE of the columns it declares;
//   - its UNIQUE table constraints and its options (STRICT, WITHOUT
//     ROWID, RANDOM ROWID), the rows' rowids where no column is the rowid;
//   - its indexes the plan does not make again (expression indexes and
//     libSQL vector indexes included; SQLite rebuilds them from the rows)
//     and its triggers, made again as they were; an index on a column the
//     plan drops goes with it, as in PostgreSQL;
//   - the views and triggers that read it, dropped before the rebuild and
//     made again after it, so that the rename ending it succeeds;
//   - its sqlite_stat1 rows, for the indexes whose definition stays, and
//     its AUTOINCREMENT counter (sqlite_sequence), so that the ids of
//     deleted rows are not given again.
//
// What cannot be kept (a trigger using a column the plan drops, a STRICT
// table given a type STRICT refuses) is an *Error, before anything runs.
func Keep(plan []string, cat *Catalog, intent func(table string) Intent) ([]Stmt, error) {
	var out []Stmt
	var errs []error
	next := 0
	for _, b := range Find(plan) {
		for ; next < b.Create; next++ {
			out = append(out, Stmt{SQL: plan[next], From: next})
		}
		var in Intent
		if intent != nil {
			in = intent(b.Table)
		}
		stmts, problems := keepBlock(plan, b, cat, in)
		if len(problems) > 0 {
			errs = append(errs, &Error{Table: b.Table, Problems: problems})
		}
		out = append(out, stmts...)
		next = b.End + 1
	}
	for ; next < len(plan); next++ {
		out = append(out, Stmt{SQL: plan[next], From: next})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// names is a set of names as SQLite compares them.
type names map[string]bool

func nameSet(list ...string) names {
	s := names{}
	for _, n := range list {
		s[ddl.FoldName(n)] = true
	}
	return s
}

func (s names) has(name string) bool { return s[ddl.FoldName(name)] }

func keepBlock(plan []string, b Block, cat *Catalog, in Intent) ([]Stmt, []string) {
	cur, ok := cat.Table(b.Table)
	if !ok {
		return nil, []string{"its definition in the database cannot be read"}
	}
	nt, ok := ddl.ParseCreateTable(plan[b.Create])
	if !ok {
		return nil, []string{"the plan's new definition of it cannot be read"}
	}
	k := &keeper{table: b.Table, gone: nameSet(in.DropColumns...), dropped: in.DropColumns, renamed: in.RenameColumns}
	k.columns(cur, nt)
	k.constraints(cur, nt)
	stripSeq := k.options(cur, nt)

	rowid := ""
	if !cur.HasOption(ddl.WithoutRowID) && !nt.HasOption(ddl.WithoutRowID) && nt.RowidAlias() == "" {
		rowid = freeRowidName(cur, nt)
	}
	var cp *ddl.Copy
	if b.Copy >= 0 {
		if cp, ok = ddl.ParseCopy(plan[b.Copy]); !ok {
			k.problem("the plan's copy of its rows cannot be read")
		}
	} else if len(k.carried) > 0 {
		cp = &ddl.Copy{Into: b.Temp, From: b.Table}
	}
	if cp != nil {
		k.completeCopy(cp, rowid)
	}

	// What goes with DROP TABLE and is made again after the rename.
	planned := map[string]string{}
	for j := b.Rename + 1; j <= b.End; j++ {
		if name, _, ok := ddl.CreateIndex(plan[j]); ok {
			planned[ddl.FoldName(name)] = plan[j]
		}
	}
	dropIdx := nameSet(in.DropIndexes...)
	again := map[string]string{} // folded name of a catalog object to the comment of its re-creation
	for _, o := range cat.On("index", b.Table) {
		if _, ok := planned[ddl.FoldName(o.Name)]; ok {
			continue
		}
		if dropIdx.has(o.Name) {
			continue
		}
		if col, ok := k.usesDropped(o.SQL); ok {
			// An index cannot outlive its column: it goes with it.
			k.notes = append(k.notes, fmt.Sprintf("not index %q, which goes with column %q", o.Name, col))
			continue
		}
		k.uses(fmt.Sprintf("index %q", o.Name), o.SQL)
		again[o.Type+" "+ddl.FoldName(o.Name)] = fmt.Sprintf("keep index %q of table %q", o.Name, b.Table)
	}
	for _, o := range cat.On("trigger", b.Table) {
		k.uses(fmt.Sprintf("trigger %q", o.Name), o.SQL)
		again[o.Type+" "+ddl.FoldName(o.Name)] = fmt.Sprintf("keep trigger %q of table %q", o.Name, b.Table)
	}
	deps := cat.Dependents(b.Table)
	var drops []Stmt
	for _, o := range deps {
		k.uses(fmt.Sprintf("%s %q", o.Type, o.Name), o.SQL)
		if o.Type == "view" || !isOnDependentView(o, deps) { // a view's triggers go with it
			drops = append(drops, Stmt{
				SQL:     fmt.Sprintf("DROP %s %s", strings.ToUpper(o.Type), ddl.Quote(o.Name)),
				Comment: fmt.Sprintf("drop %s %q, which reads table %q, until the rebuild is done", o.Type, o.Name, b.Table),
				From:    -1,
			})
		}
		again[o.Type+" "+ddl.FoldName(o.Name)] = fmt.Sprintf("make %s %q again", o.Type, o.Name)
	}
	if len(k.problems) > 0 {
		return nil, k.problems
	}

	out := []Stmt{{SQL: nt.SQL(), From: b.Create, Comment: k.createComment(plan[b.Create], nt.SQL())}}
	for j := b.Create + 1; j < b.Drop; j++ {
		switch {
		case j == b.Copy:
			out = append(out, Stmt{SQL: cp.SQL(), From: j, Comment: changed(plan[j], cp.SQL(), fmt.Sprintf("copy the rows of %q, with what the ent schema does not declare", b.Table))})
		case stripSeq && isSequenceRow(plan[j], b.Temp):
			// The table kept its options and refuses AUTOINCREMENT.
		default:
			out = append(out, Stmt{SQL: plan[j], From: j})
		}
	}
	if b.Copy < 0 && cp != nil {
		out = append(out, Stmt{SQL: cp.SQL(), From: -1, Comment: fmt.Sprintf("copy the columns of %q the ent schema does not declare", b.Table)})
	}
	if autoIncrement(nt) {
		out = append(out, SequenceStmts(b.Table, b.Temp)...)
	}
	out = append(out, drops...)
	for j := b.Drop; j <= b.End; j++ {
		out = append(out, Stmt{SQL: plan[j], From: j})
	}
	for _, o := range cat.Objects {
		if comment, ok := again[o.Type+" "+ddl.FoldName(o.Name)]; ok && o.SQL != "" {
			out = append(out, Stmt{SQL: o.SQL, From: -1, Comment: comment})
		}
	}
	out = append(out, StatStmts(b.Table, cat)...)
	return out, nil
}

func autoIncrement(t *ddl.Table) bool {
	for _, c := range t.Columns {
		if c.AutoIncrement {
			return true
		}
	}
	return false
}

// isOnDependentView reports whether trigger o is on one of the views in
// deps: dropping the view drops it.
func isOnDependentView(o Object, deps []Object) bool {
	if o.Type != "trigger" {
		return false
	}
	for _, d := range deps {
		if d.Type == "view" && ddl.SameName(d.Name, o.Table) {
			return true
		}
	}
	return false
}

// keeper collects the changes and problems of one rebuild.
type keeper struct {
	table     string
	gone      names             // columns the plan drops
	dropped   []string          // the same, as named
	renamed   map[string]string // old name to new name
	carried   []string          // columns added to the new table whose values the copy must carry
	generated names             // declared columns the database has as generated: not copied
	problems  []string
	notes     []string // what the new definition got, for its comment
}

func (k *keeper) problem(format string, args ...any) {
	k.problems = append(k.problems, fmt.Sprintf(format, args...))
}

// uses records a problem if sql (of what) uses a column the plan drops or
// renames: made again as it was, it would break.
func (k *keeper) uses(what, sql string) {
	if col, ok := k.usesDropped(sql); ok {
		k.problem("%s uses column %q, which the migration drops (drop or change it first)", what, col)
		return
	}
	for from, to := range k.renamed {
		if ddl.UsesColumn(sql, k.table, from) {
			k.problem("%s uses column %q, which the migration renames to %q by rebuilding the table (rename the column on its own first)", what, from, to)
			return
		}
	}
}

// renamedFrom reports whether the plan renames column name.
func (k *keeper) renamedFrom(name string) bool {
	for from := range k.renamed {
		if ddl.SameName(from, name) {
			return true
		}
	}
	return false
}

// usesDropped returns a column the plan drops that sql uses.
func (k *keeper) usesDropped(sql string) (string, bool) {
	for _, col := range k.dropped {
		if ddl.UsesColumn(sql, k.table, col) {
			return col, true
		}
	}
	return "", false
}

// columns adds to nt the columns of cur it lacks, and what its declared
// columns had that the plan's definition does not say.
func (k *keeper) columns(cur, nt *ddl.Table) {
	k.generated = nameSet()
	for _, c := range cur.Columns {
		if k.gone.has(c.Name) {
			continue
		}
		if k.renamedFrom(c.Name) {
			continue
		}
		n := nt.Column(c.Name)
		if n == nil {
			k.uses(fmt.Sprintf("column %q", c.Name), c.Tail())
			nt.Columns = append(nt.Columns, c)
			if c.Generated {
				k.notes = append(k.notes, fmt.Sprintf("generated column %q", c.Name))
			} else {
				k.carried = append(k.carried, c.Name)
				k.notes = append(k.notes, fmt.Sprintf("column %q", c.Name))
			}
			continue
		}
		if c.Generated && !n.Generated {
			k.uses(fmt.Sprintf("generated column %q", c.Name), c.Tail())
			*n = c
			k.generated[ddl.FoldName(c.Name)] = true
			k.notes = append(k.notes, fmt.Sprintf("the generated expression of %q", c.Name))
			continue
		}
		if c.Collate != "" && n.Collate == "" {
			n.Def += " COLLATE " + ident(c.Collate)
			n.Collate = c.Collate
			k.notes = append(k.notes, fmt.Sprintf("COLLATE %s of %q", c.Collate, c.Name))
		}
		if c.Unique && !n.Unique {
			nt.Constraints = append(nt.Constraints, "UNIQUE ("+ddl.Quote(n.Name)+")")
			k.notes = append(k.notes, fmt.Sprintf("UNIQUE of %q", c.Name))
		}
	}
}

// constraints adds to nt the UNIQUE table constraints of cur it lacks.
// (Atlas reads and plans PRIMARY KEY, FOREIGN KEY and CHECK constraints:
// those the ent schema does not declare ent drops on purpose.)
func (k *keeper) constraints(cur, nt *ddl.Table) {
	have := nameSet()
	for _, c := range nt.Constraints {
		have[normalize(c)] = true
	}
	for _, c := range cur.Constraints {
		if !isUnique(c) || have[normalize(c)] {
			continue
		}
		k.uses("constraint "+c, c)
		nt.Constraints = append(nt.Constraints, c)
		k.notes = append(k.notes, "constraint "+c)
	}
}

// options gives nt the options of cur (the ent schema cannot declare
// them), dropping AUTOINCREMENT where they refuse it and cur had none; it
// reports whether it did, so that the new table's sqlite_sequence row
// goes too.
func (k *keeper) options(cur, nt *ddl.Table) (strippedAutoIncrement bool) {
	opts := []string{ddl.Strict, ddl.WithoutRowID, ddl.RandomRowID}
	subset := true
	differ := false
	for _, o := range opts {
		if nt.HasOption(o) && !cur.HasOption(o) {
			subset = false
		}
		if nt.HasOption(o) != cur.HasOption(o) {
			differ = true
		}
	}
	if differ && subset {
		nt.Options = cur.Options
		k.notes = append(k.notes, "options "+cur.Options)
	}
	if nt.HasOption(ddl.WithoutRowID) || nt.HasOption(ddl.RandomRowID) {
		for i := range nt.Columns {
			c := &nt.Columns[i]
			if old := cur.Column(c.Name); c.AutoIncrement && old != nil && !old.AutoIncrement {
				c.Def = dropWord(c.Def, "AUTOINCREMENT")
				c.AutoIncrement = false
				strippedAutoIncrement = true
				k.notes = append(k.notes, fmt.Sprintf("no AUTOINCREMENT on %q, which %s refuses", c.Name, nt.Options))
			}
		}
	}
	if nt.HasOption(ddl.Strict) {
		for _, c := range nt.Columns {
			if !ddl.StrictType(c.Type) {
				k.problem("it is STRICT, and the migration declares column %q as %q, which STRICT tables refuse (declare it as one of %s, e.g. with the field's SchemaType)",
					c.Name, c.Type, strings.Join(ddl.StrictTypes, ", "))
			}
		}
	}
	return strippedAutoIncrement
}

// completeCopy makes the copy carry the added columns and the rowids, and
// leaves out the columns that became generated.
func (k *keeper) completeCopy(cp *ddl.Copy, rowid string) {
	if len(k.generated) > 0 {
		var cols, sel []string
		for i, name := range cp.Targets() {
			if !k.generated.has(name) {
				cols, sel = append(cols, cp.Columns[i]), append(sel, cp.Select[i])
			}
		}
		cp.Columns, cp.Select = cols, sel
	}
	for _, name := range k.carried {
		cp.Columns = append(cp.Columns, ddl.Quote(name))
		cp.Select = append(cp.Select, ddl.Quote(name))
	}
	if rowid != "" && len(cp.Columns) > 0 {
		cp.Columns = append([]string{rowid}, cp.Columns...)
		cp.Select = append([]string{rowid}, cp.Select...)
	}
}

func (k *keeper) createComment(before, after string) string {
	if before == after {
		return ""
	}
	return fmt.Sprintf("create the new %q with what the ent schema does not declare: %s", k.table, strings.Join(k.notes, ", "))
}

func changed(before, after, comment string) string {
	if before == after {
		return ""
	}
	return comment
}

// freeRowidName is a name of the rowid that no column of either table
// hides, or "" if all three are taken.
func freeRowidName(tables ...*ddl.Table) string {
	for _, name := range []string{"rowid", "_rowid_", "oid"} {
		free := true
		for _, t := range tables {
			if t.Column(name) != nil {
				free = false
			}
		}
		if free {
			return name
		}
	}
	return ""
}

// isSequenceRow reports whether stmt writes the sqlite_sequence row of table.
func isSequenceRow(stmt, table string) bool {
	toks := ddl.Tokens(stmt)
	seq, named := false, false
	for _, t := range toks {
		if t.IsName("sqlite_sequence") {
			seq = true
		}
		if (t.Kind == ddl.String || t.Kind == ddl.Quoted) && ddl.SameName(ddl.Unquote(t.Text), table) {
			named = true
		}
	}
	return seq && named
}

// StatStmts writes back, after a rebuild of table, its sqlite_stat1 rows
// (which DROP TABLE deletes) and those of the tables its libSQL vector
// indexes keep their graphs in. A row goes back only if what it describes
// is there after the rebuild as it was before: the table, or the index
// with the same definition. A changed index's statistics no longer hold.
func StatStmts(table string, cat *Catalog) []Stmt {
	var out []Stmt
	add := func(tbl string) {
		for _, s := range cat.StatsOf(tbl) {
			out = append(out, statRow(tbl, s, cat))
		}
	}
	add(table)
	for _, o := range cat.On("index", table) {
		if ddl.Mentions(o.SQL, "libsql_vector_idx") {
			add(o.Name + "_shadow")
		}
	}
	return out
}

func statRow(table string, s Stat, cat *Catalog) Stmt {
	q := ddl.QuoteString
	idx, same := "NULL", "idx IS NULL"
	// The table row (no index), or the primary key of a WITHOUT ROWID
	// table: the table must be there.
	there := fmt.Sprintf("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", q(table))
	if s.Index.Valid {
		idx, same = q(s.Index.String), "idx = "+q(s.Index.String)
		if o, ok := cat.object("index", s.Index.String); ok {
			def := "sql IS NULL" // an index of a PRIMARY KEY or UNIQUE constraint
			if o.SQL != "" {
				def = "sql = " + q(o.SQL)
			}
			there = fmt.Sprintf("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s AND tbl_name = %s AND %s", idx, q(table), def)
		}
	}
	return Stmt{
		SQL: fmt.Sprintf("INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT %s, %s, %s WHERE EXISTS (%s) AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = %s AND %s)",
			q(table), idx, q(s.Stat), there, q(table), same),
		Comment: fmt.Sprintf("keep the statistics of %q", table),
		From:    -1,
	}
}

func isUnique(constraint string) bool {
	toks := ddl.Tokens(constraint)
	if len(toks) > 2 && toks[0].Is("CONSTRAINT") {
		toks = toks[2:]
	}
	return len(toks) > 0 && toks[0].Is("UNIQUE")
}

// normalize is a constraint's tokens, names unquoted and folded, for
// comparing two spellings of one constraint.
func normalize(sql string) string {
	var b strings.Builder
	for _, t := range ddl.Tokens(sql) {
		switch t.Kind {
		case ddl.Word, ddl.Quoted:
			b.WriteString(ddl.FoldName(t.Name()))
		default:
			b.WriteString(t.Text)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// dropWord removes the bare word w from sql.
func dropWord(sql, w string) string {
	for _, t := range ddl.Tokens(sql) {
		if t.Is(w) {
			return strings.TrimSpace(sql[:t.Pos]) + strings.TrimRight(" "+strings.TrimSpace(sql[t.End():]), " ")
		}
	}
	return sql
}

// ident writes a name bare when it can be, quoted otherwise.
func ident(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return ddl.Quote(name)
		}
	}
	if name == "" {
		return ddl.Quote(name)
	}
	return name
}
