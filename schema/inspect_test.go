package schema_test

import (
	"bytes"
	"context"
	"testing"

	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/inspecttest"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/internal/testent/ent/enttest"
	"github.com/entlibsql/entlibsql/schema"
)

// An up-to-date Schema.Create, with and without WithLibSQL, and
// enttest.Open, cost 3 requests on a new driver whatever the number of
// tables (ent's two reads of PRAGMA foreign_keys, the first of which
// opens the stream, and one for the whole inspection), where Atlas's
// inspection query by query took 254 for 50 tables.
func TestUpToDateCreateRequests(t *testing.T) {
	p, err := sqldtest.NewProxy(sqldtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opts []entschema.MigrateOption
	}{{"plain", nil}, {"WithLibSQL", []entschema.MigrateOption{schema.WithLibSQL()}}} {
		for _, n := range []int{5, 50} {
			tables := inspecttest.Tables(prefix(t), n)
			if err := migratetest.Migrate(ctx, openURL(t, p.URL()), tables, c.opts...); err != nil {
				t.Fatal(err)
			}
			drv := openURL(t, p.URL())
			p.Reset()
			p.ResetLog()
			if err := migratetest.Migrate(ctx, drv, tables, c.opts...); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, %d tables: %d requests", c.name, n, p.Requests())
			if got := p.Requests(); got > 3 {
				t.Errorf("%s, %d tables: %d requests, want at most 3", c.name, n, got)
			}
			noPerTableQuery(t, p.Log())
			// A change adds only the migration's own requests: foreign
			// keys off on its stream, the plan with BEGIN IMMEDIATE and
			// COMMIT, the stream's close; with WithLibSQL also the check,
			// inside the lock, that no other migration changed the
			// schema since the inspection (it carries BEGIN IMMEDIATE).
			// Atlas's foreign-key checks cost none: nothing that could
			// break a foreign key runs.
			own := int64(3)
			if len(c.opts) > 0 {
				own = 4
			}
			tables[n/2].Columns = append(tables[n/2].Columns, &entschema.Column{Name: "added", Type: field.TypeInt, Nullable: true})
			p.Reset()
			p.ResetLog()
			if err := migratetest.Migrate(ctx, drv, tables, c.opts...); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, %d tables, adding a column: %d requests", c.name, n, p.Requests())
			if got := p.Requests(); got > 3+own {
				t.Errorf("%s, %d tables, adding a column: %d requests, want at most %d", c.name, n, got, 3+own)
			}
		}
	}
	t.Run("enttest.Open", func(t *testing.T) {
		enttest.Open(t, "libsql", p.URL()).Close()
		p.Reset()
		p.ResetLog()
		enttest.Open(t, "libsql", p.URL()).Close()
		// Closing the client ends its stream: one request more.
		t.Logf("enttest.Open: %d requests", p.Requests())
		if got := p.Requests(); got > 4 {
			t.Errorf("enttest.Open: %d requests, want at most 3 and the close", got)
		}
		noPerTableQuery(t, p.Log())
	})
}

// noPerTableQuery fails if any request sent Atlas's per-table
// inspection queries: the inspection batch answers them all.
func noPerTableQuery(t *testing.T, log []sqldtest.RequestRecord) {
	t.Helper()
	for _, r := range log {
		if bytes.Contains(r.Body, []byte("FROM pragma_table_xinfo('")) || bytes.Contains(r.Body, []byte("FROM pragma_index_xinfo('")) {
			t.Errorf("a per-table inspection query went to the server: %.300s", r.Body)
		}
	}
}

// Versioned migrations on an up-to-date 50-table database: Status and
// Apply read the revisions, not the tables (4 and 6 requests, as for one
// table). Diff runs in one transaction on the dev database, whatever the
// number of tables and files (10 requests, where replaying statement by
// statement took 368 for 50 tables): the check that it is empty (with
// BEGIN IMMEDIATE), ent's two reads of PRAGMA foreign_keys, Atlas's four
// inspections (one request each) and its replay held back until the
// third, ROLLBACK and the stream's close. A diff that writes a file adds
// the catalog's replay and read (2 requests).
func TestUpToDateVersionedRequests(t *testing.T) {
	for _, n := range []int{5, 50} {
		devP, err := sqldtest.NewProxy(freshServer(t))
		if err != nil {
			t.Fatal(err)
		}
		defer devP.Close()
		p, err := sqldtest.NewProxy(freshServer(t))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		dev, drv := openURL(t, devP.URL()), openURL(t, p.URL())
		dir := localDir(t)
		tables := inspecttest.Tables("v", n)
		diff(t, dev, dir, "init", tables[:n-1])
		// Two files: the cost does not grow with them either.
		diff(t, dev, dir, "last", tables)
		apply(t, drv, dir, schema.ApplyOptions{})
		count := func(what string, p *sqldtest.Proxy, most int64, f func()) {
			p.Reset()
			p.ResetLog()
			f()
			t.Logf("%d tables, %s: %d requests", n, what, p.Requests())
			if p.Requests() > most {
				t.Errorf("%d tables, %s: %d requests, want at most %d", n, what, p.Requests(), most)
			}
			noPerTableQuery(t, p.Log())
		}
		count("Diff", devP, 10, func() {
			if f, err := schema.Diff(context.Background(), dev, dir, "again", tables); err != nil || f != "" {
				t.Fatalf("diff of an up-to-date directory: %q, %v", f, err)
			}
		})
		count("Apply", p, 6, func() { apply(t, drv, dir, schema.ApplyOptions{}) })
		count("Status", p, 4, func() { status(t, drv, dir) })
		changed := inspecttest.Tables("v", n)
		changed[n/2].Columns[1].Nullable = !changed[n/2].Columns[1].Nullable
		count("Diff rebuilding a table", devP, 12, func() {
			if f, err := schema.Diff(context.Background(), dev, dir, "rebuild", changed); err != nil || f == "" {
				t.Fatalf("diff of a changed table: %q, %v", f, err)
			}
		})
	}
}

// uncached sends every query with a leading space: its text is not one
// Atlas sends, so the driver never answers it from an inspection.
type uncached struct{ *libsql.Driver }

func (d uncached) Query(ctx context.Context, query string, args, v any) error {
	return d.Driver.Query(ctx, " "+query, args, v)
}

// Plans are the same with the inspection cache as without, with and
// without WithLibSQL, on databases that hold what ent does not declare
// (triggers, views, STRICT and WITHOUT ROWID tables, generated columns,
// vector indexes) and on a wide schema with foreign keys, for changes
// that rebuild tables and changes made in place.
func TestPlansSameWithoutInspectionCache(t *testing.T) {
	drv := openDriver(t)
	ctx := context.Background()
	f := migratetest.NewFurnished(prefix(t))
	f.Create(t, drv.DB(), func(tables []*entschema.Table) error {
		return migratetest.Migrate(ctx, drv, tables, schema.WithLibSQL())
	}, false)
	wide := inspecttest.Tables(prefix(t), 12)
	if err := migratetest.Migrate(ctx, drv, wide); err != nil {
		t.Fatal(err)
	}
	// The wide schema, changed: a column made nullable, one added, an
	// index dropped, a foreign key removed.
	changed := inspecttest.Tables(wide[0].Name[:len(wide[0].Name)-3], 12)
	changed[3].Columns[1].Nullable = true
	changed[5].Columns = append(changed[5].Columns, &entschema.Column{Name: "extra", Type: field.TypeInt, Nullable: true})
	changed[7].Indexes = nil
	changed[9].ForeignKeys = nil
	n := 0
	for _, to := range [][]*entschema.Table{f.Tables(1), f.Tables(2), f.Tables(3), f.Tables(4), wide, changed} {
		for _, opts := range [][]entschema.MigrateOption{nil, {schema.WithLibSQL()}, {schema.WithLibSQL(), entschema.WithDropIndex(true), entschema.WithDropColumn(true)}} {
			with := planOrError(drv, to, opts...)
			without := planOrError(uncached{drv}, to, opts...)
			if with != without {
				t.Errorf("plan for %s with %d options differs:\nwith the cache:\n%s\nwithout:\n%s", to[0].Name, len(opts), with, without)
			}
			if with != "" {
				n++
			}
		}
	}
	t.Logf("%d plans compared, %d of them change something", 6*3, n)
	if n < 12 {
		t.Fatalf("only %d of the plans compared change anything", n)
	}
}

// planOrError is what WriteTo shows for migrating to tables, or its error.
func planOrError(drv dialect.Driver, tables []*entschema.Table, opts ...entschema.MigrateOption) string {
	var b bytes.Buffer
	if err := migratetest.Migrate(context.Background(), &entschema.WriteDriver{Writer: &b, Driver: drv}, tables, opts...); err != nil {
		return "error: " + err.Error()
	}
	return b.String()
}
