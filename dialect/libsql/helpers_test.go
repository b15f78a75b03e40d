package libsql_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// serverURL is the URL of the sqld under test in the driver's own form.
func serverURL() string { return sqldtest.URL() }

// openDriver opens a driver on url (default: the server under test) and
// closes it with the test.
func openDriver(t testing.TB, url string, opts ...libsql.Option) *libsql.Driver {
	t.Helper()
	if url == "" {
		url = serverURL()
	}
	drv, err := libsql.Open(url, append(tokenOpts(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return drv
}

// tokenOpts passes the external server's token, if any.
func tokenOpts() []libsql.Option {
	if tok := sqldtest.AuthToken(); tok != "" {
		return []libsql.Option{libsql.WithAuthToken(tok)}
	}
	return nil
}

// proxied opens a driver through a counting proxy in front of the server.
func proxied(t testing.TB, opts ...libsql.Option) (*libsql.Driver, *sqldtest.Proxy) {
	t.Helper()
	p, err := sqldtest.NewProxy(serverURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return openDriver(t, p.URL(), opts...), p
}

var tableSeq atomic.Int64

// scratchTable creates a table with a name unique to this run, so tests
// can share one server (even an external one) without seeing each other.
func scratchTable(t testing.TB, db *sql.DB, columns string) string {
	t.Helper()
	name := fmt.Sprintf("t_%s_%d_%d", strings.ToLower(sanitize(t.Name())), time.Now().UnixNano()%1e6, tableSeq.Add(1))
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+name+" ("+columns+")"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+name) })
	return name
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() > 40 {
		return b.String()[:40]
	}
	return b.String()
}
