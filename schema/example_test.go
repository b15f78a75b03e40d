package schema_test

import (
	"context"
	"fmt"
	"os"

	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/schema"
)

// notes is a table whose body column is NOT NULL, or nullable.
func notes(nullable bool) []*entschema.Table {
	t := &entschema.Table{Name: "example_notes", Columns: []*entschema.Column{
		{Name: "id", Type: field.TypeInt, Increment: true},
		{Name: "body", Type: field.TypeString, Nullable: nullable},
	}}
	t.PrimaryKey = t.Columns[:1]
	return []*entschema.Table{t}
}

// Making a column nullable. With a generated client the calls are
// client.Schema.WriteTo(ctx, os.Stdout, schema.WithLibSQL()) and
// client.Schema.Create(ctx, schema.WithLibSQL()).
func ExampleWithLibSQL() {
	ctx := context.Background()
	drv, err := libsql.Open(sqldtest.URL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer drv.Close()
	drv.DB().ExecContext(ctx, "DROP TABLE IF EXISTS example_notes")
	defer drv.DB().ExecContext(ctx, "DROP TABLE IF EXISTS example_notes")
	migrate := func(d dialect.Driver, tables []*entschema.Table) error {
		m, err := entschema.NewMigrate(d, schema.WithLibSQL())
		if err != nil {
			return err
		}
		return m.Create(ctx, tables...)
	}
	if err := migrate(drv, notes(false)); err != nil {
		fmt.Println(err)
		return
	}
	// What Create would run: one ALTER COLUMN, no table rebuild.
	if err := migrate(&entschema.WriteDriver{Writer: os.Stdout, Driver: drv}, notes(true)); err != nil {
		fmt.Println(err)
		return
	}
	if err := migrate(drv, notes(true)); err != nil {
		fmt.Println(err)
		return
	}
	// Output:
	// PRAGMA foreign_keys = off;
	// PRAGMA foreign_keys = off;
	// ALTER TABLE `example_notes` ALTER COLUMN `body` TO `body` text NULL;
	// PRAGMA foreign_keys = on;
	// PRAGMA foreign_keys = on;
}
