package libsql

import (
	"io"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
)

func TestSchemaOptions(t *testing.T) {
	own := OpenDB(nil)
	mine := entschema.WithDropIndex(true)
	tests := []struct {
		name string
		drv  dialect.Driver
		want int // options returned
	}{
		{"libsql", own, 2},
		{"libsql under Debug", dialect.Debug(own), 2},
		{"libsql under WriteTo", &entschema.WriteDriver{Driver: dialect.Debug(own), Writer: io.Discard}, 2},
		{"sqlite3", entsql.OpenDB(dialect.SQLite, nil), 1},
		{"mysql under Debug", dialect.Debug(entsql.OpenDB(dialect.MySQL, nil)), 1},
		{"nil", nil, 1},
	}
	for _, tt := range tests {
		if got := SchemaOptions(tt.drv, mine); len(got) != tt.want {
			t.Errorf("%s: %d options, want %d", tt.name, len(got), tt.want)
		}
	}
}
