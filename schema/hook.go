package schema

import (
	"context"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
)

// WithLibSQL is the ent migrate option that adapts ent's plan to libSQL:
// column changes ALTER COLUMN can make replace table rebuilds (see
// AlterColumns), NOT NULL is checked against the rows first, and
// statements sqld refuses are rewritten (see Rewrite). Pass it to
// client.Schema.Create, or to client.Schema.WriteTo to see exactly what
// Create would run:
//
//	err := client.Schema.Create(ctx, schema.WithLibSQL())
func WithLibSQL() entschema.MigrateOption { return entschema.WithApplyHook(ApplyHook) }

// ApplyHook is WithLibSQL as an apply hook, for entschema.WithApplyHook
// among hooks of your own.
func ApplyHook(next entschema.Applier) entschema.Applier {
	return entschema.ApplyFunc(func(ctx context.Context, conn dialect.ExecQuerier, plan *migrate.Plan) error {
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
