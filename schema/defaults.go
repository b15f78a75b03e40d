package schema

import (
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// Defaults returns opts with WithLibSQL() in front when drv is a driver of
// dialect/libsql (also inside ent's Debug and WriteTo wrappers), and opts
// unchanged for any other driver. Clients generated with the entc
// extension pass their migrate options through it, so that Schema.Create,
// Schema.WriteTo and enttest plan for libSQL by default
// (libsqlentc.WithoutLibSQLSchema turns that off). Passing WithLibSQL()
// again is harmless.
func Defaults(drv dialect.Driver, opts ...entschema.MigrateOption) []entschema.MigrateOption {
	if !isLibSQL(drv) {
		return opts
	}
	return append([]entschema.MigrateOption{WithLibSQL()}, opts...)
}

// isLibSQL sees through the wrappers ent puts around a driver.
func isLibSQL(drv dialect.Driver) bool {
	for {
		switch d := drv.(type) {
		case *libsql.Driver:
			return true
		case *dialect.DebugDriver:
			drv = d.Driver
		case *entschema.WriteDriver:
			drv = d.Driver
		default:
			return false
		}
	}
}
