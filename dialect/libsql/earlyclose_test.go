package libsql_test

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// Issue 14, point 7: closing rows early over HTTP ends the request at once
// (it used to read all 400,000 rows first: 17 s on loopback), and the
// connection goes on, in a transaction too.
func TestEarlyCloseOfALargeCursor(t *testing.T) {
	const big = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 400000) SELECT x, 'a row of some length, number ' || x FROM n"
	overTransports(t, func(t *testing.T, url string) {
		db := openDriver(t, url).DB()
		ctx := context.Background()
		tbl := scratchTable(t, db, "k TEXT")
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		took := closeAfterThree(t, conn, big)
		var one int
		if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("after an early close: %v", err)
		}
		// In a transaction: the stream, and the transaction, go on.
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('before')"); err != nil {
			t.Fatal(err)
		}
		txTook := closeAfterThree(t, tx, big)
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" VALUES ('after')"); err != nil {
			t.Fatalf("the transaction after an early close: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d rows committed, want 2 (%v)", n, err)
		}
		t.Logf("rows.Close after 3 of 400,000 rows: %v (in a transaction: %v)", took, txTook)
	})
}

// closeAfterThree runs q, reads three rows and closes the rows, and says
// how long the close took.
func closeAfterThree(t *testing.T, on interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string) time.Duration {
	t.Helper()
	rows, err := on.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3 && rows.Next(); i++ {
	}
	var took time.Duration
	var closeErr error
	within(t, 2*time.Minute, "an early close", func() {
		start := time.Now()
		closeErr = rows.Close()
		took = time.Since(start)
	})
	if closeErr != nil {
		t.Fatal(closeErr)
	}
	return took
}
