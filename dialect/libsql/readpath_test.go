package libsql_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// Issue 17, point 4: a read's rows come in a pipeline's answer, decoded
// as they arrive; a read whose answer sqld refuses as too large goes
// through a cursor, then and next time.

// paths lists the endpoints of the requests in a proxy's log.
func paths(p *sqldtest.Proxy) []string {
	var out []string
	for _, r := range p.Log() {
		out = append(out, r.Path[strings.LastIndex(r.Path, "/v")+1:])
	}
	return out
}

// countRows reads query's rows through q and checks they number 1..n.
func countRows(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, n int) {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query)
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
		if x != want {
			t.Fatalf("row %d: %d", want, x)
		}
		want++
	}
	if err := rows.Err(); err != nil || want != n+1 {
		t.Fatalf("%d rows, %v", want-1, err)
	}
}

// A read of many rows is one request to /v3/pipeline; so is a read as a
// transaction's first statement, with BEGIN.
func TestReadsGoAsPipelines(t *testing.T) {
	drv, proxy := proxied(t)
	db := drv.DB()
	tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, s TEXT")
	if _, err := db.Exec("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 5000) INSERT INTO " + tbl + " SELECT x, 'row ' || x FROM n"); err != nil {
		t.Fatal(err)
	}
	proxy.ResetLog()
	countRows(t, db, "SELECT id, s FROM "+tbl+" ORDER BY id", 5000)
	if got := paths(proxy); len(got) != 1 || got[0] != "v3/pipeline" {
		t.Fatalf("requests %v, want one to v3/pipeline", got)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	proxy.ResetLog()
	countRows(t, tx, "SELECT id, s FROM "+tbl+" ORDER BY id", 5000)
	if got := paths(proxy); len(got) != 1 || got[0] != "v3/pipeline" || !strings.Contains(string(proxy.Log()[0].Body), `"BEGIN"`) {
		t.Fatalf("requests %v, want one to v3/pipeline with BEGIN", got)
	}
}

// Reads stream over both transports, and closing them early frees the
// connection, in and out of a transaction.
func TestReadsEarlyClose(t *testing.T) {
	overTransports(t, func(t *testing.T, url string) {
		db := openDriver(t, url).DB()
		tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, s TEXT")
		if _, err := db.Exec("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 3000) INSERT INTO " + tbl + " SELECT x, 'row ' || x FROM n"); err != nil {
			t.Fatal(err)
		}
		countRows(t, db, "SELECT id, s FROM "+tbl+" ORDER BY id", 3000)
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			rows, err := tx.QueryContext(ctx, "SELECT id, s FROM "+tbl)
			if err != nil {
				t.Fatal(err)
			}
			if !rows.Next() {
				t.Fatal(rows.Err())
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+tbl+" WHERE id > 10"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil || n != 10 {
			t.Fatalf("in the transaction after early closes: %d rows, %v", n, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.QueryContext(ctx, "SELECT id, s FROM "+tbl)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		rows.Close()
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil || n != 3000 {
			t.Fatalf("after rollback and an early close: %d rows, %v", n, err)
		}
	})
}

// An answer over sqld's --max-response-size (10 MB by default): the read
// goes through a cursor and reads every row, at once the next time; as a
// transaction's first statement too, whose BEGIN the refused answer ran.
func TestLargeAnswerGoesThroughACursor(t *testing.T) {
	overTransports(t, func(t *testing.T, url string) {
		p, err := sqldtest.NewProxy(strings.Replace(url, "ws://", "http://", 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		purl := p.URL()
		if strings.HasPrefix(url, "ws") {
			purl = wsURL(purl)
		}
		db := openDriver(t, purl).DB()
		tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, s TEXT")
		// 3,000 rows of 4 KiB: 12 MB of answer.
		if _, err := db.Exec("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 3000) INSERT INTO " + tbl + " SELECT x, hex(zeroblob(2048)) FROM n"); err != nil {
			t.Fatal(err)
		}
		query := "SELECT id, s FROM " + tbl + " ORDER BY id"
		ws := strings.HasPrefix(url, "ws")
		p.ResetLog()
		countRows(t, db, query, 3000)
		if got := paths(p); !ws && !sqldtest.External() && (len(got) != 2 || got[0] != "v3/pipeline" || got[1] != "v3/cursor") {
			t.Fatalf("first time: requests %v, want the refused pipeline, then the cursor", got)
		}
		p.ResetLog()
		countRows(t, db, query, 3000)
		if got := paths(p); !ws && !sqldtest.External() && (len(got) != 1 || got[0] != "v3/cursor") {
			t.Fatalf("next time: requests %v, want the cursor alone", got)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		other := "SELECT id, s FROM " + tbl + " WHERE id > 0 ORDER BY id"
		countRows(t, tx, other, 3000)
		if _, err := tx.Exec("DELETE FROM " + tbl + " WHERE id > 5"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow("SELECT count(*) FROM " + tbl).Scan(&n); err != nil || n != 5 {
			t.Fatalf("in the transaction: %d, %v", n, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM " + tbl).Scan(&n); err != nil || n != 3000 {
			t.Fatalf("after rollback: %d, %v", n, err)
		}
	})
}
