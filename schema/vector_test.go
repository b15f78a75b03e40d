package schema_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect/entsql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql/vector"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

// vectorTable is what ent generates for an entity with a 3-dimension
// vector field under a vector index annotated with ann; withScore adds a
// column with a default, which Atlas plans as a table rebuild.
func vectorTable(name string, ann *entsql.IndexAnnotation, withScore bool) *entschema.Table {
	t := &entschema.Table{Name: name, Columns: []*entschema.Column{
		{Name: "id", Type: field.TypeInt, Increment: true},
		{Name: "title", Type: field.TypeString},
		{Name: "embedding", Type: field.TypeBytes, Nullable: true, SchemaType: map[string]string{"sqlite3": "F32_BLOB(3)"}},
	}}
	if withScore {
		t.Columns = append(t.Columns, &entschema.Column{Name: "score", Type: field.TypeInt, Default: 7})
		// A new CHECK is a change only a rebuild makes.
		t.Annotation = &entsql.Annotation{Checks: map[string]string{"score_min": "score >= 0"}}
	}
	t.PrimaryKey = t.Columns[:1]
	t.Indexes = []*entschema.Index{{Name: name + "_embedding", Columns: t.Columns[2:3], Annotation: ann}}
	return t
}

func indexSQL(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var s string
	if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", name).Scan(&s); err != nil {
		t.Fatalf("index %s: %v", name, err)
	}
	return s
}

// topK is what vector_top_k finds nearest to q, ids in order.
func topK(t *testing.T, db *sql.DB, index string, q vector.Vector, k int) string {
	t.Helper()
	rows, err := db.Query("SELECT id FROM vector_top_k(?, ?, ?)", index, q, k)
	if err != nil {
		t.Fatalf("vector_top_k: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(ids, ",")
}

func fillVectors(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	for i, v := range []vector.Vector{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}} {
		if _, err := db.Exec("INSERT INTO "+table+" (title, embedding) VALUES (?, ?)", string(rune('a'+i)), v); err != nil {
			t.Fatal(err)
		}
	}
}

// The life of a declared vector index under Schema.Create with WithLibSQL:
// created, left alone when unchanged, re-created when its settings
// change, and re-created as written by a table rebuild, rows kept.
func TestVectorIndexLifecycle(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_vec"
	idx := name + "_embedding"
	v1 := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine, vector.MaxNeighbors(8)), false)}
	if err := migratetest.Migrate(ctx, drv, v1, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	want := "libsql_vector_idx(`embedding`, 'metric=cosine', 'max_neighbors=8')"
	if s := indexSQL(t, db, idx); !strings.Contains(s, want) {
		t.Fatalf("index: %s\nwant %s", s, want)
	}
	fillVectors(t, db, name)
	if got := topK(t, db, idx, vector.Vector{1, 0.1, 0}, 2); got != "1,4" {
		t.Fatalf("top 2: %s", got)
	}
	if plan := writeTo(t, drv, v1, schema.WithLibSQL()); strings.Contains(plan, "INDEX") || strings.Contains(plan, "TABLE") {
		t.Fatalf("an unchanged vector index is planned again:\n%s", plan)
	}

	v2 := []*entschema.Table{vectorTable(name, vector.Index(vector.L2, vector.MaxNeighbors(16), vector.CompressNeighbors(vector.F8)), false)}
	plan := writeTo(t, drv, v2, schema.WithLibSQL())
	if !strings.Contains(plan, "DROP INDEX `"+idx+"`") || !strings.Contains(plan, "'metric=l2', 'max_neighbors=16', 'compress_neighbors=float8'") {
		t.Fatalf("changed settings plan:\n%s", plan)
	}
	if err := migratetest.Migrate(ctx, drv, v2, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if s := indexSQL(t, db, idx); !strings.Contains(s, "'metric=l2'") {
		t.Fatalf("index after the change: %s", s)
	}
	if got := topK(t, db, idx, vector.Vector{0, 0.1, 1}, 1); got != "3" {
		t.Fatalf("top 1 after the change: %s", got)
	}

	v3 := []*entschema.Table{vectorTable(name, vector.Index(vector.L2, vector.MaxNeighbors(16), vector.CompressNeighbors(vector.F8)), true)}
	plan = writeTo(t, drv, v3, schema.WithLibSQL())
	if !strings.Contains(plan, "new_"+name) {
		t.Fatalf("no rebuild planned:\n%s", plan)
	}
	if err := migratetest.Migrate(ctx, drv, v3, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if s := indexSQL(t, db, idx); !strings.Contains(s, "'metric=l2', 'max_neighbors=16', 'compress_neighbors=float8'") {
		t.Fatalf("index after the rebuild: %s", s)
	}
	if got := topK(t, db, idx, vector.Vector{0.9, 1, 0}, 2); got != "4,2" && got != "4,1" {
		t.Fatalf("top 2 after the rebuild: %s", got)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + name + " WHERE score = 7").Scan(&n); err != nil || n != 4 {
		t.Fatalf("rows after the rebuild: %d, %v", n, err)
	}
	if plan := writeTo(t, drv, v3, schema.WithLibSQL()); strings.Contains(plan, "INDEX") || strings.Contains(plan, "TABLE") {
		t.Fatalf("after the rebuild, planned again:\n%s", plan)
	}
}

// An index made by hand with the same settings, written differently, is
// the declared one: nothing to do.
func TestVectorIndexWrittenByHand(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_hand"
	plain := vectorTable(name, nil, false)
	plain.Indexes = nil
	if err := migratetest.Migrate(ctx, drv, []*entschema.Table{plain}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE INDEX " + name + "_embedding ON " + name + "(libsql_vector_idx( embedding ,'MAX_NEIGHBORS=8',  'metric=cosine'))"); err != nil {
		t.Fatal(err)
	}
	declared := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine, vector.MaxNeighbors(8)), false)}
	if plan := writeTo(t, drv, declared, schema.WithLibSQL()); strings.Contains(plan, "INDEX") {
		t.Fatalf("planned:\n%s", plan)
	}
}

// Without WithLibSQL ent plans an ordinary index on the column: what the
// README says plain Schema.Create does.
func TestVectorIndexWithoutWithLibSQL(t *testing.T) {
	drv := openDriver(t)
	name := prefix(t) + "_plain"
	tables := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine), false)}
	plan := writeTo(t, drv, tables)
	if !strings.Contains(plan, "CREATE INDEX `"+name+"_embedding` ON `"+name+"` (`embedding`)") {
		t.Fatalf("plan:\n%s", plan)
	}
}

func TestVectorIndexBadDeclarations(t *testing.T) {
	drv := openDriver(t)
	ctx := context.Background()
	name := prefix(t) + "_bad"
	onText := vectorTable(name, vector.Index(vector.Cosine), false)
	onText.Indexes[0].Columns = onText.Columns[1:2]
	twoColumns := vectorTable(name, vector.Index(vector.Cosine), false)
	twoColumns.Indexes[0].Columns = twoColumns.Columns[1:3]
	badSetting := vectorTable(name, vector.Index(vector.Cosine, vector.MaxNeighbors(0)), false)
	badMetric := vectorTable(name, vector.Index("dot"), false)
	hugeSearchL := vectorTable(name, vector.Index(vector.Cosine, vector.SearchL(1<<28)), false)
	bitsByL2 := vectorTable(name, vector.Index(vector.L2, vector.CompressNeighbors(vector.F1Bit)), false)
	for _, c := range []struct {
		table *entschema.Table
		want  string
	}{
		{onText, `vector index "` + name + `_embedding" of table "` + name + `": column "title" is string, not a vector column`},
		{twoColumns, "it has 2 columns; a vector index has one"},
		{badSetting, "invalid setting max_neighbors=0 (an integer from 1 to 65536)"},
		{badMetric, "invalid setting metric=dot"},
		{hugeSearchL, "invalid setting search_l=268435456 (an integer from 1 to 65536)"},
		{bitsByL2, "invalid setting compress_neighbors=float1bit with metric=l2 (libSQL compresses to float1bit for cosine only)"},
	} {
		err := migratetest.Migrate(ctx, drv, []*entschema.Table{c.table}, schema.WithLibSQL())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v\nwant %q", err, c.want)
		}
	}
	var n int
	if err := drv.DB().QueryRow("SELECT count(*) FROM sqlite_master WHERE name = ?", name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a failed declaration created the table: %d %v", n, err)
	}
}

// Every setting, at the bounds vector.Index allows, is one sqld takes: the
// index is created, searched, and not planned again. (Alpha(1e6) was once
// written 'alpha=1e+06', which the migration refused.)
func TestVectorIndexSettingsOnServer(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	for i, ann := range []*entsql.IndexAnnotation{
		vector.Index(vector.Cosine, vector.Alpha(1e6), vector.SearchL(vector.MaxSetting), vector.InsertL(vector.MaxSetting)),
		vector.Index(vector.L2, vector.Alpha(1), vector.SearchL(1), vector.InsertL(1), vector.MaxNeighbors(1)),
		vector.Index(vector.Cosine, vector.Alpha(1.25), vector.MaxNeighbors(64), vector.CompressNeighbors(vector.F1Bit)),
		vector.Index(vector.L2, vector.CompressNeighbors(vector.F8)),
		vector.Index(vector.L2, vector.CompressNeighbors(vector.F16)),
		vector.Index(vector.L2, vector.CompressNeighbors(vector.FB16)),
		vector.Index(vector.L2, vector.CompressNeighbors(vector.F32)),
	} {
		name := fmt.Sprintf("%s_set%d", prefix(t), i)
		tables := []*entschema.Table{vectorTable(name, ann, false)}
		if err := migratetest.Migrate(ctx, drv, tables, schema.WithLibSQL()); err != nil {
			t.Fatalf("%s: %v", ann.Types[vector.IndexTypeKey], err)
		}
		fillVectors(t, db, name)
		got := topK(t, db, name+"_embedding", vector.Vector{0, 0.1, 1}, vector.MaxK)
		if i == 1 { // search_l=1: a search keeps about one candidate, not the best
			if got == "" {
				t.Errorf("search_l=1: nothing found")
			}
		} else if !strings.HasPrefix(got, "3,2,") || len(got) != len("3,2,4,1") { // nearest by both metrics: 3, then 2
			t.Errorf("%s: top k: %s", ann.Types[vector.IndexTypeKey], got)
		}
		if plan := writeTo(t, drv, tables, schema.WithLibSQL()); plan != "" {
			t.Errorf("%s: planned again:\n%s", ann.Types[vector.IndexTypeKey], plan)
		}
	}
}

// Two vector indexes on one table, one of them partial, beside a plain
// one: created, searched, planned once, kept as written by a rebuild; and
// a versioned diff writes them once.
func TestTwoVectorIndexesOneTable(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_two"
	tables := func(withScore bool) []*entschema.Table {
		tb := vectorTable(name, vector.Index(vector.Cosine), withScore)
		tb.Columns = append(tb.Columns, &entschema.Column{Name: "small", Type: field.TypeBytes, Nullable: true, SchemaType: map[string]string{"sqlite3": "F16_BLOB(2)"}})
		partial := vector.Index(vector.L2, vector.CompressNeighbors(vector.F8))
		partial.Where = "title <> 'hidden'"
		tb.Indexes = append(tb.Indexes,
			&entschema.Index{Name: name + "_title", Columns: tb.Columns[1:2]},
			&entschema.Index{Name: name + "_small", Columns: tb.Columns[len(tb.Columns)-1:], Annotation: partial},
		)
		return []*entschema.Table{tb}
	}
	search := func(when string) {
		t.Helper()
		if got := topK(t, db, name+"_embedding", vector.Vector{0, 0.1, 1}, 1); got != "3" {
			t.Errorf("%s: embedding: %s", when, got)
		}
		rows, err := db.Query("SELECT id FROM vector_top_k(?, ?, 10)", name+"_small", vector.Float16{1, 1})
		if err != nil {
			t.Fatalf("%s: small: %v", when, err)
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if strings.Join(ids, ",") != "2,1" && strings.Join(ids, ",") != "1,2" { // the third row is hidden
			t.Errorf("%s: small: %v", when, ids)
		}
	}
	if err := migratetest.Migrate(ctx, drv, tables(false), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	fillVectors(t, db, name)
	for i, v := range []vector.Float16{{1, 0}, {0.5, 0.5}, {1, 1}} {
		if _, err := db.Exec("UPDATE "+name+" SET small = ? WHERE id = ?", v, i+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("UPDATE " + name + " SET title = 'hidden' WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	search("created")
	if plan := writeTo(t, drv, tables(false), schema.WithLibSQL()); plan != "" {
		t.Fatalf("planned again:\n%s", plan)
	}
	if err := migratetest.Migrate(ctx, drv, tables(true), schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if s := indexSQL(t, db, name+"_small"); !strings.HasSuffix(s, "WHERE title <> 'hidden'") {
		t.Fatalf("partial index after the rebuild: %s", s)
	}
	search("rebuilt")
	if plan := writeTo(t, drv, tables(true), schema.WithLibSQL()); plan != "" {
		t.Fatalf("planned after the rebuild:\n%s", plan)
	}
	dev, dir := freshDriver(t), localDir(t)
	f := diff(t, dev, dir, "two", tables(true))
	if s := fileText(t, dir, f); strings.Count(s, "libsql_vector_idx") != 2 || !strings.Contains(s, "WHERE title <> 'hidden'") {
		t.Fatalf("%s:\n%s", f, s)
	}
	if again, err := schema.Diff(ctx, dev, dir, "again", tables(true)); err != nil || again != "" {
		t.Fatalf("second diff: %q %v", again, err)
	}
}

// Versioned migrations: Diff writes the index, a second Diff finds
// nothing to do (the shadow table is not dropped), a change of settings
// writes its re-creation, and the files apply.
func TestVectorIndexVersioned(t *testing.T) {
	dev, target := freshDriver(t), freshDriver(t)
	dir := localDir(t)
	v1 := func() []*entschema.Table {
		return []*entschema.Table{vectorTable("docs", vector.Index(vector.Cosine, vector.SearchL(50)), false)}
	}
	f1 := diff(t, dev, dir, "docs", v1())
	if s := fileText(t, dir, f1); !strings.Contains(s, "libsql_vector_idx(`embedding`, 'metric=cosine', 'search_l=50')") {
		t.Fatalf("%s:\n%s", f1, s)
	}
	if file, err := schema.Diff(context.Background(), dev, dir, "again", v1()); err != nil || file != "" {
		t.Fatalf("second diff: %q, %v", file, err)
	}
	v2 := []*entschema.Table{vectorTable("docs", vector.Index(vector.Cosine, vector.SearchL(80)), false)}
	time.Sleep(time.Second) // versions are timestamps in seconds
	f2 := diff(t, dev, dir, "search_l", v2)
	if s := fileText(t, dir, f2); !strings.Contains(s, "DROP INDEX `docs_embedding`") || !strings.Contains(s, "'search_l=80'") || strings.Contains(s, "shadow") {
		t.Fatalf("%s:\n%s", f2, s)
	}
	if got := apply(t, target, dir, schema.ApplyOptions{}); len(got) != 2 {
		t.Fatalf("applied %v", got)
	}
	db := target.DB()
	fillVectors(t, db, "docs")
	if got := topK(t, db, "docs_embedding", vector.Vector{0, 1, 0.1}, 1); got != "2" {
		t.Fatalf("top 1: %s", got)
	}
	if s := indexSQL(t, db, "docs_embedding"); !strings.Contains(s, "'search_l=80'") {
		t.Fatalf("applied index: %s", s)
	}
}

func fileText(t *testing.T, dir *migrate.LocalDir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir.Path(), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Tightening a vector column to NOT NULL (ALTER COLUMN with WithLibSQL)
// keeps its vector index working.
func TestVectorColumnAlter(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_alter"
	v1 := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine), false)}
	if err := migratetest.Migrate(ctx, drv, v1, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	fillVectors(t, db, name)
	v2 := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine), false)}
	v2[0].Columns[2].Nullable = false
	if err := migratetest.Migrate(ctx, drv, v2, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if got := topK(t, db, name+"_embedding", vector.Vector{0, 0, 1}, 1); got != "3" {
		t.Fatalf("top 1: %s", got)
	}
	if _, err := db.Exec("INSERT INTO "+name+" (title, embedding) VALUES ('e', ?)", vector.Vector{0, 0.1, 1}); err != nil {
		t.Fatal(err)
	}
	if got := topK(t, db, name+"_embedding", vector.Vector{0, 0.1, 1}, 1); got != "5" {
		t.Fatalf("top 1 after an insert: %s", got)
	}
}

// Changing the dimension of an indexed vector column re-creates the
// index (an ALTER COLUMN alone would leave it at the old dimension,
// refusing every new vector): refused while rows hold vectors of the old
// dimension, rolled back whole; done once they are NULL.
func TestVectorColumnDims(t *testing.T) {
	drv := openDriver(t)
	db, ctx := drv.DB(), context.Background()
	name := prefix(t) + "_dims"
	v1 := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine), false)}
	if err := migratetest.Migrate(ctx, drv, v1, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	fillVectors(t, db, name)
	v2 := []*entschema.Table{vectorTable(name, vector.Index(vector.Cosine), false)}
	v2[0].Columns[2].SchemaType = map[string]string{"sqlite3": "F32_BLOB(4)"}
	err := migratetest.Migrate(ctx, drv, v2, schema.WithLibSQL())
	if err == nil || !strings.Contains(err.Error(), "dimensions are different") {
		t.Fatalf("re-dimensioning over 3-dimension rows: %v", err)
	}
	if s := indexSQL(t, db, name+"_embedding"); !strings.Contains(s, "libsql_vector_idx") {
		t.Fatalf("index after the failed migration: %s", s)
	}
	if got := topK(t, db, name+"_embedding", vector.Vector{0, 0, 1}, 1); got != "3" {
		t.Fatalf("the old index after the failed migration: %s", got)
	}
	if _, err := db.Exec("UPDATE " + name + " SET embedding = NULL"); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Migrate(ctx, drv, v2, schema.WithLibSQL()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE "+name+" SET embedding = ? WHERE id = 2", vector.Vector{0, 0.1, 1, 1}); err != nil {
		t.Fatalf("a 4-dimension vector after the migration: %v", err)
	}
	if got := topK(t, db, name+"_embedding", vector.Vector{0, 0.1, 1, 1}, 1); got != "2" {
		t.Fatalf("top 1: %s", got)
	}
}
