package libsql_test

import (
	"bytes"
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"

	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

func TestMigrationRebuildKeepsRows(t *testing.T) {
	drv := openDriver(t, "")
	migratetest.RebuildKeepsRows(t, drv, drv.DB(), prefixFor(t))
}

// prefixFor names a test's tables, unique to this run.
func prefixFor(t *testing.T) string {
	return strings.ToLower(fmt.Sprintf("m%s%d_%d", sanitize(t.Name())[4:], runID, tableSeq.Add(1)))
}

// A migration that fails at a statement leaves every row and the schema
// text as they were, and names the statement.
func TestFailingMigrationChangesNothing(t *testing.T) {
	drv := openDriver(t, "")
	db, ctx := drv.DB(), context.Background()
	prefix := prefixFor(t)
	v1 := migratetest.Created(t, drv, db, prefix, false)
	before := migratetest.Snapshot(t, db, v1.Tables())

	// Rebuild the parents (note nullable), then a unique index over
	// duplicate values: the index fails after the rebuild ran.
	v2 := migratetest.NewFamily(prefix, true)
	v2.Parents.Indexes = []*entschema.Index{{Name: prefix + "_note_unique", Unique: true, Columns: v2.Parents.Columns[2:3]}}
	err := migratetest.Migrate(ctx, drv, v2.Tables())
	if err == nil {
		t.Fatal("a unique index over duplicates succeeded")
	}
	if !strings.Contains(err.Error(), "CREATE UNIQUE INDEX") || !strings.Contains(err.Error(), "UNIQUE constraint failed") {
		t.Fatalf("the error does not name the statement and the cause: %v", err)
	}
	if after := migratetest.Snapshot(t, db, v1.Tables()); after != before {
		t.Fatalf("the failed migration changed the database:\nbefore:\n%.1500s\nafter:\n%.1500s", before, after)
	}
	migratetest.ForeignKeysOnEverywhere(t, db)
}

// Running the same migration again plans nothing: no transaction, no
// pragma.
func TestMigrationTwiceIsNoop(t *testing.T) {
	drv, proxy := proxied(t)
	ctx := context.Background()
	f := migratetest.NewFamily(prefixFor(t), false)
	if err := migratetest.Migrate(ctx, drv, f.Tables()); err != nil {
		t.Fatal(err)
	}
	proxy.ResetLog()
	if err := migratetest.Migrate(ctx, drv, f.Tables()); err != nil {
		t.Fatal(err)
	}
	for _, r := range proxy.Log() {
		for _, bad := range []string{"BEGIN", "foreign_keys =", "CREATE", "ALTER", "INSERT"} {
			if bytes.Contains(r.Body, []byte(bad)) {
				t.Fatalf("the second run sent %s: %s", bad, r.Body)
			}
		}
	}
}

// While a migration runs with foreign keys off on its stream, the rest
// of the application's traffic keeps them on.
func TestMigrationTrafficKeepsForeignKeys(t *testing.T) {
	drv := openDriver(t, "")
	db, ctx := drv.DB(), context.Background()
	prefix := prefixFor(t)
	v1 := migratetest.Created(t, drv, db, prefix, false)

	done := make(chan error, 1)
	go func() { done <- migratetest.Migrate(ctx, drv, migratetest.NewFamily(prefix, true).Tables()) }()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				var on int
				if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
					errs <- fmt.Errorf("autocommit: foreign_keys = %d, %v", on, err)
				}
				tx, err := drv.Tx(ctx)
				if err != nil {
					errs <- err
					continue
				}
				orphan := fmt.Sprintf("INSERT INTO %s (label, parent_id) VALUES ('orphan', 999999)", v1.Children.Name)
				if err := tx.Exec(ctx, orphan, []any{}, nil); err == nil {
					errs <- fmt.Errorf("a transaction during the migration ran with foreign keys off")
				}
				tx.Rollback()
			}
		}()
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := migratetest.Count(t, db, v1.Children.Name); n != migratetest.NumChildren {
		t.Fatalf("%d of %d child rows kept", n, migratetest.NumChildren)
	}
}

// ent's global unique IDs: each table's IDs start at its index << 32, as
// ent documents. Atlas writes these starts with double-quoted strings,
// which sqld refuses; the driver rewrites them.
func TestGlobalUniqueIDs(t *testing.T) {
	drv := openDriver(t, "")
	db, ctx := drv.DB(), context.Background()
	f := migratetest.NewFamily(prefixFor(t), false)
	tables := []*entschema.Table{f.Parents, f.Tags}
	if err := migratetest.Migrate(ctx, drv, tables, entschema.WithGlobalUniqueID(true)); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		var idx int64
		// The table's position in ent_types, from 0.
		q := "SELECT count(*) FROM ent_types WHERE id < (SELECT id FROM ent_types WHERE type = ?)"
		if err := db.QueryRowContext(ctx, q, tb.Name).Scan(&idx); err != nil {
			t.Fatalf("ent_types row of %s: %v", tb.Name, err)
		}
		var cols, vals string
		if tb == f.Parents {
			cols, vals = "name, note", "'x', 'y'"
		} else {
			cols, vals = "name", "'x'"
		}
		var id int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) RETURNING id", tb.Name, cols, vals)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if want := idx<<32 + 1; id != want {
			t.Fatalf("first id of %s = %d, want %d (type index %d)", tb.Name, id, want, idx)
		}
	}
	// Again: nothing to do.
	if err := migratetest.Migrate(ctx, drv, tables, entschema.WithGlobalUniqueID(true)); err != nil {
		t.Fatal(err)
	}
}

// A migration that would leave rows breaking a foreign key is rolled back
// by the check before COMMIT, and the error names the table and the row.
func TestMigrationForeignKeyViolationsRollBack(t *testing.T) {
	drv := openDriver(t, "")
	db, ctx := drv.DB(), context.Background()
	prefix := prefixFor(t)
	loose := migratetest.NewFamily(prefix, false)
	loose.Children.ForeignKeys = nil // parent_id not checked yet
	tables := []*entschema.Table{loose.Parents, loose.Children}
	if err := migratetest.Migrate(ctx, drv, tables); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (id, label, parent_id) VALUES (7, 'orphan', 424242)", loose.Children.Name)); err != nil {
		t.Fatal(err)
	}
	before := migratetest.Snapshot(t, db, tables)
	strict := migratetest.NewFamily(prefix, false)
	err := migratetest.Migrate(ctx, drv, []*entschema.Table{strict.Parents, strict.Children})
	if err == nil {
		t.Fatal("adding a foreign key over an orphan row succeeded")
	}
	if !strings.Contains(err.Error(), loose.Children.Name) || !strings.Contains(err.Error(), "row:7") {
		t.Fatalf("the error does not name the table and row: %v", err)
	}
	if after := migratetest.Snapshot(t, db, tables); after != before {
		t.Fatal("the rolled-back migration changed the database")
	}
	migratetest.ForeignKeysOnEverywhere(t, db)
}

// Violations that were there before the migration do not fail it, as
// with Atlas on SQLite: only new ones do.
func TestMigrationToleratesOldViolations(t *testing.T) {
	drv := openDriver(t, "")
	db, ctx := drv.DB(), context.Background()
	prefix := prefixFor(t)
	v1 := migratetest.Created(t, drv, db, prefix, false)
	conn := stickyConn(t, drv) // foreign keys off on this one
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (id, label, parent_id) VALUES (9999, 'old orphan', 777777)", v1.Children.Name)); err != nil {
		t.Fatal(err)
	}
	// Discard the connection rather than pool it with foreign keys off.
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
	if err := migratetest.Migrate(ctx, drv, migratetest.NewFamily(prefix, true).Tables()); err != nil {
		t.Fatalf("a rebuild over an old violation failed: %v", err)
	}
	if n := migratetest.Count(t, db, v1.Children.Name); n != migratetest.NumChildren+1 {
		t.Fatalf("%d children, want %d", n, migratetest.NumChildren+1)
	}
}

// Several migrations at once on one driver each keep their child rows.
// Concurrent writers: on a libsql-wal sqld, as TestConcurrentGoroutines.
func TestConcurrentMigrations(t *testing.T) {
	drv := openDriver(t, concurrencyURL(t))
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t.Run(fmt.Sprintf("family%d", i), func(t *testing.T) {
				migratetest.RebuildKeepsRows(t, drv, drv.DB(), fmt.Sprintf("%s_%d", prefixFor(t), i))
			})
		}(i)
	}
	wg.Wait()
}

// txRequests counts the requests of the migration transaction in a proxy
// log: from the one that sends BEGIN to the one that sends COMMIT.
func txRequests(t *testing.T, log []sqldtest.RequestRecord) (n int, planInOne bool) {
	t.Helper()
	in := false
	for _, r := range log {
		if bytes.Contains(r.Body, []byte(`"BEGIN`)) {
			in = true
		}
		if in {
			n++
		}
		if in && bytes.Contains(r.Body, []byte(`"COMMIT"`)) {
			return n, bytes.Count(r.Body, []byte(`"sql":"CREATE TABLE`)) > 1
		}
	}
	t.Fatalf("no migration transaction in %d requests", len(log))
	return 0, false
}

// A migration's plan travels in few requests: the statements that need no
// result go together, with COMMIT.
func TestRequestsPerMigration(t *testing.T) {
	drv, proxy := proxied(t)
	ctx := context.Background()
	prefix := prefixFor(t)

	proxy.ResetLog()
	if err := migratetest.Migrate(ctx, drv, migratetest.NewFamily(prefix, false).Tables()); err != nil {
		t.Fatal(err)
	}
	n, together := txRequests(t, proxy.Log())
	t.Logf("creating 4 tables: %d requests in the transaction", n)
	// One: BEGIN IMMEDIATE, the CREATEs and COMMIT; Atlas's foreign-key
	// checks need no request (nothing could break a foreign key).
	if n > 1 || !together {
		t.Fatalf("creating 4 tables took %d requests in the transaction (the CREATEs together: %v), want 1", n, together)
	}
	migratetest.Fill(t, drv.DB(), migratetest.NewFamily(prefix, false))

	proxy.ResetLog()
	if err := migratetest.Migrate(ctx, drv, migratetest.NewFamily(prefix, true).Tables()); err != nil {
		t.Fatal(err)
	}
	n, _ = txRequests(t, proxy.Log())
	t.Logf("rebuilding the parent table: %d requests in the transaction", n)
	// 6, and the two reads of the catalog with which the driver checks
	// that ent's plain rebuild loses nothing (see rebuildGuard).
	if n > 8 {
		t.Fatalf("a rebuild took %d requests in the transaction, want at most 8", n)
	}
	if c := migratetest.Count(t, drv.DB(), prefix+"_children"); c != migratetest.NumChildren {
		t.Fatalf("%d child rows kept", c)
	}
}

// ent's own migration files write sqlite_sequence rows with double
// quotes; they run wherever the driver runs them.
func TestSequenceRowsEverywhere(t *testing.T) {
	drv := openDriver(t, "")
	migratetest.SequenceRows(t, drv.DB(), prefixFor(t), sequenceWays(drv, true))
}

// sequenceWays are the ways a statement reaches drv: ent's Exec, a
// transaction, a migration, and (for this driver's own connections) the
// *sql.DB itself.
func sequenceWays(drv *libsql.Driver, raw bool) map[string]func(context.Context, string) error {
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
	if raw {
		ways["sql.DB"] = func(ctx context.Context, q string) error { _, err := drv.DB().ExecContext(ctx, q); return err }
	}
	return ways
}
