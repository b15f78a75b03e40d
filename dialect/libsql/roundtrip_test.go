package libsql_test

import (
	"context"
	"testing"
)

// Round trips are what the driver exists to save: these tests count the
// HTTP requests that reach the server.

func TestRequestsPerAutocommitStatement(t *testing.T) {
	drv, proxy := proxied(t)
	db := drv.DB()
	ctx := context.Background()
	tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, n INTEGER")
	for i := 0; i < 5; i++ {
		proxy.Reset()
		if _, err := db.ExecContext(ctx, "INSERT INTO "+tbl+"(n) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if got := proxy.Requests(); got != 2 {
			t.Fatalf("insert + select made %d requests, want 2 (one each)", got)
		}
	}
}

func TestRequestsPerTransaction(t *testing.T) {
	drv, proxy := proxied(t)
	db := drv.DB()
	ctx := context.Background()
	tbl := scratchTable(t, db, "id INTEGER PRIMARY KEY, n INTEGER")
	for _, n := range []int{1, 3, 10} {
		for _, commit := range []bool{true, false} {
			proxy.Reset()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+"(n) VALUES (?)", i); err != nil {
					t.Fatal(err)
				}
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := proxy.Requests(); got != int64(n+1) {
				t.Fatalf("%d-statement transaction (commit=%v) made %d requests, want %d", n, commit, got, n+1)
			}
		}
	}
	// A transaction that runs nothing sends nothing.
	proxy.Reset()
	tx, _ := db.BeginTx(ctx, nil)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := proxy.Requests(); got != 0 {
		t.Fatalf("empty transaction made %d requests", got)
	}
	var rows int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl).Scan(&rows); err != nil || rows != 1+3+10 {
		t.Fatalf("committed rows: %d, %v (want 14: rolled back ones gone)", rows, err)
	}
}
