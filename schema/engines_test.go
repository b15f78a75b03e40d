package schema_test

import (
	"testing"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// engine is a libSQL the migration tests run on: the harness's sqld, and
// (in a cgo build) the embedded engine on a fresh local file.
type engine struct {
	name string
	open func(t testing.TB) *libsql.Driver
}

// embeddedEngine is set by engines_cgo_test.go.
var embeddedEngine *engine

func engines(t testing.TB) []engine {
	es := []engine{{"sqld", func(t testing.TB) *libsql.Driver { return openDriver(t) }}}
	if embeddedEngine == nil {
		t.Log("this build has no cgo: the embedded engine is not tested")
		return es
	}
	return append(es, *embeddedEngine)
}

// onEngines runs f once per engine, as a subtest.
func onEngines(t *testing.T, f func(t *testing.T, drv *libsql.Driver, e engine)) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) { f(t, e.open(t), e) })
	}
}
