//go:build cgo

package schema_test

import (
	"path/filepath"
	"testing"

	_ "github.com/entlibsql/entlibsql/dialect/embedded" // file: URLs
	"github.com/entlibsql/entlibsql/dialect/libsql"
)

func init() {
	embeddedEngine = &engine{"embedded", func(t testing.TB) *libsql.Driver {
		t.Helper()
		drv, err := libsql.Open("file:" + filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drv.Close() })
		return drv
	}}
}
