package libsql_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/testent/ent"
	"github.com/entlibsql/entlibsql/internal/testent/ent/migrate"
)

var schemaOnce struct {
	sync.Once
	err error
}

// entClient returns an ent client on the server under test, with the test
// schema created once per package. The schema is created through a driver
// of its own, closed afterwards, so no pooled connection keeps the
// foreign_keys pragma ent's migration toggles.
func entClient(t testing.TB, opts ...libsql.Option) *ent.Client {
	t.Helper()
	schemaOnce.Do(func() {
		drv, err := libsql.Open(serverURL(), tokenOpts()...)
		if err != nil {
			schemaOnce.err = err
			return
		}
		defer drv.Close()
		schemaOnce.err = ent.NewClient(ent.Driver(drv)).Schema.Create(context.Background(), migrate.WithDropIndex(true))
	})
	if schemaOnce.err != nil {
		t.Fatalf("creating the test schema: %v", schemaOnce.err)
	}
	return ent.NewClient(ent.Driver(openDriver(t, "", opts...)))
}

// runID tells this test process's rows from those of earlier runs on
// the same server.
var runID = time.Now().UnixNano() % 1e9

// uniq makes names unique to one test run on a shared server.
func uniq(t testing.TB, s string) string {
	return fmt.Sprintf("%s-%s-%d-%d", s, sanitize(t.Name()), runID, tableSeq.Add(1))
}
