package schema

import (
	"context"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"github.com/entlibsql/entlibsql/internal/ddl"
	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// A table rebuild recreates the table from ent's schema alone, so it
// would drop what the database holds beyond it: indexes and triggers ent
// does not declare, libSQL vector indexes, views that read the table
// (which make the rebuild fail), table options, generated columns,
// columns ent does not know and their values, statistics. keep completes
// each rebuild left in a plan so that the table keeps them (see
// rebuild.Keep), honouring what ent means to drop: the columns of
// WithDropColumn, the indexes of WithDropIndex.

// rewrite is the whole of WithLibSQL's work on a plan: in place what can
// be (inplace.go), the rebuilds left keeping what the table holds, and
// the statements sqld refuses rewritten.
func (p *planner) rewrite(ctx context.Context, plan *migrate.Plan) (*migrate.Plan, error) {
	out, err := p.inPlace(ctx, plan)
	if err != nil {
		return nil, err
	}
	if out, err = p.keep(ctx, out); err != nil {
		return nil, err
	}
	for i, c := range out.Changes {
		if cmd := ddl.RewriteSequence(c.Cmd); cmd != c.Cmd {
			cp := *c
			cp.Cmd = cmd
			out.Changes[i] = &cp
		}
	}
	return out, nil
}

// keep completes the rebuilds of plan from the database's catalog.
func (p *planner) keep(ctx context.Context, plan *migrate.Plan) (*migrate.Plan, error) {
	cmds := make([]string, len(plan.Changes))
	for i, c := range plan.Changes {
		cmds[i] = c.Cmd
	}
	if len(rebuild.Find(cmds)) == 0 || p.catalog == nil {
		return plan, nil
	}
	cat, err := p.readCatalog(ctx)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	intents := intentsOf(plan)
	stmts, err := rebuild.Keep(cmds, cat, func(table string) rebuild.Intent { return intents[ddl.FoldName(table)] })
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	out := *plan
	out.Changes = make([]*migrate.Change, 0, len(stmts))
	for _, st := range stmts {
		if st.From < 0 {
			out.Changes = append(out.Changes, &migrate.Change{Cmd: st.SQL, Comment: st.Comment})
			continue
		}
		c := plan.Changes[st.From]
		if st.SQL != c.Cmd {
			cp := *c
			cp.Cmd = st.SQL
			if st.Comment != "" {
				cp.Comment = st.Comment
			}
			c = &cp
		}
		out.Changes = append(out.Changes, c)
	}
	return &out, nil
}

// intentsOf reads from the plan's table changes what ent means to drop
// or rename, by table (folded name).
func intentsOf(plan *migrate.Plan) map[string]rebuild.Intent {
	intents := map[string]rebuild.Intent{}
	for _, c := range plan.Changes {
		m, ok := c.Source.(*atlas.ModifyTable)
		if !ok {
			continue
		}
		key := ddl.FoldName(m.T.Name)
		if _, done := intents[key]; done {
			continue
		}
		in := rebuild.Intent{RenameColumns: map[string]string{}}
		for _, mc := range m.Changes {
			switch mc := mc.(type) {
			case *atlas.DropColumn:
				in.DropColumns = append(in.DropColumns, mc.C.Name)
			case *atlas.DropIndex:
				in.DropIndexes = append(in.DropIndexes, mc.I.Name)
			case *atlas.RenameColumn:
				in.RenameColumns[mc.From.Name] = mc.To.Name
			}
		}
		intents[key] = in
	}
	return intents
}

// adoptUndeclared gives the desired table dt what ent cannot declare and
// the database's table ct has: the STRICT and WITHOUT ROWID options, and
// the expressions of generated columns. Atlas would otherwise plan a
// rebuild to remove them on every run.
func adoptUndeclared(ct, dt *atlas.Table) {
	for _, a := range ct.Attrs {
		switch a.(type) {
		case *sqlite.Strict:
			if !hasAttr[*sqlite.Strict](dt.Attrs) {
				dt.Attrs = append(dt.Attrs, a)
			}
		case *sqlite.WithoutRowID:
			if !hasAttr[*sqlite.WithoutRowID](dt.Attrs) {
				dt.Attrs = append(dt.Attrs, a)
			}
		}
	}
	for _, dc := range dt.Columns {
		cc, ok := ct.Column(dc.Name)
		if !ok {
			continue
		}
		var x atlas.GeneratedExpr
		if generated(cc, &x) && !generated(dc, nil) {
			dc.Attrs = append(dc.Attrs, &x)
		}
	}
}

func generated(c *atlas.Column, x *atlas.GeneratedExpr) bool {
	for _, a := range c.Attrs {
		if g, ok := a.(*atlas.GeneratedExpr); ok {
			if x != nil {
				*x = *g
			}
			return true
		}
	}
	return false
}

// KeepError is a table rebuild that cannot keep what the table holds
// beyond the ent schema (a trigger using a column the migration drops, a
// STRICT table given a type STRICT refuses, ...): it lists each problem
// with the object it concerns. It is found before anything runs: the
// migration changes nothing.
type KeepError = rebuild.Error
