package libsql_test

import (
	"testing"

	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

// TestMain starts a fresh sqld for this package (or uses LIBSQL_TEST_URL).
func TestMain(m *testing.M) { sqldtest.Main(m) }
