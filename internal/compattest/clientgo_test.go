package compattest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"
	_ "github.com/tursodatabase/libsql-client-go/libsql" // registers "libsql"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/migrate"
	"github.com/entlibsql/entlibsql/internal/testent/ent/user"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

// clientGoDB opens base through libsql-client-go.
func clientGoDB(t *testing.T, base string) *sql.DB {
	t.Helper()
	dsn := base
	if tok := sqldtest.AuthToken(); tok != "" {
		dsn += "?authToken=" + tok
	}
	db, err := sql.Open("libsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenDBWithLibsqlClientGo(t *testing.T) {
	ctx := context.Background()
	drv := libsql.OpenDB(clientGoDB(t, sqldtest.URL()))
	if drv.Dialect() != "sqlite3" {
		t.Fatalf("dialect %q", drv.Dialect())
	}
	c := ent.NewClient(ent.Driver(drv))
	if err := c.Schema.Create(ctx, migrate.WithDropIndex(true)); err != nil {
		t.Fatal(err)
	}
	name := "cg-" + time.Now().Format("150405.000000000")
	u, err := c.User.Create().SetName(name).SetAge(3).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Post.Create().SetTitle("via client-go").SetAuthor(u).SaveX(ctx)
	got := c.User.Query().Where(user.Name(name)).WithPosts().OnlyX(ctx)
	if len(got.Edges.Posts) != 1 || got.Edges.Posts[0].ID != p.ID {
		t.Fatalf("eager load: %+v", got.Edges)
	}
	tx, err := c.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.User.UpdateOneID(u.ID).SetAge(4).SaveX(ctx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if c.User.GetX(ctx, u.ID).Age != 4 {
		t.Fatal("transaction lost")
	}
	_, err = c.User.Create().SetName(name).SetAge(1).Save(ctx)
	if !ent.IsConstraintError(err) || !sqlgraph.IsUniqueConstraintError(err) {
		t.Fatalf("constraint error through client-go: %v", err)
	}
}

// TestBaselineRequests measures what ent over libsql-client-go costs, and
// the same through this driver, against the same server.
func TestBaselineRequests(t *testing.T) {
	ctx := context.Background()
	proxy, err := sqldtest.NewProxy(sqldtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	ours, err := libsql.Open(proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	for _, tc := range []struct {
		name      string
		db        *sql.DB
		perQuery  int64
		perTx3    int64
		wantFewer bool
	}{
		{"libsql-client-go", clientGoDB(t, proxy.URL()), 2, 6, false},
		{"entlibsql", ours.DB(), 1, 4, true},
	} {
		if _, err := tc.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS baseline (n INTEGER)"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // client-go closes streams asynchronously
		proxy.Reset()
		var n int
		if err := tc.db.QueryRowContext(ctx, "SELECT count(*) FROM baseline").Scan(&n); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		perQuery := proxy.Requests()

		proxy.Reset()
		tx, err := tc.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, err := tx.ExecContext(ctx, "INSERT INTO baseline VALUES (?)", i); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		perTx := proxy.Requests()
		t.Logf("%s: %d requests per autocommit query, %d per 3-insert transaction", tc.name, perQuery, perTx)
		if perQuery != tc.perQuery || perTx != tc.perTx3 {
			t.Errorf("%s: measured %d and %d, want %d and %d", tc.name, perQuery, perTx, tc.perQuery, tc.perTx3)
		}
	}
}
