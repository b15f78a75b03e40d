package embedded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

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
