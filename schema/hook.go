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
)

// WithLibSQL is the ent migrate option that adapts ent's plan to libSQL:
// column changes ALTER COLUMN can make replace table rebuilds (see
// AlterColumns), NOT NULL is checked against the rows first, statements
// sqld refuses are rewritten (see Rewrite), and indexes annotated with
// vector.Index become libSQL vector indexes. Pass it to
// client.Schema.Create, or to client.Schema.WriteTo to see exactly what
// Create would run:
//
//	err := client.Schema.Create(ctx, schema.WithLibSQL())
func WithLibSQL() entschema.MigrateOption {
	return func(a *entschema.Atlas) {
		entschema.WithDiffHook(DiffHook)(a)
		entschema.WithApplyHook(ApplyHook)(a)
		withVectorIndexes(a)
	}
}

// DiffHook is WithLibSQL's diff hook, for entschema.WithDiffHook among
// hooks of your own. SQLite stores a default expression in parentheses,
// and Atlas compares the stored "(CURRENT_TIMESTAMP)" with ent's
// "CURRENT_TIMESTAMP" as text: without the hook the table is rebuilt on
// every run. Where the two differ only by those parentheses, the desired
// default takes the stored form.
func DiffHook(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		for _, dt := range desired.Tables {
			ct, ok := current.Table(dt.Name)
			if !ok {
				continue
			}
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
		return next.Diff(current, desired)
	})
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

// ApplyHook is WithLibSQL as an apply hook, for entschema.WithApplyHook
// among hooks of your own. Given twice (WithLibSQL passed by hand to a
// client that already applies it by default), it runs once.
func ApplyHook(next entschema.Applier) entschema.Applier {
	return entschema.ApplyFunc(func(ctx context.Context, conn dialect.ExecQuerier, plan *migrate.Plan) error {
		if ctx.Value(appliedKey{}) != nil {
			return next.Apply(ctx, conn, plan)
		}
		ctx = context.WithValue(ctx, appliedKey{}, true)
		p, err := AlterColumns(ctx, plan, entCounter(conn))
		if err != nil {
			return err
		}
		for i, c := range p.Changes {
			if cmd := Rewrite(c.Cmd); cmd != c.Cmd {
				cp := *c
				cp.Cmd = cmd
				p.Changes[i] = &cp
			}
		}
		return next.Apply(ctx, conn, p)
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
