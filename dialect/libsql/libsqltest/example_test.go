package libsqltest_test

import (
	"context"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/libsqltest"
)

// A test gets its own sqld. With a client generated with the entc
// extension, pass the URL to enttest: enttest.Open(t, "libsql", url).
func ExampleURL() {
	var t *testing.T // your test's *testing.T
	drv, err := libsql.Open(libsqltest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	if _, err := drv.DB().ExecContext(context.Background(), "CREATE TABLE users (name TEXT)"); err != nil {
		t.Fatal(err)
	}
}
