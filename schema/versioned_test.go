package schema_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/schema"
)

// freshServer starts a sqld of its own, so that the database is empty as
// a first versioned migration (and a dev database) requires, and returns
// its URL.
func freshServer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := sqldtest.Start(ctx, sqldtest.Options{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv.URL()
}

func openURL(t *testing.T, url string) *libsql.Driver {
	t.Helper()
	drv, err := libsql.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return drv
}

func freshDriver(t *testing.T) *libsql.Driver { return openURL(t, freshServer(t)) }

func localDir(t *testing.T) *migrate.LocalDir {
	t.Helper()
	dir, err := migrate.NewLocalDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// diff writes the next migration file and returns its name.
func diff(t *testing.T, dev *libsql.Driver, dir migrate.Dir, name string, tables []*entschema.Table) string {
	t.Helper()
	file, err := schema.Diff(context.Background(), dev, dir, name, tables)
	if err != nil {
		t.Fatalf("diff %s: %v", name, err)
	}
	if file == "" {
		t.Fatalf("diff %s wrote no file", name)
	}
	return file
}

func apply(t *testing.T, drv *libsql.Driver, dir migrate.Dir, opts schema.ApplyOptions) []string {
	t.Helper()
	files, err := schema.Apply(context.Background(), drv, dir, opts)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return names(files)
}

// writeHashed writes a migration file and rehashes the directory.
func writeHashed(t *testing.T, dir migrate.Dir, name, body string) {
	t.Helper()
	if err := dir.WriteFile(name, []byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := schema.Hash(dir); err != nil {
		t.Fatal(err)
	}
}

func names(files []migrate.File) []string {
	var ns []string
	for _, f := range files {
		ns = append(ns, f.Name())
	}
	return ns
}

func status(t *testing.T, drv *libsql.Driver, dir migrate.Dir) *schema.StatusReport {
	t.Helper()
	st, err := schema.Status(context.Background(), drv, dir, "")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st
}

// revisionRows reads the revisions table as text, one row per line.
func revisionRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT version, type, applied, total, coalesce(error, ''), hash FROM atlas_schema_revisions ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, e, h string
		var typ, applied, total int
		if err := rows.Scan(&v, &typ, &applied, &total, &e, &h); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{v, strconv.Itoa(typ), strconv.Itoa(applied), strconv.Itoa(total), e, h}, " | "))
	}
	return out
}

// The whole workflow: diff v1, apply, fill, diff v2 (a rebuild of a parent
// table with cascading children), apply: every row kept; then nothing to
// diff, nothing pending.
func TestVersionedWorkflow(t *testing.T) {
	ctx := context.Background()
	dev, target := freshDriver(t), freshDriver(t)
	dir := localDir(t)

	v1 := migratetest.NewFamily("fam", false)
	first := diff(t, dev, dir, "init", v1.Tables())
	if st := status(t, target, dir); st.UpToDate() || len(st.Pending) != 1 || st.Current != "" {
		t.Fatalf("status before apply: %+v", st)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); len(got) != 1 || got[0] != first {
		t.Fatalf("applied %v, want [%s]", got, first)
	}
	migratetest.Fill(t, target.DB(), v1)
	before := strip(migratetest.Snapshot(t, target.DB(), v1.Tables()))

	time.Sleep(time.Second) // versions are timestamps in seconds
	v2 := migratetest.NewFamily("fam", true)
	second := diff(t, dev, dir, "note_nullable", v2.Tables())
	body, err := os.ReadFile(filepath.Join(dir.Path(), second))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "new_fam_parents") {
		t.Fatalf("expected a table rebuild in %s:\n%s", second, body)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); len(got) != 1 || got[0] != second {
		t.Fatalf("applied %v, want [%s]", got, second)
	}
	if after := strip(migratetest.Snapshot(t, target.DB(), v2.Tables())); after != before {
		t.Fatalf("rows changed by the rebuild:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := migratetest.Count(t, target.DB(), v2.Children.Name); n != migratetest.NumChildren {
		t.Fatalf("%d of %d child rows kept", n, migratetest.NumChildren)
	}
	migratetest.ForeignKeysOnEverywhere(t, target.DB())

	st := status(t, target, dir)
	if !st.UpToDate() || st.Failed != nil || st.Current != strings.SplitN(second, "_", 2)[0] || len(st.Applied) != 2 {
		t.Fatalf("status after apply: %+v", st)
	}
	if file, err := schema.Diff(ctx, dev, dir, "again", v2.Tables()); err != nil || file != "" {
		t.Fatalf("a second diff wrote %q (%v), want nothing", file, err)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); len(got) != 0 {
		t.Fatalf("a second apply ran %v", got)
	}
	// The revisions carry the files' atlas.sum hashes.
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	revs := revisionRows(t, target.DB())
	if len(revs) != 2 {
		t.Fatalf("revisions: %v", revs)
	}
	for i, name := range []string{first, second} {
		h, _ := sum.SumByName(name)
		if !strings.HasSuffix(revs[i], "| "+h) || !strings.Contains(revs[i], " | 2 | ") {
			t.Fatalf("revision %d = %q, want type 2 and hash %s", i, revs[i], h)
		}
	}
}

// A directory that does not match its atlas.sum runs nothing.
func TestApplyRefusesTamperedDirectory(t *testing.T) {
	dev, target := freshDriver(t), freshDriver(t)
	dir := localDir(t)
	v1 := migratetest.NewFamily("tam", false)
	first := diff(t, dev, dir, "init", v1.Tables())
	apply(t, target, dir, schema.ApplyOptions{})
	time.Sleep(time.Second)
	second := diff(t, dev, dir, "nullable", migratetest.NewFamily("tam", true).Tables())
	migratetest.Fill(t, target.DB(), v1)
	before := migratetest.Snapshot(t, target.DB(), v1.Tables())
	revsBefore := revisionRows(t, target.DB())

	path := filepath.Join(dir.Path(), second)
	orig, _ := os.ReadFile(path)
	firstPath := filepath.Join(dir.Path(), first)
	firstOrig, _ := os.ReadFile(firstPath)
	refused := func(what, want string) {
		t.Helper()
		_, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: apply returned %v, want an error naming %q", what, err, want)
		}
		if _, err := schema.Status(context.Background(), target, dir, ""); err == nil {
			t.Fatalf("%s: status accepted the directory", what)
		}
		if after := migratetest.Snapshot(t, target.DB(), v1.Tables()); after != before {
			t.Fatalf("%s: the database changed", what)
		}
		if got := revisionRows(t, target.DB()); strings.Join(got, "\n") != strings.Join(revsBefore, "\n") {
			t.Fatalf("%s: revisions changed: %v", what, got)
		}
	}
	// An applied file edited, a pending one edited, an unknown one added.
	if err := os.WriteFile(firstPath, []byte("-- edited\nDROP TABLE tam_children;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused("applied file edited", first+" was edited")
	if err := os.WriteFile(firstPath, firstOrig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(orig, []byte("DROP TABLE tam_tags;\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	refused("pending file edited", second+" was edited")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir.Path(), "99990101000000_extra.sql"), []byte("DROP TABLE tam_tags;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused("unknown file", "99990101000000_extra.sql was added")
}

// A failing file is rolled back whole, the database stays at the last
// good version with the failure recorded, and a fixed file then applies.
func TestApplyFailingFile(t *testing.T) {
	target := freshDriver(t)
	dir := localDir(t)
	write := func(name, body string) { t.Helper(); writeHashed(t, dir, name, body) }
	write("1_base.sql", "CREATE TABLE base (id integer PRIMARY KEY, name text NOT NULL);\nINSERT INTO base (name) VALUES ('kept');\n")
	write("2_more.sql", "CREATE TABLE more (id integer PRIMARY KEY);\nINSERT INTO base (name) VALUES ('rolled back');\nINSERT INTO missing (x) VALUES (1);\n")
	_, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{})
	var fe *schema.FileError
	if !errors.As(err, &fe) || fe.File != "2_more.sql" || fe.Index != 3 || !strings.Contains(fe.Stmt, "missing") ||
		!strings.Contains(err.Error(), "2_more.sql, statement 3") || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("apply returned %v, want a FileError for 2_more.sql statement 3", err)
	}
	db := target.DB()
	if n := migratetest.Count(t, db, "base"); n != 1 {
		t.Fatalf("base has %d rows, want the 1 of version 1", n)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'more'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("table more exists (%d, %v): the failed file was not rolled back", n, err)
	}
	st := status(t, target, dir)
	if st.Current != "1" || st.Failed == nil || !strings.Contains(st.Failed.Error, "no such table") ||
		!strings.Contains(st.Failed.ErrorStmt, "missing") || st.Failed.Applied != 0 || len(st.Pending) != 1 {
		t.Fatalf("status after the failure: %+v (failed %+v)", st, st.Failed)
	}
	// Re-running fails the same way, changing nothing.
	if _, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{}); !errors.As(err, &fe) {
		t.Fatalf("second apply: %v", err)
	}
	write("2_more.sql", "CREATE TABLE more (id integer PRIMARY KEY);\nINSERT INTO base (name) VALUES ('second');\n")
	if got := apply(t, target, dir, schema.ApplyOptions{}); strings.Join(got, ",") != "2_more.sql" {
		t.Fatalf("applied %v after the fix", got)
	}
	if n := migratetest.Count(t, db, "base"); n != 2 {
		t.Fatalf("base has %d rows, want 2", n)
	}
	if st := status(t, target, dir); !st.UpToDate() || st.Failed != nil || st.Current != "2" {
		t.Fatalf("status after the fix: %+v", st)
	}
}

// A file whose statements leave a foreign key broken is refused whole.
func TestApplyRefusesBrokenForeignKeys(t *testing.T) {
	target := freshDriver(t)
	dir := localDir(t)
	writeHashed(t, dir, "1_tables.sql",
		"CREATE TABLE p (id integer PRIMARY KEY);\nCREATE TABLE c (id integer PRIMARY KEY, p_id integer NOT NULL REFERENCES p (id) ON DELETE CASCADE);\n"+
			"INSERT INTO p (id) VALUES (1);\nINSERT INTO c (p_id) VALUES (1);\n")
	// With foreign keys off, deleting the parent leaves the child dangling
	// (no cascade): the file must be refused, not committed.
	writeHashed(t, dir, "2_orphan.sql", "DELETE FROM p;\n")
	_, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "2_orphan.sql") || !strings.Contains(err.Error(), "foreign key") {
		t.Fatalf("apply returned %v, want 2_orphan.sql refused for a foreign key", err)
	}
	if migratetest.Count(t, target.DB(), "p") != 1 || migratetest.Count(t, target.DB(), "c") != 1 {
		t.Fatal("the refused file changed rows")
	}
}

// A database that has tables but no revisions needs a baseline; a dry run
// changes nothing.
func TestApplyBaselineAndDryRun(t *testing.T) {
	dev, target := freshDriver(t), freshDriver(t)
	dir := localDir(t)
	v1 := migratetest.NewFamily("base", false)
	first := diff(t, dev, dir, "init", v1.Tables())
	time.Sleep(time.Second)
	second := diff(t, dev, dir, "nullable", migratetest.NewFamily("base", true).Tables())
	// The database was made by Schema.Create before versioned migrations.
	migratetest.Created(t, target, target.DB(), "base", false)

	_, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "baseline") {
		t.Fatalf("apply on a database with tables returned %v, want a request for a baseline", err)
	}
	var dry []string
	got, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{
		DryRun: true, Baseline: strings.SplitN(first, "_", 2)[0],
		Log: func(e schema.ApplyEvent) {
			if e.Stmt != "" {
				dry = append(dry, e.Stmt)
			}
		},
	})
	if err != nil || strings.Join(names(got), ",") != second || len(dry) == 0 {
		t.Fatalf("dry run: %v %v, %d statements", names(got), err, len(dry))
	}
	var n int
	if err := target.DB().QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'atlas_schema_revisions'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the dry run created the revisions table (%d, %v)", n, err)
	}
	got, err = schema.Apply(context.Background(), target, dir, schema.ApplyOptions{Baseline: strings.SplitN(first, "_", 2)[0]})
	if err != nil || strings.Join(names(got), ",") != second {
		t.Fatalf("apply with a baseline: %v %v", names(got), err)
	}
	revs := revisionRows(t, target.DB())
	if len(revs) != 2 || !strings.Contains(revs[0], " | 1 | 0 | 0 | ") {
		t.Fatalf("revisions: %v (want a baseline row first)", revs)
	}
	if n := migratetest.Count(t, target.DB(), v1.Children.Name); n != migratetest.NumChildren {
		t.Fatalf("%d child rows kept", n)
	}
}

// commitFailing is a proxy in front of a sqld that makes the first COMMIT
// after a request carrying marker fail on the server, as when sqld ends a
// transaction: the COMMIT step becomes a statement that fails (an integer
// overflow), and the batch's conditional ROLLBACK then runs, so the server
// rolls the transaction back for real. See TestApplyCommitFails.
func commitFailing(t *testing.T, target, marker string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var (
		mu   sync.Mutex
		seen bool // a request carried marker; the next COMMIT fails
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen = seen || bytes.Contains(body, []byte(marker))
		if seen && bytes.Contains(body, []byte(`"sql":"COMMIT"`)) {
			body = bytes.Replace(body, []byte(`"sql":"COMMIT"`), []byte(`"sql":"SELECT abs(-9223372036854775808)"`), 1)
			seen = false
		}
		mu.Unlock()
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		r.Header.Del("Content-Length")
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A file whose COMMIT fails is not applied, and stays pending with the
// failure recorded; the next run applies it.
func TestApplyCommitFails(t *testing.T) {
	server := freshServer(t)
	target := openURL(t, server)
	dir := localDir(t)
	writeHashed(t, dir, "1_a.sql", "CREATE TABLE a (id integer PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n")
	_, err := schema.Apply(context.Background(), openURL(t, commitFailing(t, server, "INSERT INTO a")), dir, schema.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "1_a.sql") || !strings.Contains(err.Error(), "COMMIT") {
		t.Fatalf("apply returned %v, want the COMMIT failure of 1_a.sql", err)
	}
	st := status(t, target, dir)
	if st.UpToDate() || st.Failed == nil || st.Failed.Applied != 0 || st.Current != "" {
		t.Fatalf("after a failed COMMIT: %+v (failed %+v)", st, st.Failed)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); strings.Join(got, ",") != "1_a.sql" {
		t.Fatalf("the next run applied %v", got)
	}
	if n := migratetest.Count(t, target.DB(), "a"); n != 1 {
		t.Fatalf("a has %d rows", n)
	}
}

// Files are split as the Atlas CLI splits them: a trigger's BEGIN ... END
// is one statement.
func TestApplyTriggerFile(t *testing.T) {
	target := freshDriver(t)
	dir := localDir(t)
	writeHashed(t, dir, "1_trigger.sql", `CREATE TABLE items (id integer PRIMARY KEY, n integer NOT NULL);
CREATE TABLE audit (item integer NOT NULL, note text NOT NULL);
CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN
  INSERT INTO audit (item, note) VALUES (new.id, 'added');
  INSERT INTO audit (item, note) VALUES (new.id, 'counted');
END;
INSERT INTO items (n) VALUES (7);
`)
	apply(t, target, dir, schema.ApplyOptions{})
	if n := migratetest.Count(t, target.DB(), "audit"); n != 2 {
		t.Fatalf("audit has %d rows, want the trigger's 2", n)
	}
	if revs := revisionRows(t, target.DB()); len(revs) != 1 || !strings.Contains(revs[0], " | 4 | 4 | ") {
		t.Fatalf("revisions: %v (want 4 statements)", revs)
	}
}

// A failed file that is then deleted (to diff again, say) leaves no row
// behind that would look like a partly applied file.
func TestApplyAfterFailedFileRemoved(t *testing.T) {
	target := freshDriver(t)
	dir := localDir(t)
	write := func(name, body string) { t.Helper(); writeHashed(t, dir, name, body) }
	write("1_a.sql", "CREATE TABLE a (id integer PRIMARY KEY);\n")
	write("2_bad.sql", "CREATE TABLE b (id integer PRIMARY KEY);\nINSERT INTO nope VALUES (1);\n")
	if _, err := schema.Apply(context.Background(), target, dir, schema.ApplyOptions{}); err == nil {
		t.Fatal("the bad file applied")
	}
	if err := os.Remove(filepath.Join(dir.Path(), "2_bad.sql")); err != nil {
		t.Fatal(err)
	}
	write("3_good.sql", "CREATE TABLE c (id integer PRIMARY KEY);\n")
	if st := status(t, target, dir); st.Failed != nil || len(st.Pending) != 1 || st.Pending[0].Name() != "3_good.sql" {
		t.Fatalf("status: %+v (failed %+v)", st, st.Failed)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); strings.Join(got, ",") != "3_good.sql" {
		t.Fatalf("applied %v", got)
	}
	if revs := revisionRows(t, target.DB()); len(revs) != 2 || strings.HasPrefix(revs[1], "2 ") {
		t.Fatalf("revisions: %v (the failed file's row should be gone)", revs)
	}
}

// A driver that cannot run a migration transaction (a plain ent driver
// over a pool, where PRAGMA foreign_keys and the transaction would land
// on different connections) is refused before any statement runs.
func TestApplyRefusesPlainDriver(t *testing.T) {
	target := freshDriver(t)
	db := target.DB()
	plain := entsql.OpenDB(dialect.SQLite, db)
	dir := localDir(t)
	writeHashed(t, dir, "1_a.sql", "CREATE TABLE a (id integer PRIMARY KEY);\n")
	_, err := schema.Apply(context.Background(), plain, dir, schema.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "libsql.Open") || !strings.Contains(err.Error(), "foreign keys off") {
		t.Fatalf("apply through a plain driver returned %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'a'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("table a exists (%d, %v)", n, err)
	}
}

// Applying files costs few requests: each file's statements, its revision
// row and COMMIT travel together. Counted through a proxy: 25 requests
// for 3 two-statement files (52 before the statements and the revision
// were batched, 34 before foreign keys were read only when a statement
// can break one), 10 when nothing is pending.
func TestRequestsPerApply(t *testing.T) {
	p, err := sqldtest.NewProxy(freshServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	drv := openURL(t, p.URL())
	dir := localDir(t)
	writeHashed(t, dir, "1_a.sql", "CREATE TABLE a (id integer PRIMARY KEY);\n")
	apply(t, drv, dir, schema.ApplyOptions{})
	for i := 2; i <= 4; i++ {
		writeHashed(t, dir, fmt.Sprintf("%d_t.sql", i), fmt.Sprintf("CREATE TABLE t%d (id integer PRIMARY KEY);\nCREATE INDEX i%d ON t%d (id);\n", i, i, i))
	}
	p.Reset()
	apply(t, drv, dir, schema.ApplyOptions{})
	n := p.Requests()
	p.Reset()
	apply(t, drv, dir, schema.ApplyOptions{})
	idle := p.Requests()
	t.Logf("applying 3 files: %d requests; nothing pending: %d", n, idle)
	if n > 27 || idle > 11 {
		t.Fatalf("applying 3 files took %d requests (want at most 27), nothing pending %d (want at most 11)", n, idle)
	}
}
