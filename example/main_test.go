package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

const want = `grace's posts:
  Hello, libSQL              go, libsql
  ent on Turso               ent, go, turso
  One stream per migration   ent, libsql
tags: ent 2 go 2 libsql 2 turso 1
nearest to "migrating schemas":
  One stream per migration   ent, libsql
  ent on Turso               ent, go, turso
`

// runTwice runs the example twice on the same database: the migration is
// idempotent and the transaction replaces the posts, so both runs print
// the same.
func runTwice(t *testing.T, args ...string) {
	t.Helper()
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(context.Background(), append(args, "-user", "grace"), &out); err != nil {
			t.Fatal(err)
		}
		_, body, _ := strings.Cut(out.String(), "\n") // after the "database:" line
		if body != want {
			t.Fatalf("run %d printed:\n%s\nwant:\n%s", i+1, out.String(), want)
		}
	}
}

// The README's first command, on the embedded default engine.
func TestRunEmbedded(t *testing.T) {
	t.Setenv("LIBSQL_URL", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // where the default file goes
	t.Setenv("HOME", t.TempDir())
	runTwice(t)
}

func TestRunFile(t *testing.T) {
	runTwice(t, "-url", "file:"+filepath.Join(t.TempDir(), "app.db"))
}

func TestRunAgainstSqld(t *testing.T) {
	t.Setenv("LIBSQL_AUTH_TOKEN", sqldtest.AuthToken())
	runTwice(t, "-url", sqldtest.URL())
}

func TestDescribeHidesToken(t *testing.T) {
	if d := describe("libsql://db.example.com?authToken=SECRET"); strings.Contains(d, "SECRET") || d != "libsql://db.example.com" {
		t.Fatalf("describe: %q", d)
	}
}

// Runs for several authors on one database: each replaces its posts
// (deletes, then inserts), the pattern after which libSQL's vector index
// loses rows until REINDEX. Every run still finds its author's two
// nearest posts.
func TestSearchAfterManyRuns(t *testing.T) {
	url := "file:" + filepath.Join(t.TempDir(), "app.db")
	_, wantSearch, _ := strings.Cut(want, "nearest to")
	for round := 0; round < 4; round++ {
		for _, user := range []string{"ada", "bob", "cy"} {
			var out bytes.Buffer
			if err := run(context.Background(), []string{"-url", url, "-user", user}, &out); err != nil {
				t.Fatal(err)
			}
			if _, got, _ := strings.Cut(out.String(), "nearest to"); got != wantSearch {
				t.Fatalf("round %d, %s: nearest to%s\nwant: nearest to%s", round, user, got, wantSearch)
			}
		}
	}
}
