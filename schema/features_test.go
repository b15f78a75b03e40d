package schema_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	atlas "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect/entsql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// featureTable uses what ent offers in a SQLite schema: a partial index,
// default expressions, a JSON default, check constraints (named and not).
// Version 2 makes "note" nullable (a rebuild) and adds a column.
func featureTable(name string, v int) *entschema.Table {
	t := &entschema.Table{Name: name, Columns: []*entschema.Column{
		{Name: "id", Type: field.TypeInt, Increment: true},
		{Name: "size", Type: field.TypeInt, Default: 1},
		{Name: "active", Type: field.TypeBool, Default: true},
		{Name: "created", Type: field.TypeTime, Default: entschema.Expr("CURRENT_TIMESTAMP")},
		{Name: "code", Type: field.TypeString, Default: entschema.Expr("(lower(hex(randomblob(4))))")},
		{Name: "meta", Type: field.TypeJSON, Default: `{"tags":["a"],"n":1}`},
		{Name: "note", Type: field.TypeString, Nullable: v > 1, Default: "it's"},
	}}
	if v > 1 {
		t.Columns = append(t.Columns, &entschema.Column{Name: "extra", Type: field.TypeString, Nullable: true})
	}
	t.PrimaryKey = t.Columns[:1]
	t.Indexes = []*entschema.Index{
		{Name: name + "_active_code", Unique: true, Columns: []*entschema.Column{t.Columns[4]}, Annotation: &entsql.IndexAnnotation{Where: "active AND size > 0"}},
		{Name: name + "_size", Columns: []*entschema.Column{t.Columns[1]}},
	}
	t.Annotation = &entsql.Annotation{Check: "size >= 0", Checks: map[string]string{name + "_note": "note <> ''"}}
	return t
}

func TestEntFeaturesMigrate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []entschema.MigrateOption
	}{
		{"default", nil},
		{"WithLibSQL", []entschema.MigrateOption{schema.WithLibSQL()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drv := openDriver(t)
			db, ctx := drv.DB(), context.Background()
			name := prefix(t) + "_feat"
			v1 := []*entschema.Table{featureTable(name, 1)}
			if err := migratetest.Migrate(ctx, drv, v1, tc.opts...); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (size) VALUES (1), (2), (0)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (size) VALUES (-1)"); err == nil {
				t.Fatal("the check constraint does not hold")
			}
			v2 := []*entschema.Table{featureTable(name, 2)}
			if err := migratetest.Migrate(ctx, drv, v2, tc.opts...); err != nil {
				t.Fatal(err)
			}
			var meta, note, code string
			if err := db.QueryRowContext(ctx, "SELECT meta, note, code FROM "+name+" WHERE id = 1").Scan(&meta, &note, &code); err != nil {
				t.Fatal(err)
			}
			if meta != `{"tags":["a"],"n":1}` || note != "it's" || len(code) != 8 {
				t.Fatalf("defaults after the migration: meta %s, note %q, code %q", meta, note, code)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (size, note) VALUES (-1, NULL)"); err == nil {
				t.Fatal("the check constraint was lost")
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (size, code) VALUES (5, ?)", code); err == nil {
				t.Fatal("the partial unique index was lost")
			}
			// Without the option Atlas re-plans the default expressions on
			// every run (it compares them as text); WithLibSQL makes the
			// second run a no-op.
			if again := writeTo(t, drv, v2, tc.opts...); again != "" && tc.opts != nil {
				t.Fatalf("the second run plans:\n%s", again)
			}
		})
	}
}

// A rename through a diff hook, as ent documents: the column keeps its
// data.
func TestRenameColumnViaDiffHook(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_ren"
	table := func(col string) []*entschema.Table {
		tb := &entschema.Table{Name: name, Columns: []*entschema.Column{
			{Name: "id", Type: field.TypeInt, Increment: true},
			{Name: col, Type: field.TypeString},
		}}
		tb.PrimaryKey = tb.Columns[:1]
		return []*entschema.Table{tb}
	}
	if err := migratetest.Migrate(ctx, drv, table("title")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (title) VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	rename := entschema.WithDiffHook(func(next entschema.Differ) entschema.Differ {
		return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
			changes, err := next.Diff(current, desired)
			if err != nil {
				return nil, err
			}
			for _, c := range changes {
				m, ok := c.(*atlas.ModifyTable)
				if !ok || m.T.Name != name {
					continue
				}
				var from, to *atlas.Column
				var rest []atlas.Change
				for _, mc := range m.Changes {
					switch mc := mc.(type) {
					case *atlas.DropColumn:
						from = mc.C
					case *atlas.AddColumn:
						to = mc.C
					default:
						rest = append(rest, mc)
					}
				}
				if from != nil && to != nil {
					m.Changes = append(rest, &atlas.RenameColumn{From: from, To: to})
				}
			}
			return changes, nil
		})
	})
	drop := entschema.WithDropColumn(true) // ent plans the drop the hook turns into a rename
	plan := writeTo(t, drv, table("headline"), drop, rename, schema.WithLibSQL())
	if !strings.Contains(plan, "RENAME COLUMN") {
		t.Fatalf("plan:\n%s", plan)
	}
	if err := migratetest.Migrate(ctx, drv, table("headline"), drop, rename, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT headline FROM %s", name)).Scan(&got); err != nil || got != "kept" {
		t.Fatalf("after the rename: %q, %v", got, err)
	}
}
