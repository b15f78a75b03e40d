//go:build cgo && (linux || darwin) && (amd64 || arm64)

package embedded_test

import (
	"context"
	"errors"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/enttest"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
	"github.com/entlibsql/entlibsql/schema"
)

// An in-memory database lives as long as its one connection: the
// migration must give that connection back, not close it.
func TestMemoryMigrateThenUse(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *ent.Client
	}{
		{"enttest.Open", func(t *testing.T) *ent.Client { return enttest.Open(t, "libsql", "file::memory:") }},
		{"Schema.Create", func(t *testing.T) *ent.Client {
			c, err := ent.Open("libsql", "file::memory:")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Schema.Create(ctx, schema.WithLibSQL()); err != nil {
				t.Fatal(err)
			}
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.open(t)
			defer c.Close()
			c.User.Create().SetName("ada").SetAge(36).SaveX(ctx)
			if n := c.User.Query().Where(user.Name("ada")).CountX(ctx); n != 1 {
				t.Fatalf("%d users after the migration", n)
			}
			// Migrating again (nothing to do) keeps the database too.
			if err := c.Schema.Create(ctx, schema.WithLibSQL()); err != nil {
				t.Fatal(err)
			}
			if n := c.User.Query().CountX(ctx); n != 1 {
				t.Fatalf("%d users after a second migration", n)
			}
		})
	}
}

// A table rebuild and a migration of one's own on :memory: keep the
// database, its rows, and foreign keys on for what follows. (Its one
// connection is all there is: migratetest.RebuildKeepsRows, which holds
// several, cannot run here.)
func TestMemoryRebuild(t *testing.T) {
	drv, err := libsql.Open("file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	ctx, db := context.Background(), drv.DB()
	v1 := migratetest.Created(t, drv, db, "mem", false)
	if err := migratetest.Migrate(ctx, drv, migratetest.NewFamily("mem", true).Tables(), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Migrate(ctx, drv, migratetest.NewFamily("mem", false).Tables()); err != nil { // a rebuild
		t.Fatal(err)
	}
	m, err := drv.BeginMigration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Exec(ctx, "CREATE TABLE mem_extra (x integer)", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Commit(); err != nil {
		t.Fatal(err)
	}
	// A migration that would orphan rows is rolled back whole.
	m, err = drv.BeginMigration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Exec(ctx, "DELETE FROM "+v1.Parents.Name+" WHERE id = 5", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	var fk *libsql.ForeignKeyError
	if err := m.Commit(); !errors.As(err, &fk) || len(fk.Violations) == 0 {
		t.Fatalf("orphaning children: %v", err)
	}
	if n := migratetest.Count(t, db, v1.Parents.Name); n != migratetest.NumParents {
		t.Fatalf("%d parents after the rolled-back migration", n)
	}
	if n := migratetest.Count(t, db, v1.Children.Name); n != migratetest.NumChildren {
		t.Fatalf("%d of %d children", n, migratetest.NumChildren)
	}
	var on int
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
		t.Fatalf("foreign_keys = %d after the migrations, %v", on, err)
	}
	if _, err := db.Exec("INSERT INTO mem_children (label, parent_id) VALUES ('orphan', 424242)"); err == nil {
		t.Fatal("an orphan was accepted: foreign keys are off")
	}
}
