package schema_test

import (
	"bytes"
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
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/schema"
)

func TestMain(m *testing.M) { sqldtest.Main(m) }

func openDriver(t testing.TB, opts ...libsql.Option) *libsql.Driver {
	t.Helper()
	drv, err := libsql.Open(sqldtest.URL(), append([]libsql.Option{libsql.WithAuthToken(sqldtest.AuthToken())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return drv
}

func prefix(t *testing.T) string {
	return fmt.Sprintf("s%d", time.Now().UnixNano()%1e12)
}

// writeTo returns what ent's WriteTo shows for migrating to tables.
func writeTo(t *testing.T, drv *libsql.Driver, tables []*entschema.Table, opts ...entschema.MigrateOption) string {
	t.Helper()
	var b bytes.Buffer
	wd := &entschema.WriteDriver{Writer: &b, Driver: drv}
	if err := migratetest.Migrate(context.Background(), wd, tables, opts...); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Making a column nullable: with WithLibSQL, one ALTER COLUMN instead of
// the rebuild; WriteTo shows it; every row stays; a second run is a no-op.
func TestAlterColumnInsteadOfRebuild(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	p := prefix(t)
	v1 := migratetest.Created(t, drv, db, p, false)
	before := migratetest.Snapshot(t, db, v1.Tables())

	v2 := migratetest.NewFamily(p, true)
	if plain := writeTo(t, drv, v2.Tables()); !strings.Contains(plain, "new_"+v2.Parents.Name) {
		t.Fatalf("without the option ent plans no rebuild?\n%s", plain)
	}
	plan := writeTo(t, drv, v2.Tables(), schema.WithLibSQL())
	want := fmt.Sprintf("ALTER TABLE `%s` ALTER COLUMN `note` TO `note` text NULL;", v2.Parents.Name)
	if !strings.Contains(plan, want) || strings.Contains(plan, "new_") || strings.Contains(plan, "DROP TABLE") {
		t.Fatalf("WriteTo shows:\n%s\nwant %s and no rebuild", plan, want)
	}
	if err := migratetest.Migrate(ctx, drv, v2.Tables(), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	after := migratetest.Snapshot(t, db, v1.Tables())
	if strip(after) != strip(before) {
		t.Fatal("rows changed")
	}
	if !strings.Contains(after, "`note` text NULL") {
		t.Fatalf("the schema text was not altered:\n%.300s", after)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET note = NULL WHERE id = 1", v2.Parents.Name)); err != nil {
		t.Fatalf("note still NOT NULL: %v", err)
	}
	if again := writeTo(t, drv, v2.Tables(), schema.WithLibSQL()); again != "" {
		t.Fatalf("a second run plans:\n%s", again)
	}
	migratetest.ForeignKeysOnEverywhere(t, db)
}

// strip drops the schema lines of a snapshot, keeping the rows.
func strip(snapshot string) string {
	var b strings.Builder
	for _, l := range strings.Split(snapshot, "\n") {
		if !strings.HasPrefix(l, "CREATE") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Making a column NOT NULL over NULLs fails, naming table, column and
// count, and changes nothing; once the NULLs are gone it succeeds.
func TestTightenNotNull(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	p := prefix(t)
	loose := migratetest.Created(t, drv, db, p, true)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET note = NULL WHERE id <= 3", loose.Parents.Name)); err != nil {
		t.Fatal(err)
	}
	before := migratetest.Snapshot(t, db, loose.Tables())
	strict := migratetest.NewFamily(p, false)
	for _, opts := range [][]entschema.MigrateOption{{schema.WithLibSQL()}} {
		err := migratetest.Migrate(ctx, drv, strict.Tables(), opts...)
		var te *schema.TightenError
		if !errors.As(err, &te) || te.Table != strict.Parents.Name || te.Column != "note" || te.Rows != 3 {
			t.Fatalf("want a TightenError for 3 rows of %s.note, got %v", strict.Parents.Name, err)
		}
		if !strings.Contains(err.Error(), "3 rows") {
			t.Fatalf("error: %v", err)
		}
		if after := migratetest.Snapshot(t, db, loose.Tables()); after != before {
			t.Fatal("the refused migration changed the database")
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET note = 'fixed' WHERE note IS NULL", loose.Parents.Name)); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Migrate(ctx, drv, strict.Tables(), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET note = NULL WHERE id = 1", loose.Parents.Name)); err == nil {
		t.Fatal("NULL accepted after the column became NOT NULL")
	}
	if n := migratetest.Count(t, db, strict.Children.Name); n != migratetest.NumChildren {
		t.Fatalf("%d children kept", n)
	}
}

// NOT NULL with a default: the rebuild would copy NULLs as the default;
// ALTER COLUMN does the same by setting them first.
func TestTightenNotNullWithDefault(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_items"
	table := func(nullable bool) []*entschema.Table {
		tb := &entschema.Table{Name: name, Columns: []*entschema.Column{
			{Name: "id", Type: field.TypeInt, Increment: true},
			{Name: "size", Type: field.TypeString, Nullable: nullable, Default: "M"},
		}}
		tb.PrimaryKey = tb.Columns[:1]
		return []*entschema.Table{tb}
	}
	if err := migratetest.Migrate(ctx, drv, table(true)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (size) VALUES ('S'), (NULL), ('L'), (NULL)"); err != nil {
		t.Fatal(err)
	}
	plan := writeTo(t, drv, table(false), schema.WithLibSQL())
	if !strings.Contains(plan, "UPDATE `"+name+"` SET `size` = ") || !strings.Contains(plan, "'M' WHERE `size` IS NULL;") || !strings.Contains(plan, "ALTER COLUMN") {
		t.Fatalf("plan:\n%s", plan)
	}
	if err := migratetest.Migrate(ctx, drv, table(false), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT group_concat(size, ',') FROM (SELECT size FROM "+name+" ORDER BY id)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got string
	if !rows.Next() || rows.Scan(&got) != nil || got != "S,M,L,M" {
		t.Fatalf("sizes after: %q", got)
	}
}

// A CHECK the rows do not pass fails before anything runs, with the count.
func TestAddCheckOverBreakingRows(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_chk"
	table := func(check string) []*entschema.Table {
		tb := &entschema.Table{Name: name, Columns: []*entschema.Column{
			{Name: "id", Type: field.TypeInt, Increment: true},
			{Name: "qty", Type: field.TypeInt},
		}}
		tb.PrimaryKey = tb.Columns[:1]
		if check != "" {
			tb.Annotation = &entsql.Annotation{Checks: map[string]string{name + "_qty": check}}
		}
		return []*entschema.Table{tb}
	}
	if err := migratetest.Migrate(ctx, drv, table("")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (qty) VALUES (1), (-1), (-2), (3)"); err != nil {
		t.Fatal(err)
	}
	err := migratetest.Migrate(ctx, drv, table("qty >= 0"), schema.WithLibSQL())
	var te *schema.TightenError
	if !errors.As(err, &te) || te.Rows != 2 || te.Table != name || !strings.Contains(err.Error(), "qty >= 0") {
		t.Fatalf("want a TightenError for 2 rows, got %v", err)
	}
	if n := migratetest.Count(t, db, name); n != 4 {
		t.Fatalf("%d rows", n)
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM "+name+" WHERE qty < 0"); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Migrate(ctx, drv, table("qty >= 0"), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (qty) VALUES (-5)"); err == nil {
		t.Fatal("the check does not hold")
	}
}

// A new column with a default and a CHECK on it, in one migration: the
// check applies to the copied rows, not to the table before the column.
func TestAddColumnWithCheck(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_colchk"
	table := func(v int) []*entschema.Table {
		tb := &entschema.Table{Name: name, Columns: []*entschema.Column{
			{Name: "id", Type: field.TypeInt, Increment: true},
		}}
		if v > 1 {
			tb.Columns = append(tb.Columns, &entschema.Column{Name: "age", Type: field.TypeInt, Default: 1})
			tb.Annotation = &entsql.Annotation{Checks: map[string]string{name + "_age": "age > 0"}}
		}
		tb.PrimaryKey = tb.Columns[:1]
		return []*entschema.Table{tb}
	}
	if err := migratetest.Migrate(ctx, drv, table(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (id) VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Migrate(ctx, drv, table(2), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if n := migratetest.Count(t, db, name+" WHERE age = 1"); n != 2 {
		t.Fatalf("%d rows with the default", n)
	}
}
