package libsql

import (
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/schema"
)

// SchemaOptions returns opts with schema.WithLibSQL() in front when drv is
// a driver of this package (also inside ent's Debug and WriteTo
// wrappers), and opts unchanged for any other driver. Clients generated
// with the entc extension pass their migrate options through it, so that
// Schema.Create, Schema.WriteTo and enttest plan for libSQL by default
// (libsqlentc.WithoutLibSQLSchema turns that off). Passing
// schema.WithLibSQL() again is harmless.
func SchemaOptions(drv dialect.Driver, opts ...entschema.MigrateOption) []entschema.MigrateOption {
	if !isDriver(drv) {
		return opts
	}
	return append([]entschema.MigrateOption{schema.WithLibSQL()}, opts...)
}

// isDriver sees through the wrappers ent puts around a driver.
func isDriver(drv dialect.Driver) bool {
	for {
		switch d := drv.(type) {
		case *Driver:
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
