// Package inspecttest builds wide ent schemas for the tests and the
// benchmark of schema inspection: many tables, each with columns, an
// index, a unique index and a foreign key to the table before it.
package inspecttest

import (
	"fmt"

	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
)

// Tables returns n tables named prefix_t0 ... prefix_t{n-1}.
func Tables(prefix string, n int) []*entschema.Table {
	tables := make([]*entschema.Table, n)
	for i := range tables {
		id := &entschema.Column{Name: "id", Type: field.TypeInt, Increment: true}
		name := &entschema.Column{Name: "name", Type: field.TypeString, Size: 100}
		email := &entschema.Column{Name: "email", Type: field.TypeString, Unique: true}
		created := &entschema.Column{Name: "created_at", Type: field.TypeTime, Default: "CURRENT_TIMESTAMP"}
		score := &entschema.Column{Name: "score", Type: field.TypeFloat64, Nullable: true}
		parent := &entschema.Column{Name: "parent_id", Type: field.TypeInt, Nullable: true}
		t := &entschema.Table{
			Name:       fmt.Sprintf("%s_t%d", prefix, i),
			Columns:    []*entschema.Column{id, name, email, created, score, parent},
			PrimaryKey: []*entschema.Column{id},
		}
		t.Indexes = []*entschema.Index{
			{Name: fmt.Sprintf("%s_t%d_name_score", prefix, i), Columns: []*entschema.Column{name, score}},
		}
		if i > 0 {
			prev := tables[i-1]
			t.ForeignKeys = []*entschema.ForeignKey{{
				Symbol: fmt.Sprintf("%s_t%d_parent", prefix, i), Columns: []*entschema.Column{parent},
				RefTable: prev, RefColumns: prev.PrimaryKey, OnDelete: entschema.SetNull,
			}}
		}
		tables[i] = t
	}
	return tables
}
