package migratetest

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"

	"entgo.io/ent/dialect/entsql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
)

// Furnished is a set of ent tables that also hold what the ent schema
// does not declare, as real databases do: a column added by hand with
// its values, a generated column, a libSQL vector column with its vector
// index, an expression index, triggers (an audit log, and an FTS5 index
// kept in sync), a view, a trigger of another table that writes to it,
// and tables made by hand as STRICT, WITHOUT ROWID and RANDOM ROWID,
// which ent then manages.
type Furnished struct {
	Prefix                         string
	Items, Strict, NoRowid, Random string // the ent tables
	Audit, FTS, View               string // made by hand
}

// NumItems is the rows of the items table.
const NumItems = 120

// NewFurnished names a set of tables.
func NewFurnished(prefix string) Furnished {
	return Furnished{
		Prefix: prefix,
		Items:  prefix + "_items", Strict: prefix + "_strict", NoRowid: prefix + "_wr", Random: prefix + "_rr",
		Audit: prefix + "_audit", FTS: prefix + "_fts", View: prefix + "_named",
	}
}

// Tables is the ent schema of version v: 1 as created, 2 adds a CHECK to
// every table (a change SQLite can only make by rebuilding the table),
// 3 adds to items a field with a constant default and one with
// CURRENT_TIMESTAMP, 4 both.
func (f Furnished) Tables(v int) []*entschema.Table {
	check := func(t *entschema.Table) {
		if v == 2 || v == 4 {
			t.Annotation = &entsql.Annotation{Checks: map[string]string{t.Name + "_ck": "length(name) > 0"}}
		}
	}
	intID := func() *entschema.Column { return &entschema.Column{Name: "id", Type: field.TypeInt, Increment: true} }
	name := func() *entschema.Column { return &entschema.Column{Name: "name", Type: field.TypeString} }

	items := &entschema.Table{Name: f.Items, Columns: []*entschema.Column{
		intID(), name(), {Name: "note", Type: field.TypeString, Nullable: true},
	}}
	if v >= 3 {
		items.Columns = append(items.Columns,
			&entschema.Column{Name: "rank", Type: field.TypeInt, Default: 7},
			&entschema.Column{Name: "seen", Type: field.TypeString, Default: entschema.Expr("CURRENT_TIMESTAMP")})
	}
	items.PrimaryKey = items.Columns[:1]
	items.Indexes = []*entschema.Index{{Name: f.Items + "_name", Columns: items.Columns[1:2]}}
	check(items)

	strict := &entschema.Table{Name: f.Strict, Columns: []*entschema.Column{intID(), name()}}
	strict.PrimaryKey = strict.Columns[:1]
	check(strict)

	wr := &entschema.Table{Name: f.NoRowid, Columns: []*entschema.Column{{Name: "id", Type: field.TypeString}, name()}}
	wr.PrimaryKey = wr.Columns[:1]
	check(wr)

	rr := &entschema.Table{Name: f.Random, Columns: []*entschema.Column{intID(), name()}}
	rr.PrimaryKey = rr.Columns[:1]
	check(rr)
	return []*entschema.Table{items, strict, wr, rr}
}

// Create makes the tables as version 1 (with migrate) and everything
// around them, and fills them (see Fill).
func (f Furnished) Create(t testing.TB, db *sql.DB, migrate func([]*entschema.Table) error, stats bool) {
	t.Helper()
	execAll(t, db, f.HandTables())
	if err := migrate(f.Tables(1)); err != nil {
		t.Fatalf("creating the tables: %v", err)
	}
	execAll(t, db, f.Extras())
	f.Fill(t, db, stats)
}

func execAll(t testing.TB, db *sql.DB, stmts []string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// HandTables makes the tables ent cannot make as they are (STRICT,
// WITHOUT ROWID, RANDOM ROWID): ent adopts them.
func (f Furnished) HandTables() []string {
	return []string{
		fmt.Sprintf("CREATE TABLE %s (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL) STRICT", f.Strict),
		fmt.Sprintf("CREATE TABLE %s (`id` text NOT NULL, `name` text NOT NULL, PRIMARY KEY (`id`)) WITHOUT ROWID", f.NoRowid),
		fmt.Sprintf("CREATE TABLE %s (`id` integer NOT NULL PRIMARY KEY, `name` text NOT NULL) RANDOM ROWID", f.Random),
	}
}

// Extras makes what the ent schema does not declare, once ent made its
// tables.
func (f Furnished) Extras() []string {
	it := f.Items
	return []string{
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN legacy text DEFAULT 'old' COLLATE NOCASE", it),
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN lname text GENERATED ALWAYS AS (lower(name)) VIRTUAL", it),
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN emb F32_BLOB(3)", it),
		fmt.Sprintf("CREATE INDEX %s_lower ON %s (lower(name))", it, it),
		fmt.Sprintf("CREATE INDEX %s_vec ON %s (libsql_vector_idx(emb, 'metric=cosine'))", it, it),
		fmt.Sprintf("CREATE TABLE %s (item integer, msg text)", f.Audit),
		fmt.Sprintf("CREATE TRIGGER %s_log AFTER INSERT ON %s BEGIN INSERT INTO %s VALUES (new.id, 'added ' || new.name); END", it, it, f.Audit),
		fmt.Sprintf("CREATE VIRTUAL TABLE %s USING fts5(name, content='%s', content_rowid='id')", f.FTS, it),
		fmt.Sprintf("CREATE TRIGGER %s_fts_ai AFTER INSERT ON %s BEGIN INSERT INTO %s (rowid, name) VALUES (new.id, new.name); END", it, it, f.FTS),
		fmt.Sprintf("CREATE TRIGGER %s_fts_ad AFTER DELETE ON %s BEGIN INSERT INTO %s (%s, rowid, name) VALUES ('delete', old.id, old.name); END", it, it, f.FTS, f.FTS),
		fmt.Sprintf("CREATE TRIGGER %s_touch AFTER UPDATE OF name ON %s BEGIN INSERT INTO %s VALUES (new.id, 'renamed'); END", it, it, f.Audit),
		fmt.Sprintf("CREATE TRIGGER %s_touch_all AFTER UPDATE ON %s BEGIN INSERT INTO %s VALUES (new.id, 'updated'); END", it, it, f.Audit),
		fmt.Sprintf("CREATE VIEW %s AS SELECT id, name, legacy FROM %s WHERE name <> ''", f.View, it),
		fmt.Sprintf("CREATE TRIGGER %s_forget AFTER DELETE ON %s BEGIN UPDATE %s SET legacy = 'forgotten' WHERE id = old.item; END", f.Audit, f.Audit, it),
	}
}

// Fill inserts the rows, in one transaction (a local file syncs at every
// commit). With stats, it runs ANALYZE (the embedded engine only: sqld
// refuses it).
func (f Furnished) Fill(t testing.TB, db *sql.DB, stats bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := 1; i <= NumItems; i++ {
		exec(fmt.Sprintf("INSERT INTO %s (name, note, legacy, emb) VALUES (?, ?, ?, vector32(?))", f.Items),
			fmt.Sprintf("Item%03d", i), fmt.Sprintf("note %d", i), fmt.Sprintf("legacy %d", i), Vector(i))
	}
	for i := 1; i <= 20; i++ {
		exec(fmt.Sprintf("INSERT INTO %s (name) VALUES (?)", f.Strict), fmt.Sprintf("s%d", i))
		exec(fmt.Sprintf("INSERT INTO %s (id, name) VALUES (?, ?)", f.NoRowid), fmt.Sprintf("k%02d", i), fmt.Sprintf("w%d", i))
		exec(fmt.Sprintf("INSERT INTO %s (name) VALUES (?)", f.Random), fmt.Sprintf("r%d", i))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if stats {
		execAll(t, db, []string{"ANALYZE"})
	}
}

// Vector is item i's embedding: distinct directions, so that the nearest
// neighbour of an item's own vector is that item.
func Vector(i int) string {
	return fmt.Sprintf("[%d, %d, %d]", i%7+1, i%11+1, i%13+1)
}

// Object is a schema object as sqlite_master holds it.
type Object struct{ Type, Name, Table, SQL string }

// Objects lists the database's schema objects, by "type name".
func Objects(t testing.TB, db *sql.DB) map[string]Object {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	objs := map[string]Object{}
	for rows.Next() {
		var o Object
		if err := rows.Scan(&o.Type, &o.Name, &o.Table, &o.SQL); err != nil {
			t.Fatal(err)
		}
		objs[o.Type+" "+o.Name] = o
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return objs
}

// LostObjects compares two listings: every object of before must be in
// after, with the same SQL except the tables in changed (whose definition
// the migration changes on purpose). It returns what differs.
func LostObjects(before, after map[string]Object, changed ...string) []string {
	var lost []string
	for key, b := range before {
		a, ok := after[key]
		switch {
		case !ok:
			lost = append(lost, key+" is gone")
		case b.Type == "table" && contains(changed, b.Name):
		case a.SQL != b.SQL:
			lost = append(lost, fmt.Sprintf("%s changed:\n  %s\n  %s", key, b.SQL, a.SQL))
		}
	}
	sort.Strings(lost)
	return lost
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Rows is every row of table, rowid first where there is one, in a
// canonical text form.
func Rows(t testing.TB, db *sql.DB, table string) string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT rowid AS rowid_, * FROM %s ORDER BY 1", table))
	if err != nil {
		// WITHOUT ROWID.
		if rows, err = db.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s ORDER BY 1", table)); err != nil {
			t.Fatal(err)
		}
	}
	cols, _ := rows.Columns()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v\n", table, cols)
	eachRow(t, rows, func(vals []any) {
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				vals[i] = fmt.Sprintf("x'%x'", bs)
			}
		}
		fmt.Fprintf(&b, "%v\n", vals)
	})
	return b.String()
}

// Stats is the sqlite_stat1 rows, sorted, or "" without the table.
func Stats(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT tbl || '|' || coalesce(idx, '') || '|' || stat FROM sqlite_stat1 ORDER BY 1")
	if err != nil {
		return ""
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

// CheckWorking checks that what surrounds the tables still works after a
// migration: the vector index finds an item by its own vector, the FTS
// index finds old rows and, through its trigger, new ones, the audit
// trigger logs, the view and the other table's trigger read and write
// the table, and the rebuilt tables take rows. It adds rows.
func (f Furnished) CheckWorking(t testing.TB, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	one := func(q string, args ...any) string {
		t.Helper()
		var s sql.NullString
		if err := db.QueryRowContext(ctx, q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s.String
	}
	if got := one(fmt.Sprintf("SELECT i.name FROM vector_top_k('%s_vec', vector32(?), 1) k JOIN %s i ON i.rowid = k.id", f.Items, f.Items), Vector(42)); got != "Item042" {
		t.Fatalf("vector_top_k found %q, want Item042", got)
	}
	if got := one(fmt.Sprintf("SELECT name FROM %s WHERE %s MATCH 'Item077'", f.FTS, f.FTS)); got != "Item077" {
		t.Fatalf("FTS found %q for an old row", got)
	}
	audits := one(fmt.Sprintf("SELECT count(*) FROM %s", f.Audit))
	if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (name, emb) VALUES ('Fresh', vector32(?))", f.Items), Vector(1000)); err != nil {
		t.Fatalf("insert after the migration: %v", err)
	}
	if got := one(fmt.Sprintf("SELECT count(*) FROM %s", f.Audit)); got == audits {
		t.Fatal("the audit trigger did not fire")
	}
	if got := one(fmt.Sprintf("SELECT name FROM %s WHERE %s MATCH 'Fresh'", f.FTS, f.FTS)); got != "Fresh" {
		t.Fatalf("FTS found %q for a new row: its sync trigger is gone", got)
	}
	if got := one(fmt.Sprintf("SELECT lname FROM %s WHERE name = 'Fresh'", f.Items)); got != "fresh" {
		t.Fatalf("generated column: %q", got)
	}
	if got := one(fmt.Sprintf("SELECT count(*) FROM %s WHERE legacy = 'LEGACY 5'", f.View)); got != "1" {
		t.Fatalf("the view (or the column's COLLATE NOCASE) does not work: %s rows", got)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE item = 3", f.Audit)); err != nil {
		t.Fatal(err)
	}
	if got := one(fmt.Sprintf("SELECT legacy FROM %s WHERE id = 3", f.Items)); got != "forgotten" {
		t.Fatalf("the audit table's trigger did not write to the items: %q", got)
	}
	for _, tb := range []string{f.Strict, f.Random} {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (name) VALUES ('new')", tb)); err != nil {
			t.Fatalf("insert into %s: %v", tb, err)
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (name) VALUES (x'00')", f.Strict)); err == nil {
		t.Fatalf("%s took a blob for a text column: it is no longer STRICT", f.Strict)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (id, name) VALUES ('zz', 'new')", f.NoRowid)); err != nil {
		t.Fatal(err)
	}
}
