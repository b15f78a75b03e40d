package libsql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// A read whose rows are each small but whose answer is over the driver's
// WithMaxResponseSize (and under sqld's --max-response-size) returns
// every row with memory bounded by the limit, over HTTP and WebSocket,
// as it did through a cursor; a transaction open on another connection
// of the driver (over WebSocket, the same socket) survives it.
func TestReadOverTheDriversLimit(t *testing.T) {
	overTransports(t, func(t *testing.T, url string) {
		db := openDriver(t, url, libsql.WithMaxResponseSize(1<<20)).DB()
		ctx := context.Background()
		tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, v TEXT")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES (1, 'in the transaction')"); err != nil {
			t.Fatal(err)
		}
		const n = 30000 // about 3.5 MB of rows
		q := "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s LIMIT 30000) SELECT x, printf('%0100d', x) FROM s"
		for _, read := range []string{
			q,
			"SELECT * FROM (" + q + ")",
		} {
			for round := 0; round < 2; round++ {
				rows, err := db.QueryContext(ctx, read)
				if err != nil {
					t.Fatalf("%s: %v", read[:20], err)
				}
				got := 0
				for rows.Next() {
					got++
				}
				if err := rows.Err(); err != nil || got != n {
					t.Fatalf("%s (round %d): %d rows of %d, %v", read[:20], round, got, n, err)
				}
				rows.Close()
			}
		}
		var v string
		if err := tx.QueryRowContext(ctx, "SELECT v FROM "+tbl+" WHERE id = 1").Scan(&v); err != nil {
			t.Fatalf("the transaction did not survive the large read: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if strings.TrimSpace(v) == "" {
			t.Fatal("no row")
		}
	})
}
