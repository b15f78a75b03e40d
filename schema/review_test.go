package schema_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/entsql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// execAll runs statements on drv's database, failing the test on the first
// error.
func execAll(t *testing.T, drv *libsql.Driver, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := drv.DB().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// intTable is an ent table with an autoincrement id and cols.
func intTable(name string, cols ...*entschema.Column) *entschema.Table {
	t := &entschema.Table{Name: name, Columns: append([]*entschema.Column{{Name: "id", Type: field.TypeInt, Increment: true}}, cols...)}
	t.PrimaryKey = t.Columns[:1]
	return t
}

// Dropping a column keeps what only looks like a use of it: a function of
// the same name (length(title) and a column "length"), the table's own
// name when a column has it too, another table's column of that name. A
// drop used to take these for uses: the indexes were dropped with the
// column, and a trigger or a view stopped the migration.
func TestDropColumnKeepsWhatOnlyMentionsIt(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx, db := context.Background(), drv.DB()
		tag := prefix(t) + "tag"
		col := func(name string) *entschema.Column {
			return &entschema.Column{Name: name, Type: field.TypeString, Nullable: true}
		}
		// The table is named like one of its columns.
		v1 := intTable(tag, col(tag), col("length"), col("title"))
		if err := migratetest.Migrate(ctx, drv, []*entschema.Table{v1}, schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		execAll(t, drv,
			fmt.Sprintf("INSERT INTO %s (%s, length, title) VALUES ('a', '1', 'x'), ('b', '2', 'yy')", tag, tag),
			fmt.Sprintf("CREATE TABLE %s_log (length text, msg text)", tag),
			fmt.Sprintf("CREATE INDEX %s_tl ON %s (length(title))", tag, tag),
			fmt.Sprintf("CREATE INDEX %s_title ON %s (title COLLATE NOCASE)", tag, tag),
			fmt.Sprintf("CREATE TRIGGER %s_tr AFTER INSERT ON %s BEGIN INSERT INTO %s_log (length, msg) VALUES (length(new.title), new.title); END", tag, tag, tag),
			fmt.Sprintf("CREATE VIEW %s_v AS SELECT id, length(title) AS length FROM %s", tag, tag),
			fmt.Sprintf("CREATE VIEW %s_lv AS SELECT l.length FROM %s_log l JOIN %s t ON t.title = l.msg", tag, tag, tag),
		)
		before := migratetest.Objects(t, db)
		v2 := intTable(tag, col("title"))
		opts := []entschema.MigrateOption{schema.WithLibSQL(), entschema.WithDropColumn(true)}
		plan := writeTo(t, drv, []*entschema.Table{v2}, opts...)
		if strings.Contains(plan, "DROP INDEX") || strings.Contains(plan, "new_") {
			t.Fatalf("the plan drops an index or rebuilds:\n%s", plan)
		}
		if err := migratetest.Migrate(ctx, drv, []*entschema.Table{v2}, opts...); err != nil {
			t.Fatal(err)
		}
		if lost := migratetest.LostObjects(before, migratetest.Objects(t, db), tag); len(lost) > 0 {
			t.Fatalf("lost:\n%s", strings.Join(lost, "\n"))
		}
		if got := migratetest.Rows(t, db, tag); !strings.Contains(got, "[1 1 x]") || !strings.Contains(got, "[2 2 yy]") {
			t.Fatalf("rows:\n%s", got)
		}
		execAll(t, drv, fmt.Sprintf("INSERT INTO %s (title) VALUES ('zzz')", tag))
		if n := migratetest.Count(t, db, tag+"_log WHERE length = 3"); n != 1 {
			t.Fatalf("the trigger logged %d rows", n)
		}
	})
}

// A table rebuild keeps the AUTOINCREMENT counter: DROP TABLE deleted
// the table's sqlite_sequence row and the copy left the largest id still
// there, so the ids of rows deleted from the end were given again. Through
// Create with and without WithLibSQL, a file Diff writes and a file as
// the Atlas CLI writes it.
func TestRebuildKeepsAutoincrementCounter(t *testing.T) {
	ctx := context.Background()
	v := func(name string, check bool) []*entschema.Table {
		tb := intTable(name, &entschema.Column{Name: "name", Type: field.TypeString})
		if check {
			tb.Annotation = &entsql.Annotation{Checks: map[string]string{name + "_ck": "id > 0"}}
		}
		return []*entschema.Table{tb}
	}
	// fill inserts 10 rows and deletes the last 5: the counter is 10.
	fill := func(t *testing.T, drv *libsql.Driver, name string) {
		t.Helper()
		for i := 0; i < 10; i++ {
			execAll(t, drv, fmt.Sprintf("INSERT INTO %s (name) VALUES ('x')", name))
		}
		execAll(t, drv, fmt.Sprintf("DELETE FROM %s WHERE id > 5", name))
	}
	nextID := func(t *testing.T, drv *libsql.Driver, name string) int {
		t.Helper()
		var id int
		if err := drv.DB().QueryRowContext(ctx, fmt.Sprintf("INSERT INTO %s (name) VALUES ('new') RETURNING id", name)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, tc := range []struct {
		name string
		opts []entschema.MigrateOption
	}{{"WithLibSQL", []entschema.MigrateOption{schema.WithLibSQL()}}, {"plain", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
				name := prefix(t) + "seq"
				if err := migratetest.Migrate(ctx, drv, v(name, false), tc.opts...); err != nil {
					t.Fatal(err)
				}
				fill(t, drv, name)
				if err := migratetest.Migrate(ctx, drv, v(name, true), tc.opts...); err != nil {
					t.Fatal(err)
				}
				if id := nextID(t, drv, name); id != 11 {
					t.Fatalf("after the rebuild the next id is %d, want 11", id)
				}
			})
		})
	}
	t.Run("versioned", func(t *testing.T) {
		for _, e := range freshEngines(t) {
			t.Run(e.name, func(t *testing.T) {
				target, dir := e.open(t), localDir(t)
				name := "vseq"
				diff(t, e.open(t), dir, "init", v(name, false))
				apply(t, target, dir, schema.ApplyOptions{})
				fill(t, target, name)
				time.Sleep(time.Second) // file versions are seconds
				file := diff(t, e.open(t), dir, "check", v(name, true))
				if body := readFile(t, dir, file); !strings.Contains(body, "sqlite_sequence") {
					t.Fatalf("the file does not keep the counter:\n%s", body)
				}
				apply(t, target, dir, schema.ApplyOptions{})
				if id := nextID(t, target, name); id != 11 {
					t.Fatalf("after the file's rebuild the next id is %d, want 11", id)
				}
				// A rebuild as the Atlas CLI writes it, which knows no counter.
				execAll(t, target, fmt.Sprintf("DELETE FROM %s WHERE id > 5", name))
				time.Sleep(time.Second)
				writeHashed(t, dir, time.Now().UTC().Format("20060102150405")+"_atlas.sql", strings.Join([]string{
					"PRAGMA foreign_keys = off;",
					"CREATE TABLE `new_vseq` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, CONSTRAINT `vseq_ck2` CHECK (length(name) > 0));",
					"INSERT INTO `new_vseq` (`id`, `name`) SELECT `id`, `name` FROM `vseq`;",
					"DROP TABLE `vseq`;",
					"ALTER TABLE `new_vseq` RENAME TO `vseq`;",
					"PRAGMA foreign_keys = on;",
				}, "\n")+"\n")
				apply(t, target, dir, schema.ApplyOptions{})
				if id := nextID(t, target, name); id != 12 {
					t.Fatalf("after the Atlas file's rebuild the next id is %d, want 12", id)
				}
			})
		}
	})
}

// A STRICT table given a type STRICT refuses (an ANY column that ent
// declares bool, or a new bool or time field) is refused before anything
// runs, naming the column and STRICT, as the rebuild refuses it; in place,
// libSQL's ALTER COLUMN failed with the table's definition for its only
// message, and ADD COLUMN failed once the plan ran. A column of a type
// STRICT accepts is still added in place.
func TestStrictTableRefusesTypeInPlace(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx, db := context.Background(), drv.DB()
		name := prefix(t) + "sa"
		execAll(t, drv, fmt.Sprintf("CREATE TABLE %s (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `flag` ANY NOT NULL, `n` INT NOT NULL) STRICT", name),
			fmt.Sprintf("INSERT INTO %s (flag, n) VALUES (1, 3)", name))
		asBool := &entschema.Column{Name: "flag", Type: field.TypeBool}
		asAny := &entschema.Column{Name: "flag", Type: field.TypeOther, SchemaType: map[string]string{"sqlite3": "ANY"}}
		n := &entschema.Column{Name: "n", Type: field.TypeInt}
		for _, c := range []struct {
			v2   *entschema.Table
			want string
		}{
			{intTable(name, asBool, n), `column "flag" as "bool", which STRICT tables refuse`},
			{intTable(name, asAny, n, &entschema.Column{Name: "ok", Type: field.TypeBool, Default: true}), `column "ok" as "bool", which STRICT tables refuse`},
			{intTable(name, asAny, n, &entschema.Column{Name: "at", Type: field.TypeTime, Nullable: true}), `column "at" as "datetime", which STRICT tables refuse`},
		} {
			before := migratetest.Objects(t, db)
			err := migratetest.Migrate(ctx, drv, []*entschema.Table{c.v2}, schema.WithLibSQL())
			var ke *schema.KeepError
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want a KeepError saying %s, got %v", c.want, err)
			}
			if lost := migratetest.LostObjects(before, migratetest.Objects(t, db)); len(lost) > 0 {
				t.Fatalf("the refused migration changed: %v", lost)
			}
		}
		v3 := intTable(name, asAny, n, &entschema.Column{Name: "ok", Type: field.TypeInt, Default: 1})
		plan := writeTo(t, drv, []*entschema.Table{v3}, schema.WithLibSQL())
		if !strings.Contains(plan, "ADD COLUMN `ok` integer NOT NULL DEFAULT (1)") || strings.Contains(plan, "new_") {
			t.Fatalf("a column STRICT accepts is not added in place:\n%s", plan)
		}
	})
}
