//go:build !(cgo && (linux || darwin) && (amd64 || arm64))

package embedded_test

import (
	"strings"
	"testing"

	"github.com/entlibsql/entlibsql/dialect/embedded"
	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Built without cgo, the package builds and file: URLs fail saying so.
func TestWithoutCgo(t *testing.T) {
	_, err := libsql.Open("file:app.db")
	if err == nil || !strings.Contains(err.Error(), "cgo") || !strings.Contains(err.Error(), "CGO_ENABLED=1") {
		t.Fatalf("file: URL without cgo: %v", err)
	}
	if _, err := embedded.OpenReplica("r.db", "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "cgo") {
		t.Fatalf("OpenReplica without cgo: %v", err)
	}
}
