package compattest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// The same rebuild through OpenDB over libsql-client-go keeps every row:
// the driver pins the migration to one of client-go's streams.
func TestMigrationRebuildThroughClientGo(t *testing.T) {
	db := clientGoDB(t, sqldtest.URL())
	drv := libsql.OpenDB(db)
	migratetest.RebuildKeepsRows(t, drv, db, fmt.Sprintf("cgm%d", time.Now().UnixNano()%1e9))
}

// The status quo loses them: ent over libsql-client-go as users wire it
// today, the rebuild cascades into the children.
func TestMigrationRebuildStatusQuoLosesRows(t *testing.T) {
	db := clientGoDB(t, sqldtest.URL())
	drv := entsql.OpenDB(dialect.SQLite, db)
	ctx := context.Background()
	prefix := fmt.Sprintf("cgq%d", time.Now().UnixNano()%1e9)
	v1 := migratetest.NewFamily(prefix, false)
	if err := migratetest.Migrate(ctx, drv, v1.Tables()); err != nil {
		t.Fatal(err)
	}
	migratetest.Fill(t, db, v1)
	if err := migratetest.Migrate(ctx, drv, migratetest.NewFamily(prefix, true).Tables()); err != nil {
		t.Fatal(err)
	}
	kept := migratetest.Count(t, db, v1.Children.Name)
	t.Logf("status quo: the rebuild kept %d of %d child rows", kept, migratetest.NumChildren)
	if kept == migratetest.NumChildren {
		t.Fatal("the status quo kept every child row: this baseline no longer shows the bug")
	}
}

// Over libsql-client-go too, the sqlite_sequence rows of ent's migration
// files run through the driver: ent's Exec, a transaction, a migration.
func TestSequenceRowsThroughClientGo(t *testing.T) {
	db := clientGoDB(t, sqldtest.URL())
	drv := libsql.OpenDB(db)
	ways := map[string]func(context.Context, string) error{
		"driver": func(ctx context.Context, q string) error { return drv.Exec(ctx, q, []any{}, nil) },
		"tx": func(ctx context.Context, q string) error {
			tx, err := drv.Tx(ctx)
			if err != nil {
				return err
			}
			if err := tx.Exec(ctx, q, []any{}, nil); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		},
		"migration": func(ctx context.Context, q string) error {
			m, err := drv.BeginMigration(ctx)
			if err != nil {
				return err
			}
			if err := m.Exec(ctx, q, []any{}, nil); err != nil {
				m.Rollback()
				return err
			}
			return m.Commit()
		},
	}
	migratetest.SequenceRows(t, db, fmt.Sprintf("cgs%d", time.Now().UnixNano()%1e9), ways)
}
