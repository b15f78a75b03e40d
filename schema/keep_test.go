package schema_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// furnished makes the furnished tables (see migratetest.Furnished) on drv,
// with statistics where the engine can make them.
func furnished(t *testing.T, drv *libsql.Driver, e engine) migratetest.Furnished {
	t.Helper()
	f := migratetest.NewFurnished(prefix(t) + "f")
	f.Create(t, drv.DB(), func(tables []*entschema.Table) error {
		return migratetest.Migrate(context.Background(), drv, tables, schema.WithLibSQL())
	}, e.name == "embedded")
	return f
}

// state is what a migration must keep: every object, every row.
type state struct {
	objects map[string]migratetest.Object
	rows    string
	stats   string
}

func stateOf(t *testing.T, drv *libsql.Driver, f migratetest.Furnished) state {
	t.Helper()
	db := drv.DB()
	var rows strings.Builder
	for _, tb := range []string{f.Items, f.Strict, f.NoRowid, f.Random, f.Audit} {
		rows.WriteString(migratetest.Rows(t, db, tb))
	}
	return state{objects: migratetest.Objects(t, db), rows: rows.String(), stats: migratetest.Stats(t, db)}
}

// A rebuild of every table (a CHECK added to each) keeps, object by
// object and row by row, what the ent schema does not declare; WriteTo
// shows exactly the statements Create runs; a second run plans nothing.
func TestRebuildKeepsEverything(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx := context.Background()
		f := furnished(t, drv, e)
		before := stateOf(t, drv, f)
		if e.name == "embedded" && before.stats == "" {
			t.Fatal("ANALYZE left no statistics to keep")
		}
		plan := writeTo(t, drv, f.Tables(2), schema.WithLibSQL())
		for _, want := range []string{"CREATE TABLE `new_" + f.Items + "`", "RANDOM ROWID", "WITHOUT ROWID", "STRICT",
			"DROP VIEW `" + f.View + "`", "CREATE TRIGGER " + f.Items + "_fts_ai", "libsql_vector_idx", "`legacy`"} {
			if !strings.Contains(plan, want) {
				t.Errorf("the plan does not say %q:\n%s", want, plan)
			}
		}
		rec := &recorder{Driver: drv}
		if err := migratetest.Migrate(ctx, rec, f.Tables(2), schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		if ran := rec.String(); ran != plan {
			t.Fatalf("WriteTo showed:\n%s\nCreate ran:\n%s", plan, ran)
		}
		after := stateOf(t, drv, f)
		if lost := migratetest.LostObjects(before.objects, after.objects, f.Items, f.Strict, f.NoRowid, f.Random); len(lost) > 0 {
			t.Fatalf("the rebuild lost:\n%s", strings.Join(lost, "\n"))
		}
		if after.rows != before.rows {
			t.Fatalf("rows changed:\nbefore:\n%.3000s\nafter:\n%.3000s", before.rows, after.rows)
		}
		if after.stats != before.stats {
			t.Fatalf("statistics changed:\nbefore:\n%s\nafter:\n%s", before.stats, after.stats)
		}
		for _, tb := range []string{f.Items, f.Strict, f.NoRowid, f.Random} {
			if !strings.Contains(after.objects["table "+tb].SQL, "CHECK (length(name) > 0)") {
				t.Fatalf("%s did not get its CHECK: %s", tb, after.objects["table "+tb].SQL)
			}
		}
		f.CheckWorking(t, drv.DB())
		if again := writeTo(t, drv, f.Tables(2), schema.WithLibSQL()); again != "" {
			t.Fatalf("a second run plans:\n%s", again)
		}
		migratetest.ForeignKeysOnEverywhere(t, drv.DB())
	})
}

// Without WithLibSQL the driver cannot tell what ent means to drop, so a
// rebuild that would lose anything is rolled back, naming it.
func TestPlainRebuildRefuses(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx, db := context.Background(), drv.DB()
		f := furnished(t, drv, e)
		before := stateOf(t, drv, f)
		err := migratetest.Migrate(ctx, drv, f.Tables(2))
		var re *libsql.RebuildError
		if !errors.As(err, &re) || len(re.Blocked) == 0 {
			t.Fatalf("want a RebuildError for the view, got %v", err)
		}
		for _, want := range []string{`view "` + f.View + `"`, `trigger "` + f.Audit + `_forget"`, "WithLibSQL", "nothing changed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q: %v", want, err)
			}
		}
		if after := stateOf(t, drv, f); after.rows != before.rows || len(migratetest.LostObjects(before.objects, after.objects)) > 0 {
			t.Fatal("the refused migration changed the database")
		}
		// Without the view and the trigger that read the table, the
		// rebuild runs, and what it would lose stops it.
		for _, q := range []string{"DROP VIEW " + f.View, "DROP TRIGGER " + f.Audit + "_forget"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		before = stateOf(t, drv, f)
		err = migratetest.Migrate(ctx, drv, f.Tables(2))
		if !errors.As(err, &re) || len(re.Lost) == 0 {
			t.Fatalf("want a RebuildError for what is lost, got %v", err)
		}
		wants := []string{`column "legacy"`, `column "lname"`, `index "` + f.Items + `_vec"`, `index "` + f.Items + `_lower"`,
			`trigger "` + f.Items + `_log"`, `trigger "` + f.Items + `_fts_ai"`, "table option STRICT", "table option WITHOUT ROWID", "table option RANDOM ROWID"}
		if e.name == "embedded" {
			wants = append(wants, "sqlite_stat1 rows")
		}
		for _, want := range wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not name %s: %v", want, err)
			}
		}
		if after := stateOf(t, drv, f); after.rows != before.rows || len(migratetest.LostObjects(before.objects, after.objects)) > 0 || after.stats != before.stats {
			t.Fatal("the refused migration changed the database")
		}
		migratetest.ForeignKeysOnEverywhere(t, db)
		// With the option, the same migration goes through.
		if err := migratetest.Migrate(ctx, drv, f.Tables(2), schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
	})
}

// Adding fields, one with a constant default and one with
// CURRENT_TIMESTAMP, changes the table in place: no rebuild, every object
// and row kept, the table's triggers not fired by the rows getting their
// default.
func TestAddColumnsInPlace(t *testing.T) {
	onEngines(t, func(t *testing.T, drv *libsql.Driver, e engine) {
		ctx, db := context.Background(), drv.DB()
		f := furnished(t, drv, e)
		before := stateOf(t, drv, f)
		plan := writeTo(t, drv, f.Tables(3), schema.WithLibSQL())
		if strings.Contains(plan, "new_") || strings.Contains(plan, "DROP TABLE") ||
			!strings.Contains(plan, "ALTER TABLE `"+f.Items+"` ADD COLUMN `rank` integer NOT NULL DEFAULT (7)") ||
			!strings.Contains(plan, "UPDATE `"+f.Items+"` SET `seen` = (CURRENT_TIMESTAMP)") {
			t.Fatalf("plan:\n%s", plan)
		}
		if err := migratetest.Migrate(ctx, drv, f.Tables(3), schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		after := stateOf(t, drv, f)
		if lost := migratetest.LostObjects(before.objects, after.objects, f.Items); len(lost) > 0 {
			t.Fatalf("lost:\n%s", strings.Join(lost, "\n"))
		}
		if after.stats != before.stats {
			t.Fatal("statistics changed")
		}
		if n := migratetest.Count(t, db, f.Items+" WHERE rank = 7 AND seen IS NOT NULL AND seen <> ''"); n != migratetest.NumItems {
			t.Fatalf("%d of %d rows have their defaults", n, migratetest.NumItems)
		}
		if n, m := migratetest.Count(t, db, f.Audit), strings.Count(before.rows, "added "); n != m {
			t.Fatalf("the audit log has %d rows, %d before: the default fired the update triggers", n, m)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (name) VALUES ('later')", f.Items)); err != nil {
			t.Fatal(err)
		}
		if n := migratetest.Count(t, db, f.Items+" WHERE name = 'later' AND rank = 7 AND seen <> ''"); n != 1 {
			t.Fatal("the declared defaults do not apply to new rows")
		}
		f.CheckWorking(t, db)
		if again := writeTo(t, drv, f.Tables(3), schema.WithLibSQL()); again != "" {
			t.Fatalf("a second run plans:\n%s", again)
		}
	})
}

// recorder writes what a migration executes as ent's WriteDriver does,
// so that it compares with WriteTo.
type recorder struct {
	*libsql.Driver
	mu sync.Mutex
	b  strings.Builder
}

func (r *recorder) write(query string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !strings.HasSuffix(query, ";") {
		query += ";"
	}
	r.b.WriteString(query + "\n")
}

func (r *recorder) String() string { r.mu.Lock(); defer r.mu.Unlock(); return r.b.String() }

func (r *recorder) Exec(ctx context.Context, query string, args, v any) error {
	r.write(query)
	return r.Driver.Exec(ctx, query, args, v)
}

func (r *recorder) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := r.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &recordedTx{Tx: tx, r: r}, nil
}

type recordedTx struct {
	dialect.Tx
	r *recorder
}

func (t *recordedTx) Exec(ctx context.Context, query string, args, v any) error {
	t.r.write(query)
	return t.Tx.Exec(ctx, query, args, v)
}

// freshEngines are the engines with a fresh, empty database per call, as
// a dev database and a first versioned migration need.
func freshEngines(t *testing.T) []engine {
	es := []engine{{"sqld", func(t testing.TB) *libsql.Driver { return freshDriver(t.(*testing.T)) }}}
	if embeddedEngine == nil {
		t.Log("this build has no cgo: the embedded engine is not tested")
		return es
	}
	return append(es, *embeddedEngine)
}

// The files versioned Diff writes keep what the tables hold: replayed on
// the dev database, the directory says what that is (triggers, views,
// indexes and columns made by hand-written files, tables made STRICT,
// WITHOUT ROWID or RANDOM ROWID), and the rebuilds the new files plan
// make it again. Applied to a database with rows, they keep every object
// and every row. They use no statement Atlas's SQLite dev database could
// not replay (ALTER COLUMN).
func TestDiffKeepsObjects(t *testing.T) {
	for _, e := range freshEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			// A fresh dev database for every diff: what ent leaves in one
			// after a diff is for the dev-database cleaning to empty.
			target := e.open(t)
			diff := func(t *testing.T, _ *libsql.Driver, dir migrate.Dir, name string, tables []*entschema.Table) string {
				return diff(t, e.open(t), dir, name, tables)
			}
			dir := localDir(t)
			f := migratetest.NewFurnished("dk")
			writeHashed(t, dir, "1_hand.sql", strings.Join(f.HandTables(), ";\n")+";\n")
			diff(t, nil, dir, "ent", f.Tables(1))
			time.Sleep(time.Second) // file versions are seconds, as Atlas writes them
			writeHashed(t, dir, time.Now().UTC().Format("20060102150405")+"_extras.sql", strings.Join(f.Extras(), ";\n")+";\n")
			apply(t, target, dir, schema.ApplyOptions{})
			f.Fill(t, target.DB(), e.name == "embedded")

			for i, v := range []int{2, 4} {
				time.Sleep(time.Second)
				file := diff(t, nil, dir, fmt.Sprintf("v%d", v), f.Tables(v))
				body, err := os.ReadFile(filepath.Join(dir.Path(), file))
				if err != nil {
					t.Fatal(err)
				}
				text := string(body)
				for _, want := range []string{"DROP VIEW `" + f.View + "`", "CREATE TRIGGER " + f.Items + "_fts_ai", "libsql_vector_idx", "`legacy`"} {
					if !strings.Contains(text, want) {
						t.Errorf("file %s does not say %q:\n%s", file, want, text)
					}
				}
				if i == 0 && (!strings.Contains(text, "STRICT") || !strings.Contains(text, "WITHOUT ROWID") || !strings.Contains(text, "RANDOM ROWID")) {
					t.Errorf("file %s lost the table options:\n%s", file, text)
				}
				if strings.Contains(text, "ALTER COLUMN") {
					t.Errorf("file %s uses libSQL's ALTER COLUMN:\n%s", file, text)
				}
				before := stateOf(t, target, f)
				if got := apply(t, target, dir, schema.ApplyOptions{}); strings.Join(got, ",") != file {
					t.Fatalf("applied %v, want %s", got, file)
				}
				after := stateOf(t, target, f)
				if lost := migratetest.LostObjects(before.objects, after.objects, f.Items, f.Strict, f.NoRowid, f.Random); len(lost) > 0 {
					t.Fatalf("applying %s lost:\n%s", file, strings.Join(lost, "\n"))
				}
				if v == 2 && after.rows != before.rows {
					t.Fatalf("applying %s changed rows:\nbefore:\n%.2000s\nafter:\n%.2000s", file, before.rows, after.rows)
				}
				if after.stats != before.stats {
					t.Fatalf("applying %s changed the statistics:\n%s\n%s", file, before.stats, after.stats)
				}
			}
			if n := migratetest.Count(t, target.DB(), f.Items+" WHERE rank = 7 AND seen <> ''"); n != migratetest.NumItems {
				t.Fatalf("%d rows got the new fields' defaults", n)
			}
			f.CheckWorking(t, target.DB())
			if file, err := schema.Diff(ctx, e.open(t), dir, "again", f.Tables(4)); err != nil || file != "" {
				t.Fatalf("a diff with nothing to do wrote %q, %v", file, err)
			}
		})
	}
}
