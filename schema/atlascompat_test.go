package schema_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// atlasDriver is Atlas's own SQLite driver on one connection of drv, as
// the Atlas CLI uses a dev database.
func atlasDriver(t *testing.T, drv *libsql.Driver) migrate.Driver {
	t.Helper()
	conn, err := drv.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	adrv, err := sqlite.Open(conn)
	if err != nil {
		t.Fatal(err)
	}
	return adrv
}

func atlasTables(noteNullable bool) (parents, children *atlas.Table) {
	parents = atlas.NewTable("a_parents").AddColumns(
		atlas.NewIntColumn("id", "integer"),
		atlas.NewStringColumn("note", "text"),
	)
	parents.Columns[1].Type.Null = noteNullable
	parents.SetPrimaryKey(atlas.NewPrimaryKey(parents.Columns[0]))
	children = atlas.NewTable("a_children").AddColumns(
		atlas.NewIntColumn("id", "integer"),
		atlas.NewIntColumn("parent_id", "integer"),
	)
	children.SetPrimaryKey(atlas.NewPrimaryKey(children.Columns[0]))
	children.AddForeignKeys(atlas.NewForeignKey("a_children_parent").
		AddColumns(children.Columns[1]).SetRefTable(parents).AddRefColumns(parents.Columns[0]).
		SetOnDelete(atlas.Cascade))
	return parents, children
}

// writeAtlasPlan plans changes with Atlas's SQLite driver and writes them
// with Atlas's Planner: a directory as the Atlas CLI writes it.
func writeAtlasPlan(t *testing.T, adrv migrate.Driver, dir migrate.Dir, version, name string, changes ...atlas.Change) string {
	t.Helper()
	plan, err := adrv.PlanChanges(context.Background(), name, changes)
	if err != nil {
		t.Fatal(err)
	}
	plan.Version = version
	before, _ := dir.Files()
	if err := migrate.NewPlanner(adrv, dir).WritePlan(plan); err != nil {
		t.Fatal(err)
	}
	after, _ := dir.Files()
	return after[len(before)].Name()
}

// A directory written by Atlas's own packages, including Atlas's table
// rebuild (with its PRAGMA foreign_keys lines), applies and keeps rows.
func TestAtlasWrittenDirectoryApplies(t *testing.T) {
	dev, target := freshDriver(t), freshDriver(t)
	adrv := atlasDriver(t, dev)
	dir := localDir(t)
	p1, c1 := atlasTables(false)
	writeAtlasPlan(t, adrv, dir, "20260101000000", "init", &atlas.AddTable{T: p1}, &atlas.AddTable{T: c1})
	apply(t, target, dir, schema.ApplyOptions{})
	db := target.DB()
	for i := 1; i <= 20; i++ {
		if _, err := db.Exec("INSERT INTO a_parents (id, note) VALUES (?, 'n')", i); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO a_children (parent_id) VALUES (?), (?)", i, i); err != nil {
			t.Fatal(err)
		}
	}
	p2, _ := atlasTables(true)
	second := writeAtlasPlan(t, adrv, dir, "20260102000000", "nullable", &atlas.ModifyTable{T: p2, Changes: []atlas.Change{
		&atlas.ModifyColumn{From: p1.Columns[1], To: p2.Columns[1], Change: atlas.ChangeNull},
	}})
	body := readFile(t, dir, second)
	if !strings.Contains(body, "PRAGMA foreign_keys = off") || !strings.Contains(body, "new_a_parents") {
		t.Fatalf("Atlas wrote no rebuild:\n%s", body)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); strings.Join(got, ",") != second {
		t.Fatalf("applied %v", got)
	}
	if n := migratetest.Count(t, db, "a_children"); n != 40 {
		t.Fatalf("%d of 40 child rows kept", n)
	}
	var notnull int
	if err := db.QueryRow("SELECT \"notnull\" FROM pragma_table_info('a_parents') WHERE name = 'note'").Scan(&notnull); err != nil || notnull != 0 {
		t.Fatalf("note is still NOT NULL (%d, %v)", notnull, err)
	}
	migratetest.ForeignKeysOnEverywhere(t, db)
}

func readFile(t *testing.T, dir migrate.Dir, name string) string {
	t.Helper()
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name() == name {
			return string(f.Bytes())
		}
	}
	t.Fatalf("no file %s", name)
	return ""
}

// A directory Diff writes passes Atlas's own checks: atlas.sum validates,
// and Atlas's executor replays every file on a fresh database, as
// `atlas migrate validate` does.
func TestDiffDirectoryPassesAtlasValidation(t *testing.T) {
	dev, scratch := freshDriver(t), freshDriver(t)
	dir := localDir(t)
	diff(t, dev, dir, "init", migratetest.NewFamily("val", false).Tables())
	time.Sleep(time.Second)
	diff(t, dev, dir, "nullable", migratetest.NewFamily("val", true).Tables())
	if err := migrate.Validate(dir); err != nil {
		t.Fatalf("Atlas's Validate: %v", err)
	}
	ex, err := migrate.NewExecutor(atlasDriver(t, scratch), dir, migrate.NopRevisionReadWriter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.ExecuteN(context.Background(), 0); err != nil {
		t.Fatalf("Atlas's executor replaying the directory: %v", err)
	}
}

// atlasCLIRevisionsDDL is the revisions table as the Atlas CLI creates it
// on SQLite (from its ent schema).
const atlasCLIRevisionsDDL = "CREATE TABLE `atlas_schema_revisions` (`version` text NOT NULL, `description` text NOT NULL, " +
	"`type` integer NOT NULL DEFAULT (2), `applied` integer NOT NULL DEFAULT (0), `total` integer NOT NULL DEFAULT (0), " +
	"`executed_at` datetime NOT NULL, `execution_time` integer NOT NULL, `error` text NULL, `error_stmt` text NULL, " +
	"`hash` text NOT NULL, `partial_hashes` json NULL, `operator_version` text NOT NULL, PRIMARY KEY (`version`))"

// Work started by the Atlas CLI continues here: its revisions table (with
// its identifier row and go-sqlite3 times) is read, kept as it is, and
// the next file applied.
func TestContinuesAtlasCLIWork(t *testing.T) {
	dev, target := freshDriver(t), freshDriver(t)
	dir := localDir(t)
	first := diff(t, dev, dir, "init", migratetest.NewFamily("cli", false).Tables())
	time.Sleep(time.Second)
	second := diff(t, dev, dir, "nullable", migratetest.NewFamily("cli", true).Tables())
	db := target.DB()
	// What `atlas migrate apply` leaves after the first file.
	ex, err := migrate.NewExecutor(atlasDriver(t, target), firstOnly(t, dir), migrate.NopRevisionReadWriter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.ExecuteN(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	sum, _ := dir.Checksum()
	hash, _ := sum.SumByName(first)
	for _, q := range []string{
		atlasCLIRevisionsDDL,
		"INSERT INTO atlas_schema_revisions VALUES ('.atlas_cloud_identifier', '8c3e1f36-0d43-4c55-9c7b-1f6f5d0f2a11', 2, 0, 0, '2026-11-20 10:00:00.123456789+00:00', 0, NULL, NULL, '', NULL, 'Atlas CLI v0.32.0')",
		fmt.Sprintf("INSERT INTO atlas_schema_revisions VALUES ('%s', 'init', 2, 9, 9, '2026-11-20 10:00:01.5+01:00', 1234567, NULL, NULL, '%s', NULL, 'Atlas CLI v0.32.0')",
			strings.SplitN(first, "_", 2)[0], hash),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st := status(t, target, dir)
	if len(st.Applied) != 1 || len(st.Pending) != 1 || st.Pending[0].Name() != second || st.Applied[0].OperatorVersion != "Atlas CLI v0.32.0" {
		t.Fatalf("status of the Atlas CLI's work: %+v", st)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); strings.Join(got, ",") != second {
		t.Fatalf("applied %v, want only %s", got, second)
	}
	var ddl string
	if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'atlas_schema_revisions'").Scan(&ddl); err != nil || ddl != atlasCLIRevisionsDDL {
		t.Fatalf("the revisions table changed (%v):\n%s", err, ddl)
	}
	if revs := revisionRows(t, db); len(revs) != 3 || !strings.HasPrefix(revs[0], ".atlas_cloud_identifier") {
		t.Fatalf("revisions: %v", revs)
	}
}

// firstOnly copies the first file of dir, with its atlas.sum.
func firstOnly(t *testing.T, dir migrate.Dir) migrate.Dir {
	t.Helper()
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	mem := &migrate.MemDir{}
	if err := mem.CopyFiles(files[:1]); err != nil {
		t.Fatal(err)
	}
	if err := schema.Hash(mem); err != nil {
		t.Fatal(err)
	}
	return mem
}

// Runs applying the same directory at once never run a file twice: each
// file's statements (an INSERT among them) take effect once, and a run
// that finds a file done by another skips it. The migration transaction's
// BEGIN IMMEDIATE makes them queue.
func TestConcurrentApply(t *testing.T) {
	// sqld's default WAL can wedge under concurrent writers (see the
	// README); libsql-wal does not.
	url := freshServer(t, "--use-custom-wal", "libsql-wal")
	dir := localDir(t)
	const files = 5
	for i := 1; i <= files; i++ {
		body := fmt.Sprintf("CREATE TABLE t%d (id integer PRIMARY KEY, v text);\nINSERT INTO t%d (v) VALUES ('once');\n", i, i)
		if i > 1 {
			body += fmt.Sprintf("INSERT INTO t1 (v) VALUES ('file %d');\n", i)
		}
		if err := dir.WriteFile(fmt.Sprintf("%d_t%d.sql", i, i), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := schema.Hash(dir); err != nil {
		t.Fatal(err)
	}
	const runs = 4
	var (
		wg   sync.WaitGroup
		errs = make([]error, runs)
	)
	for i := range runs {
		drv := openURL(t, url)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = schema.Apply(context.Background(), drv, dir, schema.ApplyOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	drv := openURL(t, url)
	if got := apply(t, drv, dir, schema.ApplyOptions{}); len(got) != 0 {
		t.Fatalf("after the concurrent runs, %v were still pending", got)
	}
	db := drv.DB()
	for i := 1; i <= files; i++ {
		want := 1
		if i == 1 {
			want = files
		}
		if n := migratetest.Count(t, db, fmt.Sprintf("t%d", i)); n != want {
			t.Fatalf("t%d has %d rows, want %d: a file ran twice or not at all", i, n, want)
		}
	}
	if revs := revisionRows(t, db); len(revs) != files {
		t.Fatalf("revisions: %v", revs)
	}
	if st := status(t, drv, dir); !st.UpToDate() || st.Failed != nil {
		t.Fatalf("status: %+v", st)
	}
}
