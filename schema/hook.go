package schema

import (
	"context"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/internal/rebuild"
)

// WithLibSQL is the ent migrate option that adapts ent's plan to libSQL.
// Pass it to client.Schema.Create, or to client.Schema.WriteTo to see
// exactly what Create would run:
//
//	err := client.Schema.Create(ctx, schema.WithLibSQL())
//
// Changes SQLite or libSQL can make in place replace table rebuilds:
// ADD COLUMN for a new field with a constant default (or none), DROP and
// RENAME COLUMN, and libSQL's ALTER COLUMN for NOT NULL, the default and
// the type within one affinity (see AlterColumns); rows are checked
// before a constraint is tightened. The rebuilds left keep what the
// database holds beyond the ent schema: its indexes, triggers, views,
// table options, generated and undeclared columns, statistics (see
// keep.go). Statements sqld refuses are rewritten (see Rewrite), and
// indexes annotated with vector.Index become libSQL vector indexes.
func WithLibSQL() entschema.MigrateOption {
	return func(a *entschema.Atlas) {
		diff, apply := Hooks()
		entschema.WithDiffHook(diff)(a)
		entschema.WithApplyHook(apply)(a)
		withVectorIndexes(a)
	}
}

// DiffHook is WithLibSQL's diff hook, for entschema.WithDiffHook among
// hooks of your own (Hooks gives it tied to the apply hook, as WithLibSQL
// uses it). It keeps ent from planning changes it does not mean:
//
//   - SQLite stores a default expression in parentheses, and Atlas
//     compares the stored "(CURRENT_TIMESTAMP)" with ent's
//     "CURRENT_TIMESTAMP" as text: where the two differ only by those
//     parentheses, the desired default takes the stored form;
//   - ent cannot declare a table's STRICT or WITHOUT ROWID, nor a
//     generated column: the desired table takes them from the database,
//     where Atlas would rebuild the table to remove them.
func DiffHook(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(libsqlDiff(next))
}

// libsqlDiff is DiffHook's diff.
func libsqlDiff(next entschema.Differ) func(current, desired *atlas.Schema) ([]atlas.Change, error) {
	return func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		for _, dt := range desired.Tables {
			ct, ok := current.Table(dt.Name)
			if !ok {
				continue
			}
			stableDefaults(ct, dt)
			adoptUndeclared(ct, dt)
		}
		return next.Diff(current, desired)
	}
}

// stableDefaults gives dt's defaults the stored form of ct's where they
// differ only by parentheses.
func stableDefaults(ct, dt *atlas.Table) {
	for _, dc := range dt.Columns {
		x, ok := dc.Default.(*atlas.RawExpr)
		if !ok {
			continue
		}
		if cc, ok := ct.Column(dc.Name); ok && cc.Default != nil && unwrap(defaultText(cc.Default)) == unwrap(x.X) {
			dc.Default = cc.Default
		}
	}
}

func defaultText(e atlas.Expr) string {
	switch x := e.(type) {
	case *atlas.RawExpr:
		return x.X
	case *atlas.Literal:
		return x.V
	}
	return ""
}

// unwrap strips the parentheses around a whole expression.
func unwrap(x string) string {
	x = strings.TrimSpace(x)
	for wrapped(x) {
		x = strings.TrimSpace(x[1 : len(x)-1])
	}
	return x
}

// wrapped reports whether x is one parenthesized expression.
func wrapped(x string) bool {
	x = strings.TrimSpace(x)
	if !strings.HasPrefix(x, "(") || !strings.HasSuffix(x, ")") {
		return false
	}
	depth := 0
	for i := 0; i < len(x); i++ {
		switch x[i] {
		case '\'', '"', '`', '[':
			if end := skipQuoted(x, i); end > 0 {
				i = end
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != len(x)-1 {
				return false // "(a) + (b)"
			}
		}
	}
	return depth == 0
}

// ApplyHook is WithLibSQL's apply hook, for entschema.WithApplyHook
// among hooks of your own. It reads the database through the migration's
// transaction: the catalog for the rebuilds, and counts for the checks.
// Given twice (WithLibSQL passed by hand to a client that already applies
// it by default), it runs once. Alone it cannot tell whether another
// migration changed the tables since ent planned (see replan.go): take it
// from Hooks, tied to the diff hook, for that.
func ApplyHook(next entschema.Applier) entschema.Applier {
	return applyHook(next, func() *inspected { return nil })
}

// applyHook is ApplyHook, checking that the plan still holds under the
// migration's lock when inspected says from what it was made.
func applyHook(next entschema.Applier, inspectedNow func() *inspected) entschema.Applier {
	return entschema.ApplyFunc(func(ctx context.Context, conn dialect.ExecQuerier, plan *migrate.Plan) error {
		if ctx.Value(appliedKey{}) != nil {
			return next.Apply(ctx, conn, plan)
		}
		ctx = context.WithValue(ctx, appliedKey{}, true)
		p := &planner{
			count:   entCounter(conn),
			libsql:  true,
			catalog: func(ctx context.Context) (*rebuild.Catalog, error) { return rebuild.Read(ctx, conn) },
		}
		if in := inspectedNow(); in != nil {
			var err error
			if plan, err = in.holding(ctx, conn, p, plan); err != nil {
				return err
			}
		}
		out, err := p.rewrite(ctx, plan)
		if err != nil {
			return err
		}
		// The driver's guard of ent's own rebuilds leaves these alone.
		return next.Apply(rebuild.Kept(ctx), conn, out)
	})
}

// appliedKey marks a context in which ApplyHook has run.
type appliedKey struct{}

// entCounter runs count queries through an ent ExecQuerier: the migration
// transaction, or the real database behind ent's WriteDriver.
func entCounter(conn dialect.ExecQuerier) Counter {
	return func(ctx context.Context, query string) (int64, error) {
		var rows entsql.Rows
		if err := conn.Query(ctx, query, []any{}, &rows); err != nil {
			return 0, err
		}
		defer rows.Close()
		var n int64
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("no row from %s", query)
		}
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
		return n, rows.Close()
	}
}
