package schema_test

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

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// queryOne returns the one value q reads, as text.
func queryOne(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

// rowsOfTables dumps every row of every table whose name starts with p
// (vector shadow tables left out: their bytes are the index's own).
func rowsOfTables(t *testing.T, db *sql.DB, p string) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ORDER BY name", p+"%")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if !strings.HasSuffix(n, "_shadow") {
			b.WriteString(migratetest.Rows(t, db, "`"+strings.ReplaceAll(n, "`", "``")+"`"))
		}
	}
	return b.String()
}

// withCheck is t with a CHECK added: a change only a rebuild makes.
func withCheck(t *entschema.Table) *entschema.Table {
	cp := *t
	cp.Annotation = &entsql.Annotation{Checks: map[string]string{t.Name + "_ck": "id > 0"}}
	return &cp
}

func nameCol() *entschema.Column { return &entschema.Column{Name: "name", Type: field.TypeString} }

// keepCase is a migration that must keep every object and row: v1 made
// (after hand, if any), extras added by hand, then v2 through Create with
// WithLibSQL, compared with what WriteTo showed; a second run plans nothing.
type keepCase struct {
	hand    func(p string) []string
	v1, v2  func(p string) []*entschema.Table
	extras  func(p string) []string
	changed func(p string) []string // tables whose own definition changes
	check   func(t *testing.T, drv *libsql.Driver, p string)
}

func (c keepCase) run(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx, db := context.Background(), drv.DB()
		p := prefix(t) + "k"
		if c.hand != nil {
			execAll(t, drv, c.hand(p)...)
		}
		if c.v1 != nil {
			if err := migratetest.Migrate(ctx, drv, c.v1(p), schema.WithLibSQL()); err != nil {
				t.Fatalf("v1: %v", err)
			}
		}
		if c.extras != nil {
			execAll(t, drv, c.extras(p)...)
		}
		if e.name == "embedded" {
			execAll(t, drv, "ANALYZE")
		}
		beforeObj, beforeRows, beforeStats := migratetest.Objects(t, db), rowsOfTables(t, db, p), migratetest.Stats(t, db)
		plan := writeTo(t, drv, c.v2(p), schema.WithLibSQL())
		rec := &recorder{Driver: drv}
		if err := migratetest.Migrate(ctx, rec, c.v2(p), schema.WithLibSQL()); err != nil {
			t.Fatalf("v2: %v\nplan:\n%s", err, plan)
		}
		if ran := rec.String(); ran != plan {
			t.Errorf("WriteTo showed:\n%s\nCreate ran:\n%s", plan, ran)
		}
		var changed []string
		if c.changed != nil {
			changed = c.changed(p)
		}
		if lost := migratetest.LostObjects(beforeObj, migratetest.Objects(t, db), changed...); len(lost) > 0 {
			t.Errorf("lost:\n%s\nplan:\n%s", strings.Join(lost, "\n"), plan)
		}
		if after := rowsOfTables(t, db, p); after != beforeRows {
			t.Errorf("rows changed:\nbefore:\n%.4000s\nafter:\n%.4000s", beforeRows, after)
		}
		if st := migratetest.Stats(t, db); st != beforeStats {
			t.Errorf("statistics changed:\n%s\n%s", beforeStats, st)
		}
		if c.check != nil {
			c.check(t, drv, p)
		}
		if again := writeTo(t, drv, c.v2(p), schema.WithLibSQL()); again != "" {
			t.Errorf("a second run plans:\n%s", again)
		}
		migratetest.ForeignKeysOnEverywhere(t, db)
	})
}

// Tables, columns, indexes, triggers and views named with spaces,
// keywords, unicode and mixed case keep everything through a rebuild.
func TestRebuildKeepsOddlyNamedObjects(t *testing.T) {
	for _, n := range []string{"my table", "order", "Ünïcode", "select", "MixedCase"} {
		t.Run(n, func(t *testing.T) {
			tb := func(p string) string { return p + n }
			v := func(check bool) func(p string) []*entschema.Table {
				return func(p string) []*entschema.Table {
					x := intTable(tb(p), &entschema.Column{Name: "a b", Type: field.TypeString}, &entschema.Column{Name: "where", Type: field.TypeInt, Nullable: true})
					if check {
						x = withCheck(x)
					}
					return []*entschema.Table{x}
				}
			}
			keepCase{
				v1: v(false), v2: v(true),
				extras: func(p string) []string {
					q := `"` + tb(p) + `"`
					return []string{
						"INSERT INTO " + q + ` ("a b", "where") VALUES ('x', 1), ('y', NULL), ('it''s', 3)`,
						`CREATE INDEX "` + tb(p) + ` idx" ON ` + q + ` ("a b" COLLATE NOCASE DESC, "where")`,
						`CREATE UNIQUE INDEX "` + tb(p) + ` uq" ON ` + q + ` ("where") WHERE "where" IS NOT NULL`,
						`CREATE TABLE "` + tb(p) + ` log" (m text)`,
						`CREATE TRIGGER "` + tb(p) + ` tr" AFTER INSERT ON ` + q + ` BEGIN INSERT INTO "` + tb(p) + ` log" VALUES (new."a b"); END`,
						`CREATE VIEW "` + tb(p) + ` v" AS SELECT "a b" FROM ` + q,
					}
				},
				changed: func(p string) []string { return []string{tb(p)} },
			}.run(t)
		})
	}
}

// Views over joins and over other views, INSTEAD OF triggers on them, and
// triggers of other tables that write the rebuilt tables keep working
// after both tables are rebuilt.
func TestRebuildKeepsViewsAndTriggersAcrossTables(t *testing.T) {
	v := func(check bool) func(p string) []*entschema.Table {
		return func(p string) []*entschema.Table {
			a := intTable(p+"_a", nameCol())
			b := intTable(p+"_b", nameCol(), &entschema.Column{Name: "a_id", Type: field.TypeInt, Nullable: true})
			if check {
				a, b = withCheck(a), withCheck(b)
			}
			return []*entschema.Table{a, b}
		}
	}
	keepCase{
		v1: v(false), v2: v(true),
		extras: func(p string) []string {
			return []string{
				fmt.Sprintf("INSERT INTO %s_a (name) VALUES ('a1'), ('a2'), ('a3')", p),
				fmt.Sprintf("INSERT INTO %s_b (name, a_id) VALUES ('b1', 1), ('b2', 2), ('b3', NULL)", p),
				fmt.Sprintf("CREATE TABLE %s_other (x text)", p),
				fmt.Sprintf("CREATE TRIGGER %s_other_ins AFTER INSERT ON %s_other BEGIN INSERT INTO %s_a (name) VALUES (new.x); END", p, p, p),
				fmt.Sprintf("CREATE VIEW %s_join AS SELECT a.name AS an, b.name AS bn FROM %s_a a JOIN %s_b b ON b.a_id = a.id", p, p, p),
				fmt.Sprintf("CREATE VIEW %s_vv AS SELECT an FROM %s_join WHERE bn <> ''", p, p),
				fmt.Sprintf("CREATE VIEW %s_va AS SELECT id, name FROM %s_a", p, p),
				fmt.Sprintf("CREATE TRIGGER %s_va_ins INSTEAD OF INSERT ON %s_va BEGIN INSERT INTO %s_a (name) VALUES (upper(new.name)); END", p, p, p),
				fmt.Sprintf("CREATE TRIGGER %s_b_del AFTER DELETE ON %s_b BEGIN DELETE FROM %s_a WHERE id = old.a_id; END", p, p, p),
			}
		},
		changed: func(p string) []string { return []string{p + "_a", p + "_b"} },
		check: func(t *testing.T, drv *libsql.Driver, p string) {
			execAll(t, drv, fmt.Sprintf("INSERT INTO %s_other VALUES ('o1')", p), fmt.Sprintf("INSERT INTO %s_va (name) VALUES ('via')", p))
			if n := queryOne(t, drv.DB(), fmt.Sprintf("SELECT count(*) FROM %s_a WHERE name IN ('o1', 'VIA')", p)); n != "2" {
				t.Errorf("the triggers wrote %s rows, want 2", n)
			}
			if n := queryOne(t, drv.DB(), fmt.Sprintf("SELECT count(*) FROM %s_vv", p)); n != "2" {
				t.Errorf("the view over a view reads %s rows, want 2", n)
			}
		},
	}.run(t)
}

// A STRICT table written by hand with comments everywhere and a column
// ent does not declare keeps them through a rebuild.
func TestRebuildKeepsCommentedTable(t *testing.T) {
	v := func(check bool) func(p string) []*entschema.Table {
		return func(p string) []*entschema.Table {
			a := intTable(p+"_c", nameCol())
			if check {
				a = withCheck(a)
			}
			return []*entschema.Table{a}
		}
	}
	keepCase{
		hand: func(p string) []string {
			return []string{fmt.Sprintf("CREATE TABLE %s_c -- the table\n ( -- cols\n `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, -- id\n `name` text NOT NULL /* name */, extra text -- x\n DEFAULT 'e', -- last\n UNIQUE (extra) -- uq\n ) STRICT -- strict", p)}
		},
		v1: v(false), v2: v(true),
		extras: func(p string) []string {
			return []string{fmt.Sprintf("INSERT INTO %s_c (name, extra) VALUES ('a', 'x'), ('b', 'y')", p)}
		},
		changed: func(p string) []string { return []string{p + "_c"} },
	}.run(t)
}

// Constant defaults of every kind ent writes (quotes, empty strings,
// negative and extreme numbers, booleans, JSON, enums) and expression
// defaults, added in place to rows that exist: each old row reads what a
// new row gets, and a second run plans nothing. (A JSON default holding a
// single quote is stored with it doubled, by ent and Atlas themselves, on
// every driver: not tested here.)
func TestAddColumnDefaultsOfEveryKind(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx, db := context.Background(), drv.DB()
		p := prefix(t) + "ad"
		if err := migratetest.Migrate(ctx, drv, []*entschema.Table{intTable(p, nameCol())}, schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		execAll(t, drv, fmt.Sprintf("INSERT INTO %s (name) VALUES ('a'), ('b')", p))
		cols := []*entschema.Column{
			{Name: "s_quote", Type: field.TypeString, Default: `it's "q" -- not a comment`},
			{Name: "s_empty", Type: field.TypeString, Default: ""},
			{Name: "neg", Type: field.TypeInt, Default: -42},
			{Name: "flt", Type: field.TypeFloat64, Default: -1.5e-3},
			{Name: "flag", Type: field.TypeBool, Default: true},
			{Name: "off", Type: field.TypeBool, Default: false},
			{Name: "js", Type: field.TypeJSON, Default: `{"a":"b c"}`},
			{Name: "en", Type: field.TypeEnum, Enums: []string{"x", "y"}, Default: "y"},
			{Name: "nn", Type: field.TypeString, Nullable: true, Default: "n"},
			{Name: "ex", Type: field.TypeString, Default: entschema.Expr("lower('ABC')")},
			{Name: "big", Type: field.TypeInt64, Default: int64(-9223372036854775808)},
		}
		v2 := intTable(p, append([]*entschema.Column{nameCol()}, cols...)...)
		v2.Indexes = []*entschema.Index{{Name: p + "_en", Columns: []*entschema.Column{cols[7]}}}
		plan := writeTo(t, drv, []*entschema.Table{v2}, schema.WithLibSQL())
		if strings.Contains(plan, "new_") {
			t.Fatalf("adding columns rebuilds:\n%s", plan)
		}
		if err := migratetest.Migrate(ctx, drv, []*entschema.Table{v2}, schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		execAll(t, drv, fmt.Sprintf("INSERT INTO %s (name) VALUES ('c')", p))
		var names []string
		for _, c := range cols {
			names = append(names, fmt.Sprintf("quote(%s)", c.Name))
		}
		q := fmt.Sprintf("SELECT %s FROM %s ORDER BY id", strings.Join(names, " || ',' || "), p)
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := `'it''s "q" -- not a comment','',-42,-0.0015,1,0,'{"a":"b c"}','y','n','abc',-9223372036854775808`
		if len(got) != 3 || got[0] != want || got[1] != want || got[2] != want {
			t.Fatalf("old and new rows read:\n%s\nwant each:\n%s", strings.Join(got, "\n"), want)
		}
		if again := writeTo(t, drv, []*entschema.Table{v2}, schema.WithLibSQL()); again != "" {
			t.Errorf("a second run plans:\n%s", again)
		}
	})
}
