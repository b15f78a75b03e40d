package libsql

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/hrana"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// TestInspectionAnswersOddSchemas: on schemas Atlas rarely meets (FTS5 and
// its shadow tables, vector indexes, views, unicode, keyword and
// case-differing names, hidden and
// generated columns, tables without indexes or keys), every answer the
// cache holds is the server's, and every table is either answered or
// left to the server.
func TestInspectionAnswersOddSchemas(t *testing.T) {
	for _, url := range []string{sqldtest.URL(), strings.Replace(sqldtest.URL(), "http", "ws", 1)} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) { inspectionAnswersOddSchemas(t, url) })
	}
}

func inspectionAnswersOddSchemas(t *testing.T, url string) {
	drv, prefix := openInspected(t, url, 1)
	ctx := context.Background()
	db := drv.DB()
	q := func(s string) string { return strings.ReplaceAll(s, "{p}", prefix) }
	stmts := []string{
		q(`CREATE VIRTUAL TABLE {p}_fts USING fts5(title, body, tokenize = 'porter')`),
		q(`CREATE TABLE {p}_vec (id INTEGER PRIMARY KEY, emb F32_BLOB(3))`),
		q(`CREATE INDEX {p}_vec_idx ON {p}_vec (libsql_vector_idx(emb, 'metric=cosine'))`),
		q(`CREATE VIEW {p}_view AS SELECT id FROM {p}_vec`),
		q(`CREATE TABLE "{p}_Ünï😀" ("ç" TEXT PRIMARY KEY, "select" INTEGER UNIQUE, "Order" TEXT COLLATE NOCASE) WITHOUT ROWID`),
		q(`CREATE TABLE "{p}_Case" (a INTEGER, "A b" TEXT, c ANY) STRICT`),
		q(`CREATE INDEX "{p}_case_IDX" ON "{p}_Case" ("A b" COLLATE NOCASE DESC, a + 1)`),
		q(`CREATE TABLE {p}_gen (a INTEGER, b AS (a * 2) STORED, c TEXT GENERATED ALWAYS AS (upper(a)) VIRTUAL, d INTEGER DEFAULT (random()), e TEXT DEFAULT CURRENT_TIMESTAMP)`),
		q(`CREATE TABLE {p}_bare (x)`),
		q(`CREATE TABLE {p}_fk (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT REFERENCES "{p}_Ünï😀" ("ç") ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, b INTEGER REFERENCES {p}_missing (id) MATCH FULL, c INTEGER REFERENCES {p}_fk)`),
		q(`CREATE TABLE "{p}_pct%s%d" (a INTEGER)`),
		q(`CREATE TABLE "{p}_back` + "`" + `tick" (a INTEGER)`),
	}
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	t.Cleanup(func() {
		for _, s := range []string{"_fts", "_vec", "_Ünï😀", "_Case", "_gen", "_bare", "_fk", "_pct%s%d", "_back`tick"} {
			db.Exec(fmt.Sprintf(`DROP TABLE IF EXISTS "%s%s"`, prefix, strings.ReplaceAll(s, `"`, `""`)))
		}
		db.Exec(q(`DROP VIEW IF EXISTS {p}_view`))
	})
	err = sc.Raw(func(dc any) error {
		c := dc.(*conn)
		for _, s := range stmts {
			if _, err := c.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("%s: %v", s, err)
			}
		}
		rows, err := c.QueryContext(ctx, atlasDatabasesQuery, nil)
		if err != nil {
			return err
		}
		rows.Close()
		in := c.inspection
		if in == nil {
			return fmt.Errorf("no inspection cached")
		}
		answers := in.answers
		c.inspection = nil
		for query, cached := range answers {
			res, err := c.run(ctx, hrana.Stmt{SQL: query})
			if err != nil {
				if strings.Contains(query, prefix) {
					t.Errorf("%s: cached, but the server fails it: %v", query, err)
				}
				continue
			}
			if !reflect.DeepEqual(colNames(cached), colNames(res)) || !reflect.DeepEqual(cached.Rows, res.Rows) {
				t.Errorf("%s:\ncached %v %v\nserver %v %v", query, colNames(cached), cached.Rows, colNames(res), res.Rows)
			}
		}
		n := 0
		for query := range answers {
			if strings.Contains(query, prefix) {
				n++
			}
		}
		if n < 20 {
			t.Errorf("only %d answers cached for the test's tables", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
