package schema

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/rebuild"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// The check under the lock compares what Atlas's inspection kept with
// the catalog: on a database nobody else changed they must be equal, or
// every migration would inspect twice. Tried on tables holding what real
// databases hold (STRICT, WITHOUT ROWID, RANDOM ROWID, expression and
// vector indexes with their shadow tables, an FTS5 table, triggers,
// views, UNIQUE and composite keys), a table asked for that does not
// exist, and one whose name differs in case.
func TestInspectedMatchesCatalog(t *testing.T) {
	drv, err := libsql.Open(sqldtest.URL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	ctx, db := context.Background(), drv.DB()
	p := fmt.Sprintf("rp%d", time.Now().UnixNano()%1e12)
	migrate := func(tables []*entschema.Table) error {
		return migratetest.Migrate(ctx, drv, tables, WithLibSQL())
	}
	f := migratetest.NewFurnished(p)
	f.Create(t, db, migrate, false)
	fam := migratetest.Created(t, drv, db, p, false)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s_Odd (a text UNIQUE, b int, PRIMARY KEY (a, b))", p)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range append(f.Tables(1), fam.Tables()...) {
		names = append(names, tb.Name)
	}
	names = append(names, p+"_missing", p+"_odd", "sqlite_sequence")
	adrv, err := sqlite.Open(&stdConn{drv})
	if err != nil {
		t.Fatal(err)
	}
	current, err := adrv.InspectSchema(ctx, "", &atlas.InspectOptions{Tables: names, Mode: atlas.InspectSchemas | atlas.InspectTables})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := rebuild.Read(ctx, drv)
	if err != nil {
		t.Fatal(err)
	}
	seen, read := inspectedObjects(current), catalogObjects(cat, names)
	if !slices.Equal(seen, read) {
		t.Fatalf("the inspection kept\n%q\nthe catalog has\n%q", seen, read)
	}
	if len(seen) < len(names)-3 {
		t.Fatalf("only %d objects: %q", len(seen), seen)
	}
	// And any change another migration makes shows.
	for _, q := range []string{
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN extra int", fam.Tags.Name),
		fmt.Sprintf("CREATE INDEX %s_x ON %s (name)", p, fam.Tags.Name),
		fmt.Sprintf("CREATE TABLE %s_missing (id int)", p),
	} {
		before := catalogObjects(cat, names)
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if cat, err = rebuild.Read(ctx, drv); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(before, catalogObjects(cat, names)) {
			t.Fatalf("after %s the catalog still matches the inspection", q)
		}
	}
}
