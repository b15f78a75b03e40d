package libsql_test

import (
	"database/sql"
	"os/exec"
	"strings"
	"testing"
)

// The core must never register the database/sql name "libsql": both
// libsql-client-go and go-libsql do, and a second registration panics.
func TestRegistersNoDriverName(t *testing.T) {
	for _, name := range sql.Drivers() {
		if name == "libsql" {
			t.Fatal(`the core registered the database/sql driver "libsql"`)
		}
	}
}

// Nor may it depend on a package that does.
func TestCoreDependsOnNoRegistrar(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"github.com/entlibsql/entlibsql/dialect/libsql",
		"github.com/entlibsql/entlibsql/internal/hrana").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "libsql-client-go") || strings.Contains(dep, "go-libsql") || strings.Contains(dep, "mattn/go-sqlite3") {
			t.Errorf("the core depends on %s", dep)
		}
	}
}
