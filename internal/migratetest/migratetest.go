// Package migratetest holds migration scenarios that the driver's tests
// run through both ways of building a driver: libsql.Open and libsql.OpenDB
// over libsql-client-go. Each scenario creates its own tables, named with
// a prefix, so it can share a server with other tests.
package migratetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
)

// Family is a parent table with cascading children, a self-reference and
// an M2M join table to tags.
type Family struct {
	Parents, Children, Tags, ParentTags *entschema.Table
}

// NewFamily builds the tables; noteNullable decides whether parents.note
// is NOT NULL (false) or nullable (true): flipping it makes Atlas rebuild
// the parent table, SQLite having no ALTER for it.
func NewFamily(prefix string, noteNullable bool) Family {
	id := func() *entschema.Column {
		return &entschema.Column{Name: "id", Type: field.TypeInt, Increment: true}
	}
	parents := &entschema.Table{Name: prefix + "_parents", Columns: []*entschema.Column{
		id(),
		{Name: "name", Type: field.TypeString},
		{Name: "note", Type: field.TypeString, Nullable: noteNullable},
		{Name: "mentor_id", Type: field.TypeInt, Nullable: true},
	}}
	parents.PrimaryKey = parents.Columns[:1]
	parents.ForeignKeys = []*entschema.ForeignKey{{
		Symbol: prefix + "_parents_mentor", Columns: parents.Columns[3:4],
		RefTable: parents, RefColumns: parents.Columns[:1], OnDelete: entschema.SetNull,
	}}
	children := &entschema.Table{Name: prefix + "_children", Columns: []*entschema.Column{
		id(),
		{Name: "label", Type: field.TypeString},
		{Name: "parent_id", Type: field.TypeInt},
	}}
	children.PrimaryKey = children.Columns[:1]
	children.ForeignKeys = []*entschema.ForeignKey{{
		Symbol: prefix + "_children_parent", Columns: children.Columns[2:3],
		RefTable: parents, RefColumns: parents.Columns[:1], OnDelete: entschema.Cascade,
	}}
	tags := &entschema.Table{Name: prefix + "_tags", Columns: []*entschema.Column{
		id(), {Name: "name", Type: field.TypeString},
	}}
	tags.PrimaryKey = tags.Columns[:1]
	pt := &entschema.Table{Name: prefix + "_parent_tags", Columns: []*entschema.Column{
		{Name: "parent_id", Type: field.TypeInt},
		{Name: "tag_id", Type: field.TypeInt},
	}}
	pt.PrimaryKey = pt.Columns
	pt.ForeignKeys = []*entschema.ForeignKey{
		{Symbol: prefix + "_pt_parent", Columns: pt.Columns[:1], RefTable: parents, RefColumns: parents.Columns[:1], OnDelete: entschema.Cascade},
		{Symbol: prefix + "_pt_tag", Columns: pt.Columns[1:], RefTable: tags, RefColumns: tags.Columns[:1], OnDelete: entschema.Cascade},
	}
	return Family{Parents: parents, Children: children, Tags: tags, ParentTags: pt}
}

// Tables lists the family's tables in creation order.
func (f Family) Tables() []*entschema.Table {
	return []*entschema.Table{f.Parents, f.Children, f.Tags, f.ParentTags}
}

// Migrate runs ent's migration, as client.Schema.Create does.
func Migrate(ctx context.Context, drv dialect.Driver, tables []*entschema.Table, opts ...entschema.MigrateOption) error {
	m, err := entschema.NewMigrate(drv, opts...)
	if err != nil {
		return err
	}
	return m.Create(ctx, tables...)
}

// Created migrates a new family to the database and fills it.
func Created(t testing.TB, drv dialect.Driver, db *sql.DB, prefix string, noteNullable bool) Family {
	t.Helper()
	f := NewFamily(prefix, noteNullable)
	if err := Migrate(context.Background(), drv, f.Tables()); err != nil {
		t.Fatalf("creating the tables: %v", err)
	}
	Fill(t, db, f)
	return f
}

// Sizes of the family's data.
const (
	NumParents  = 50
	PerParent   = 3 // children per parent
	NumChildren = NumParents * PerParent
	NumTags     = 10
)

// Fill inserts the family's rows: every parent but the first has a
// mentor, three children and two tags.
func Fill(t testing.TB, db *sql.DB, f Family) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := 1; i <= NumTags; i++ {
		exec(fmt.Sprintf("INSERT INTO %s (id, name) VALUES (?, ?)", f.Tags.Name), i, fmt.Sprintf("tag%d", i))
	}
	for i := 1; i <= NumParents; i++ {
		var mentor any
		if i > 1 {
			mentor = i - 1
		}
		exec(fmt.Sprintf("INSERT INTO %s (id, name, note, mentor_id) VALUES (?, ?, ?, ?)", f.Parents.Name), i, fmt.Sprintf("p%d", i), "n", mentor)
		for j := 0; j < PerParent; j++ {
			exec(fmt.Sprintf("INSERT INTO %s (label, parent_id) VALUES (?, ?)", f.Children.Name), fmt.Sprintf("c%d.%d", i, j), i)
		}
		exec(fmt.Sprintf("INSERT INTO %s (parent_id, tag_id) VALUES (?, ?), (?, ?)", f.ParentTags.Name), i, i%NumTags+1, i, (i+3)%NumTags+1)
	}
}

// Snapshot is every row of every table, in a canonical text form, and the
// schema text: two equal snapshots mean nothing changed.
func Snapshot(t testing.TB, db *sql.DB, tables []*entschema.Table) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, tb := range tables {
		var ddl string
		if err := db.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", tb.Name).Scan(&ddl); err != nil {
			t.Fatalf("schema of %s: %v", tb.Name, err)
		}
		fmt.Fprintf(&b, "%s\n", ddl)
		rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s ORDER BY rowid", tb.Name))
		if err != nil {
			t.Fatal(err)
		}
		eachRow(t, rows, func(vals []any) { fmt.Fprintf(&b, "%v\n", vals) })
	}
	return b.String()
}

// eachRow calls f with the values of each row, then closes rows.
func eachRow(t testing.TB, rows *sql.Rows, f func(vals []any)) {
	t.Helper()
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		f(vals)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
}

// Count returns the rows of table.
func Count(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// RebuildKeepsRows migrates the family, fills it, then makes parents.note
// nullable, which rebuilds the parent table. Every row and foreign key
// value must survive, and the foreign keys must still act afterwards.
func RebuildKeepsRows(t *testing.T, drv dialect.Driver, db *sql.DB, prefix string) {
	ctx := context.Background()
	v1 := Created(t, drv, db, prefix, false)
	rowsOf := func(f Family) string {
		// The rows alone: the parent table's schema text changes.
		var b strings.Builder
		for _, tb := range f.Tables() {
			fmt.Fprintf(&b, "%s %d\n", tb.Name, Count(t, db, tb.Name))
		}
		s := Snapshot(t, db, f.Tables())
		for _, line := range strings.Split(s, "\n") {
			if !strings.HasPrefix(line, "CREATE") {
				b.WriteString(line + "\n")
			}
		}
		return b.String()
	}
	before := rowsOf(v1)

	v2 := NewFamily(prefix, true)
	if err := Migrate(ctx, drv, v2.Tables()); err != nil {
		t.Fatalf("the rebuilding migration: %v", err)
	}
	if after := rowsOf(v2); after != before {
		t.Fatalf("rows changed by the rebuild:\nbefore:\n%.2000s\nafter:\n%.2000s", before, after)
	}
	if n := Count(t, db, v2.Children.Name); n != NumChildren {
		t.Fatalf("%d of %d child rows kept", n, NumChildren)
	}
	t.Logf("rebuild kept %d of %d child rows, %d M2M rows, %d parents", Count(t, db, v2.Children.Name), NumChildren, Count(t, db, v2.ParentTags.Name), Count(t, db, v2.Parents.Name))

	// The change took: note takes NULL now.
	if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET note = NULL WHERE id = 1", v2.Parents.Name)); err != nil {
		t.Fatalf("note still NOT NULL: %v", err)
	}
	// Foreign keys still act: cascade, set null, and refusal.
	if _, err := db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE id = 2", v2.Parents.Name)); err != nil {
		t.Fatal(err)
	}
	if n := Count(t, db, v2.Children.Name); n != NumChildren-PerParent {
		t.Fatalf("cascade after the rebuild: %d children left, want %d", n, NumChildren-PerParent)
	}
	if n := Count(t, db, v2.ParentTags.Name); n != 2*(NumParents-1) {
		t.Fatalf("M2M cascade after the rebuild: %d rows left, want %d", n, 2*(NumParents-1))
	}
	var mentor sql.NullInt64
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT mentor_id FROM %s WHERE id = 3", v2.Parents.Name)).Scan(&mentor); err != nil || mentor.Valid {
		t.Fatalf("ON DELETE SET NULL after the rebuild: mentor %v, %v", mentor, err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (label, parent_id) VALUES ('orphan', 9999)", v2.Children.Name)); err == nil {
		t.Fatal("a child with no parent was accepted after the rebuild")
	}
	ForeignKeysOnEverywhere(t, db)
}

// ForeignKeysOnEverywhere checks that no pooled connection carries
// foreign keys off: it holds several connections at once and asks each.
func ForeignKeysOnEverywhere(t testing.TB, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 8; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var on int
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
			t.Fatalf("pooled connection %d: foreign_keys = %d, %v", i, on, err)
		}
	}
}

// SequenceRows runs the sqlite_sequence rows ent's own migration files
// carry (INSERT INTO sqlite_sequence (name, seq) VALUES ("t", N), with
// double quotes, which sqld refuses) each way the caller gives, checking
// that each took.
func SequenceRows(t *testing.T, db *sql.DB, prefix string, ways map[string]func(ctx context.Context, query string) error) {
	t.Helper()
	ctx := context.Background()
	for name, exec := range ways {
		table := fmt.Sprintf("%s_seq_%s", prefix, strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, name))
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id integer PRIMARY KEY AUTOINCREMENT)"); err != nil {
			t.Fatal(err)
		}
		for i, q := range []string{
			fmt.Sprintf(`INSERT INTO sqlite_sequence (name, seq) VALUES ("%s", 4294967296)`, table),
			fmt.Sprintf(`UPDATE sqlite_sequence SET seq = 8589934592 WHERE name = "%s"`, table),
		} {
			if err := exec(ctx, q); err != nil {
				t.Fatalf("%s: %s: %v", name, q, err)
			}
			var seq int64
			if err := db.QueryRowContext(ctx, "SELECT seq FROM sqlite_sequence WHERE name = ?", table).Scan(&seq); err != nil || seq != int64(i+1)<<32 {
				t.Fatalf("%s: after %s the sequence is %d, %v", name, q, seq, err)
			}
		}
	}
}
