package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/libsqltest"
)

// server starts a sqld of its own: an empty database.
func server(t *testing.T) string { return libsqltest.URL(t) }

// cli runs the command and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// ok runs the command, which must succeed, and returns its output.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out := cli(t, args...)
	if code != exitOK {
		t.Fatalf("entlibsql %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// The workflow of the README, end to end: diff two versions of an ent
// schema (the second rebuilds a parent table with cascading children),
// apply them to sqld, and check status, rows and refusals on the way.
func TestMigrateWorkflow(t *testing.T) {
	target := server(t)
	dir := "file://" + t.TempDir()

	// First version, on the default (embedded) dev database.
	// ent://testdata/v1 as Atlas users write it: a directory, not an
	// import path.
	out := ok(t, "migrate", "diff", "init", "--dir", dir, "--to", "ent://testdata/v1")
	mustContain(t, out, "_init.sql", "atlas.sum")
	out = ok(t, "migrate", "status", "--dir", dir, "--url", target)
	mustContain(t, out, "pending: 1 file", "version none", "_init.sql")
	out = ok(t, "migrate", "apply", "--dir", dir, "--url", target, "-v")
	mustContain(t, out, "_init.sql: ok", "CREATE TABLE `parents`", "applied 1 file")
	out = ok(t, "migrate", "status", "--dir", dir, "--url", target)
	mustContain(t, out, "up to date", "1 file applied")

	drv, err := libsql.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	db := drv.DB()
	for i := 1; i <= 20; i++ {
		if _, err := db.Exec("INSERT INTO parents (id, name, note) VALUES (?, 'p', 'n')", i); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO kids (label, parent_children) VALUES ('a', ?), ('b', ?), ('c', ?)", i, i, i); err != nil {
			t.Fatal(err)
		}
	}

	// Second version, on a scratch sqld as the dev database.
	time.Sleep(time.Second) // versions are timestamps in seconds
	out = ok(t, "migrate", "diff", "note_optional", "--dir", dir, "--to", "ent://./testdata/v2", "--dev-url", server(t))
	mustContain(t, out, "_note_optional.sql")
	out = ok(t, "migrate", "apply", "--dir", dir, "--url", target, "--dry-run")
	mustContain(t, out, "would apply", "new_parents", "nothing was changed")
	if n := count(t, db, "SELECT count(*) FROM pragma_table_info('parents') WHERE name = 'rank'"); n != 0 {
		t.Fatal("the dry run changed the schema")
	}
	out = ok(t, "migrate", "apply", "--dir", dir, "--url", target)
	mustContain(t, out, "_note_optional.sql: ok", "applied 1 file")
	if n := count(t, db, "SELECT count(*) FROM kids"); n != 60 {
		t.Fatalf("%d of 60 child rows kept by the rebuild", n)
	}
	if n := count(t, db, "SELECT count(*) FROM parents WHERE rank = 0"); n != 20 {
		t.Fatalf("%d of 20 parents have the new column's default", n)
	}
	// Over WebSocket too.
	mustContain(t, ok(t, "migrate", "status", "--dir", dir, "--url", strings.Replace(target, "http://", "ws://", 1)), "up to date", "2 files applied")
	mustContain(t, ok(t, "migrate", "diff", "again", "--dir", dir, "--to", "ent://./testdata/v2"), "up to date")
	mustContain(t, ok(t, "migrate", "apply", "--dir", dir, "--url", target), "nothing to do")

	// The same directory on a local libSQL file.
	local := "file:" + filepath.Join(t.TempDir(), "local.db")
	mustContain(t, ok(t, "migrate", "apply", "--dir", dir, "--url", local), "applied 2 files")
	mustContain(t, ok(t, "migrate", "status", "--dir", dir, "--url", local), "up to date")

	// An edited file: apply refuses and names it; hash accepts the edit.
	files, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(dir, "file://"), "*_note_optional.sql"))
	body, _ := os.ReadFile(files[0])
	if err := os.WriteFile(files[0], append(body, "-- reviewed\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := cli(t, "migrate", "apply", "--dir", dir, "--url", target)
	if code != exitError {
		t.Fatalf("apply over an edited file: exit %d\n%s", code, out)
	}
	mustContain(t, out, filepath.Base(files[0])+" was edited", "refusing to run anything", "entlibsql migrate hash --dir "+dir)
	mustContain(t, ok(t, "migrate", "hash", "--dir", dir), "atlas.sum for 2 files")
	mustContain(t, ok(t, "migrate", "status", "--dir", dir, "--url", target), "up to date")
}

// A database made before versioned migrations: apply refuses and names
// --baseline, which then adopts it.
func TestBaselineRefusalNamesTheFlag(t *testing.T) {
	target := server(t)
	dir := "file://" + t.TempDir()
	ok(t, "migrate", "diff", "init", "--dir", dir, "--to", "ent://./testdata/v1")
	drv, err := libsql.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	if _, err := drv.DB().Exec("CREATE TABLE legacy (id integer primary key)"); err != nil {
		t.Fatal(err)
	}
	code, out := cli(t, "migrate", "apply", "--dir", dir, "--url", target)
	if code != exitError {
		t.Fatalf("apply on a database with tables and no revisions: exit %d\n%s", code, out)
	}
	mustContain(t, out, "no migration revisions", "--baseline VERSION")
	files, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(dir, "file://"), "*_init.sql"))
	version, _, _ := strings.Cut(filepath.Base(files[0]), "_")
	mustContain(t, ok(t, "migrate", "apply", "--dir", dir, "--url", target, "--baseline", version), "nothing to do")
	mustContain(t, ok(t, "migrate", "status", "--dir", dir, "--url", target), "up to date")
}

// --help lists the commands, and each command's --help its flags, on
// stdout with exit 0.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"migrate diff", "migrate apply", "migrate status", "migrate hash", "--help"}},
		{[]string{"-h"}, []string{"migrate diff"}},
		{[]string{"migrate", "--help"}, []string{"migrate apply"}},
		{[]string{"migrate", "diff", "--help"}, []string{"usage: entlibsql migrate diff NAME", "--dir file://DIR", "--to ent://PATH", "--dev-url URL", "LIBSQL_DEV_AUTH_TOKEN"}},
		{[]string{"migrate", "apply", "-h"}, []string{"--url URL", "--baseline VERSION", "--dry-run", "-v ", "LIBSQL_AUTH_TOKEN"}},
		{[]string{"migrate", "status", "--help"}, []string{"--url URL", "--baseline VERSION"}},
		{[]string{"migrate", "hash", "--help"}, []string{"--dir file://DIR"}},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut)
		if code != exitOK || errOut.Len() != 0 {
			t.Errorf("entlibsql %s: exit %d, stderr %q", strings.Join(tc.args, " "), code, errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("entlibsql %s: no %q in\n%s", strings.Join(tc.args, " "), w, out.String())
			}
		}
	}
}

// Mistakes get a clear message and a non-zero exit, and the auth token is
// never printed.
func TestMigrateErrors(t *testing.T) {
	const token = "secret-token-3f9a"
	t.Setenv("LIBSQL_AUTH_TOKEN", token)
	dir := "file://" + t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"migrate"}, exitUsage, "usage:"},
		{[]string{"migrate", "up"}, exitUsage, `unknown command "migrate up"`},
		{[]string{"migrate", "apply", "--dir", dir}, exitUsage, "--url is required"},
		{[]string{"migrate", "apply", "--url", "http://127.0.0.1:1"}, exitUsage, "--dir is required"},
		{[]string{"migrate", "diff", "--dir", dir, "--to", "ent://./testdata/v1"}, exitUsage, "one NAME"},
		{[]string{"migrate", "diff", "x", "--dir", dir, "--to", "./testdata/v1"}, exitUsage, "ent://"},
		{[]string{"migrate", "status", "--dir", "s3://bucket", "--url", "http://127.0.0.1:1"}, exitUsage, "not a file:// URL"},
		{[]string{"migrate", "status", "--dir", "file:///no/such/dir", "--url", "http://127.0.0.1:1"}, exitError, "does not exist"},
		{[]string{"migrate", "status", "--dir", dir, "--url", "postgres://x"}, exitError, "--url"},
		{[]string{"migrate", "status", "--dir", dir, "--url", "libsql://127.0.0.1:1?tls=0"}, exitError, "connection refused"},
		{[]string{"migrate", "diff", "x", "--dir", dir, "--to", "ent://./testdata/nothing"}, exitError, "loading the ent schema"},
		{[]string{"migrate", "status", "--dir", dir, "--url", "file:" + filepath.Join(t.TempDir(), "missing.db")}, exitError, "missing.db does not exist"},
		{[]string{"migrate", "apply", "--dir", dir, "--url", "http://127.0.0.1:1", "--bogus"}, exitUsage, "--help lists the flags"},
		{[]string{"status"}, exitUsage, `unknown command "status"`},
	} {
		code, out := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("entlibsql %s: exit %d, want %d with %q:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out)
		}
		if strings.Contains(out, token) {
			t.Errorf("entlibsql %s printed the auth token:\n%s", strings.Join(tc.args, " "), out)
		}
	}
	// status did not create the file it was asked about.
	if left, _ := filepath.Glob(filepath.Join(t.TempDir(), "*")); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}
