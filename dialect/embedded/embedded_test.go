//go:build cgo && (linux || darwin) && (amd64 || arm64)

package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/entlibsql/entlibsql/dialect/embedded"
	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
	"github.com/entlibsql/entlibsql/schema"
)

// The replica test needs a primary: the harness's sqld.
func TestMain(m *testing.M) { sqldtest.Main(m) }

// ent.Open("libsql", "file:...") runs the generated client on a local file.
func TestLocalFileThroughEnt(t *testing.T) {
	ctx := context.Background()
	c, err := ent.Open("libsql", "file:"+filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Schema.Create(ctx, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	u := c.User.Create().SetName("ada").SetAge(36).SaveX(ctx)
	c.Post.Create().SetTitle("notes").SetAuthor(u).ExecX(ctx)
	got := c.User.Query().Where(user.Name("ada")).WithPosts().OnlyX(ctx)
	if len(got.Edges.Posts) != 1 {
		t.Fatalf("eager load: %+v", got.Edges)
	}
	if _, err := c.User.Create().SetName("ada").SetAge(1).Save(ctx); !ent.IsConstraintError(err) {
		t.Fatalf("constraint error on a local file: %v", err)
	}
}

func TestMemory(t *testing.T) {
	drv, err := libsql.Open("file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	db := drv.DB()
	if _, err := db.Exec("CREATE TABLE m (x)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO m VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM m").Scan(&n); err != nil || n != 1 {
		t.Fatalf("in memory: %d, %v", n, err)
	}
}

// Migrations on a local file: a rebuild keeps every child row, and
// ALTER COLUMN works there too.
func TestLocalMigrations(t *testing.T) {
	drv, err := libsql.Open("file:" + filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	migratetest.RebuildKeepsRows(t, drv, drv.DB(), "loc")
	ctx := context.Background()
	v := migratetest.NewFamily("loc", false) // back to NOT NULL, in place
	if _, err := drv.DB().ExecContext(ctx, "UPDATE loc_parents SET note = 'n' WHERE note IS NULL"); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Migrate(ctx, drv, v.Tables(), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
}

// A write through an embedded replica goes to the primary and is read
// locally after a sync.
func TestReplica(t *testing.T) {
	ctx := context.Background()
	r, err := embedded.OpenReplica(filepath.Join(t.TempDir(), "replica.db"), sqldtest.URL(), embedded.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	db := r.Driver().DB()
	table := fmt.Sprintf("replica_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := db.QueryRowContext(ctx, "SELECT x FROM "+table).Scan(&x); err != nil || x != 42 {
		t.Fatalf("local read after sync: %d, %v", x, err)
	}
	// The primary has it too.
	primary, err := libsql.Open(sqldtest.URL(), libsql.WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	if err := primary.DB().QueryRowContext(ctx, "SELECT x FROM "+table).Scan(&x); err != nil || x != 42 {
		t.Fatalf("on the primary: %d, %v", x, err)
	}
	primary.DB().ExecContext(ctx, "DROP TABLE "+table)
}

// The URL form of a replica, for ent.Open, with periodic sync.
func TestReplicaURL(t *testing.T) {
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "r.db") + "?syncUrl=" + sqldtest.URL() + "&syncInterval=1s"
	c, err := ent.Open("libsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.QueryContext(ctx, "SELECT 1")
	if err != nil {
		t.Fatalf("replica by URL: %v", err)
	}
	var one int
	if !rows.Next() || rows.Scan(&one) != nil || one != 1 {
		t.Fatalf("replica by URL: %v", rows.Err())
	}
	rows.Close()
}

// Errors from the engine are *libsql.Error, as from a server: SQLite's
// message on one line (not the SQL, which may carry values), and the
// SQLite code, which ent's constraint checks read too.
func TestEngineErrors(t *testing.T) {
	drv, err := libsql.Open("file:" + filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	db := drv.DB()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT UNIQUE NOT NULL, c INT CHECK (c > 0), d INT REFERENCES t(a))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t (b, c) VALUES ('secret-value', 1)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query, code, msg string
	}{
		{"INSERT INTO t (b, c) VALUES ('secret-value', 1)", "SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed: t.b"},
		{"INSERT INTO t (b, c) VALUES (NULL, 1)", "SQLITE_CONSTRAINT_NOTNULL", "NOT NULL constraint failed: t.b"},
		{"INSERT INTO t (b, c) VALUES ('y', 0)", "SQLITE_CONSTRAINT_CHECK", "CHECK constraint failed: c > 0"},
		{"SELEC 'secret-value'", "SQLITE_ERROR", "syntax error"},
		{"SELECT nope FROM t", "SQLITE_ERROR", "no such column: nope"},
	} {
		_, err := db.ExecContext(ctx, tc.query)
		var le *libsql.Error
		if !errors.As(err, &le) || le.Code != tc.code || !strings.Contains(le.Message, tc.msg) {
			t.Errorf("%s: %#v, want a *libsql.Error %s with %q", tc.query, err, tc.code, tc.msg)
			continue
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "secret-value") {
			t.Errorf("%s: the error is not one line of SQLite's message: %q", tc.query, err)
		}
	}
	// Through a transaction and ent's checks as well.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO t (b, c) VALUES ('secret-value', 1)")
	tx.Rollback()
	if !libsql.IsConstraintError(err) || !sqlgraph.IsUniqueConstraintError(err) {
		t.Fatalf("in a transaction: %v", err)
	}
	if _, err := drv.DB().QueryContext(ctx, "SELECT * FROM nope"); err == nil || !strings.Contains(err.Error(), "no such table: nope") {
		t.Fatalf("a query: %v", err)
	}
}

// Two drivers (two processes, say) on one file: a write that meets the
// other's transaction waits for it (DefaultBusyTimeout) instead of failing
// at once with SQLITE_BUSY, SQLite's default; busyTimeout=0 keeps that.
func TestBusyTimeout(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func(query string) *libsql.Driver {
		drv, err := libsql.Open("file:" + path + query)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drv.Close() })
		return drv
	}
	holder, waiter, impatient := open(""), open(""), open("?busyTimeout=0")
	if _, err := holder.DB().ExecContext(ctx, "CREATE TABLE b (x)"); err != nil {
		t.Fatal(err)
	}
	var timeout int
	if err := waiter.DB().QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != int(embedded.DefaultBusyTimeout.Milliseconds()) {
		t.Fatalf("busy_timeout = %d (%v), want %d", timeout, err, embedded.DefaultBusyTimeout.Milliseconds())
	}

	tx, err := holder.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO b VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := impatient.DB().ExecContext(ctx, "INSERT INTO b VALUES (3)"); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("with busyTimeout=0, a write meeting a transaction: %v, want SQLITE_BUSY", err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := waiter.DB().ExecContext(ctx, "INSERT INTO b VALUES (2)")
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("the write did not wait for the other driver's transaction: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the waiting write failed once the lock was free: %v", err)
	}
	var n int
	if err := waiter.DB().QueryRowContext(ctx, "SELECT count(*) FROM b").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows: %d, %v", n, err)
	}
}
