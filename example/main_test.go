package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

// The example runs twice on the same database and prints the same list:
// the migration is idempotent and the transaction replaces the list.
func TestRun(t *testing.T) {
	if tok := sqldtest.AuthToken(); tok != "" {
		t.Setenv("LIBSQL_AUTH_TOKEN", tok)
	}
	want := `grace's todos:
  [x] read the Hrana spec    high
  [ ] point ent at Turso     high
  [ ] water the plants       low
high: 2
low: 1
`
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"-url", sqldtest.URL(), "-user", "grace"}, &out); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("run %d printed:\n%s\nwant:\n%s", i+1, out.String(), want)
		}
	}
}

func TestRunWithoutURL(t *testing.T) {
	t.Setenv("LIBSQL_URL", "")
	err := run(context.Background(), nil, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "LIBSQL_URL") {
		t.Fatalf("want an error naming LIBSQL_URL, got %v", err)
	}
}
