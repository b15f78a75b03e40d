package libsql_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Issue 15, point 2: a SQLite error reads as SQLite's own message, as with
// go-sqlite3; the codes stay in *libsql.Error. Errors of sqld, HTTP and
// the protocol read "libsql: …", once.
func TestSQLiteErrorsReadAsSQLite(t *testing.T) {
	overTransports(t, func(t *testing.T, url string) {
		db := openDriver(t, url).DB()
		ctx := context.Background()
		tbl := scratchTable(t, db, "user_id INTEGER, group_id INTEGER")
		if _, err := db.ExecContext(ctx, "CREATE UNIQUE INDEX "+tbl+"_ug ON "+tbl+" (user_id, group_id)"); err != nil {
			t.Fatal(err)
		}
		insert := "INSERT INTO " + tbl + " (user_id, group_id) VALUES (1, 2)"
		if _, err := db.ExecContext(ctx, insert); err != nil {
			t.Fatal(err)
		}
		want := "UNIQUE constraint failed: " + tbl + ".user_id, " + tbl + ".group_id"
		_, err := db.ExecContext(ctx, insert)
		sqliteError(t, err, want, "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, insert) // BEGIN goes with it
		sqliteError(t, err, want, "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT")
		_, err = tx.ExecContext(ctx, insert)
		sqliteError(t, err, want, "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT")
		tx.Rollback()
		// Streamed through a cursor, and whole.
		for _, q := range []string{"SELECT * FROM no_such_table", "SELECT * FROM no_such_table LIMIT 1"} {
			_, err = db.QueryContext(ctx, q)
			var le *libsql.Error
			if !errors.As(err, &le) || err.Error() != "no such table: no_such_table" || !strings.HasPrefix(le.Code, "SQLITE_") {
				t.Fatalf("%s: %q (%#v)", q, err, le)
			}
		}
		// sqld's own errors keep their prefix and code.
		_, err = db.ExecContext(ctx, "SELECT 1; SELECT 2")
		if err == nil || err.Error() != "libsql: SQL string contains more than one statement (SQL_MANY_STATEMENTS)" {
			t.Fatalf("a sqld error: %q", err)
		}
	})
}

func sqliteError(t *testing.T, err error, msg, code, serverCode string) {
	t.Helper()
	var le *libsql.Error
	if err == nil || err.Error() != msg {
		t.Fatalf("want exactly %q, got %q", msg, err)
	}
	if !errors.As(err, &le) || le.Code != code || le.ServerCode != serverCode || le.Message != msg {
		t.Fatalf("the codes: %#v", le)
	}
	if !libsql.IsConstraintError(err) {
		t.Fatal("not a constraint error")
	}
}

// Through a replica, which reports the primary's errors as PROXY_ERROR,
// the message is SQLite's too.
func TestSQLiteErrorsThroughAReplica(t *testing.T) {
	_, replica := primaryAndReplica(t)
	db := openDriver(t, replica.URL()).DB()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE uniq (k TEXT UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO uniq VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, "INSERT INTO uniq VALUES ('a')")
	var le *libsql.Error
	if !errors.As(err, &le) {
		t.Fatalf("%v", err)
	}
	t.Logf("through a replica: %q (%s, server code %s)", err, le.Code, le.ServerCode)
	if err.Error() != "UNIQUE constraint failed: uniq.k" || le.Code != "SQLITE_CONSTRAINT_UNIQUE" {
		t.Fatalf("through a replica: %q (%#v)", err, le)
	}
}

// Issue 15, point 13: a TLS URL against a plain-HTTP server says what to
// write instead.
func TestTLSURLAgainstPlainServer(t *testing.T) {
	srv := fake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 200, executeOK("b")) }))
	for _, url := range []string{"libsql://" + srv.Addr(), "https://" + srv.Addr(), "wss://" + srv.Addr()} {
		_, err := fakeDriver(t, url).DB().ExecContext(context.Background(), "SELECT 1")
		if err == nil || !strings.Contains(err.Error(), "plain HTTP, not TLS") || !strings.Contains(err.Error(), "?tls=0") {
			t.Fatalf("%s: %v", url[:strings.Index(url, ":")], err)
		}
		oneErrorPrefix(t, err)
	}
}
