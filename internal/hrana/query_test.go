package hrana_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/hrana"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// entries reads a cursor to its end.
func entries(t *testing.T, cur *hrana.Cursor) (rows int, types []string) {
	t.Helper()
	defer cur.Close()
	for {
		e, err := cur.Next()
		if err == io.EOF {
			return rows, types
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == "row" {
			rows++
			continue
		}
		types = append(types, e.Type)
	}
}

// Query streams a batch's answer as entries over both transports; an
// answer sqld refuses as too large is an error entry, after which the
// stream goes on, its transaction with it.
func TestServerQuery(t *testing.T) {
	for _, base := range []string{sqldtest.URL(), "ws" + strings.TrimPrefix(sqldtest.URL(), "http")} {
		c, err := hrana.NewClient(hrana.Config{URL: base, AuthToken: sqldtest.AuthToken()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s := c.Stream()
		ctx := context.Background()
		cur, err := s.Query(ctx, hrana.Batch{Steps: []hrana.BatchStep{
			{Stmt: hrana.Stmt{SQL: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 3000) SELECT x FROM n"}},
			{Stmt: hrana.Stmt{SQL: "SELECT * FROM no_such_table"}},
		}})
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		rows, types := entries(t, cur)
		if rows != 3000 || strings.Join(types, " ") != "step_begin step_end step_error" {
			t.Fatalf("%s: %d rows, %v", base, rows, types)
		}
		if sqldtest.External() {
			continue // its size limit is its own
		}
		// 11 MB of answer, in a transaction begun with it.
		cur, err = s.Query(ctx, hrana.Batch{Steps: []hrana.BatchStep{
			{Stmt: hrana.Stmt{SQL: "BEGIN"}},
			{Condition: hrana.OK(0), Stmt: hrana.Stmt{SQL: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 2800) SELECT hex(zeroblob(2048)) FROM n"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		e, err := cur.Next()
		if err != nil || e.Type != "error" || e.Error.Code != hrana.ResponseTooLargeCode {
			t.Fatalf("%s: %+v, %v; want sqld's refusal", base, e, err)
		}
		cur.Close()
		res, err := s.Pipeline(ctx, hrana.GetAutocommit(), hrana.Execute(hrana.Stmt{SQL: "ROLLBACK"}), hrana.Close())
		if err != nil || res[0].Response == nil || res[0].Response.IsAutocommit || res[1].Err != nil {
			t.Fatalf("%s: after the refusal: %+v, %v; want the stream in its transaction", base, res, err)
		}
	}
}
