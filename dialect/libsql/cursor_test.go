package libsql_test

import (
	"context"
	"strings"
	"testing"
)

// overTransports runs f over HTTP and over WebSocket.
func overTransports(t *testing.T, f func(t *testing.T, url string)) {
	for _, url := range []string{serverURL(), wsURL(serverURL())} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) { f(t, url) })
	}
}

// Rows stream from a cursor: every row arrives, in order.
func TestCursorStreamsRows(t *testing.T) { overTransports(t, cursorStreamsRows) }

func cursorStreamsRows(t *testing.T, url string) {
	drv := openDriver(t, url)
	db, ctx := drv.DB(), context.Background()
	rows, err := db.QueryContext(ctx, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 5000) SELECT x, 'row ' || x FROM n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := 1
	for rows.Next() {
		var x int
		var s string
		if err := rows.Scan(&x, &s); err != nil {
			t.Fatal(err)
		}
		if x != want || s != "row "+itoa(want) {
			t.Fatalf("row %d: %d %q", want, x, s)
		}
		want++
	}
	if err := rows.Err(); err != nil || want != 5001 {
		t.Fatalf("%d rows, %v", want-1, err)
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

// Closing rows early frees the connection for its next statement.
func TestCursorEarlyClose(t *testing.T) { overTransports(t, cursorEarlyClose) }

func cursorEarlyClose(t *testing.T, url string) {
	drv := openDriver(t, url)
	ctx := context.Background()
	conn, err := drv.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 2000) SELECT x FROM n")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after an early close: %v", err)
	}
}

// A failing query says why, and the connection goes on.
func TestCursorErrors(t *testing.T) { overTransports(t, cursorErrors) }

func cursorErrors(t *testing.T, url string) {
	drv := openDriver(t, url)
	db, ctx := drv.DB(), context.Background()
	if _, err := db.QueryContext(ctx, "SELECT * FROM no_such_table"); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("want no such table, got %v", err)
	}
	// A runtime error after some rows: a read's pipeline fails whole, a
	// cursor (WITH) after the rows before it.
	for _, q := range []string{
		"SELECT x, CASE WHEN x = 3 THEN abs(-9223372036854775807 - 1) ELSE x END FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3)",
		"WITH s AS (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) SELECT x, CASE WHEN x = 3 THEN abs(-9223372036854775807 - 1) ELSE x END FROM s",
	} {
		n := 0
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
				n++
			}
			err = rows.Err()
			rows.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "integer overflow") {
			t.Fatalf("after %d rows: want integer overflow, got %v", n, err)
		}
	}
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// A query as a transaction's first statement carries BEGIN with it.
func TestCursorFirstInTransaction(t *testing.T) {
	drv, proxy := proxied(t)
	db, ctx := drv.DB(), context.Background()
	table := scratchTable(t, db, "x INTEGER")
	for q, path := range map[string]string{
		"SELECT count(*) FROM " + table:                                       "/v3/pipeline",
		"WITH c AS (SELECT count(*) AS n FROM " + table + ") SELECT n FROM c": "/v3/cursor",
	} {
		proxy.Reset()
		proxy.ResetLog()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("first query: %d, %v", n, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := proxy.Requests(); got != 3 {
			t.Fatalf("%s: %d requests for a 2-statement transaction, want 3", q, got)
		}
		if first := proxy.Log()[0]; !strings.HasSuffix(first.Path, path) || !strings.Contains(string(first.Body), `"BEGIN"`) {
			t.Fatalf("%s: the first request went to %s (%s), want BEGIN with it to %s", q, first.Path, first.Body, path)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after rollback: %d rows, %v", n, err)
		}
	}
}
