package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/libsqltest"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// devLeftovers lists what a database holds besides SQLite's own objects,
// and the rows of sqlite_sequence.
func devLeftovers(t *testing.T, drv *libsql.Driver) []string {
	t.Helper()
	rows, err := drv.DB().Query("SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' " +
		"UNION ALL SELECT 'sqlite_sequence row ' || name FROM sqlite_sequence")
	if err != nil && strings.Contains(err.Error(), "no such table: sqlite_sequence") {
		rows, err = drv.DB().Query("SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var left []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		left = append(left, s)
	}
	return left
}

// TestDiffEmptiesTheDevDatabase: a directory whose files make a view, a
// trigger, a libSQL vector index (with its shadow tables), an FTS5 table
// and sqlite_sequence rows leaves nothing on the dev database, so the next
// diff replays it again; a dev database that is not empty is refused and
// left alone.
func TestDiffEmptiesTheDevDatabase(t *testing.T) {
	ctx := context.Background()
	dev := openURL(t, libsqltest.URL(t))
	path := t.TempDir()
	extras := "CREATE TABLE `docs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `body` text NOT NULL, `emb` F32_BLOB(3) NULL);\n" +
		"INSERT INTO `docs` (`body`, `emb`) VALUES ('a', vector32('[1,2,3]'));\n" +
		"CREATE INDEX `docs_emb` ON `docs` (libsql_vector_idx(`emb`));\n" +
		"CREATE VIEW `doc_bodies` AS SELECT `body` FROM `docs`;\n" +
		"CREATE TRIGGER `docs_touch` AFTER UPDATE ON `docs` BEGIN SELECT 1; END;\n" +
		"CREATE VIRTUAL TABLE `docs_fts` USING fts5(`body`);\n"
	if err := os.WriteFile(filepath.Join(path, "20240101000000_extras.sql"), []byte(extras), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Hash(dir); err != nil {
		t.Fatal(err)
	}
	v1 := migratetest.NewFamily("dc", false)
	diff(t, dev, dir, "family", v1.Tables())
	if left := devLeftovers(t, dev); len(left) != 0 {
		t.Fatalf("the dev database still holds %v", left)
	}
	// The next diff replays both files on the same dev database.
	if file, err := schema.Diff(ctx, dev, dir, "again", v1.Tables()); err != nil || file != "" {
		t.Fatalf("second diff: %q, %v", file, err)
	}
	if left := devLeftovers(t, dev); len(left) != 0 {
		t.Fatalf("after the second diff the dev database holds %v", left)
	}

	// A dev database with anything in it, a view alone, is refused and kept.
	if _, err := dev.DB().Exec("CREATE VIEW mine AS SELECT 1"); err != nil {
		t.Fatal(err)
	}
	_, err = schema.Diff(ctx, dev, dir, "refused", v1.Tables())
	if err == nil || !strings.Contains(err.Error(), `must be empty (found view "mine"`) {
		t.Fatalf("a dev database with a view: %v", err)
	}
	if left := devLeftovers(t, dev); len(left) != 1 {
		t.Fatalf("the refused dev database was changed: %v", left)
	}
}
