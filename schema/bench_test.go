package schema_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/schema"
)

const (
	benchParents  = 1_000_000
	benchChildren = 100_000
)

// BenchmarkMakeNullable makes a column of a 1,000,000-row table with a
// child table nullable, through ent's migration, once by the rebuild
// Atlas plans and once by ALTER COLUMN (WithLibSQL), on the same sqld and
// the same tables, and reports both times, their ratio and the rows that
// changed (which must be 0). Run it with:
//
//	go test -run '^$' -bench MakeNullable -benchtime 3x ./schema
func BenchmarkMakeNullable(b *testing.B) {
	drv := openDriver(b, debugOpts()...)
	db, ctx := drv.DB(), context.Background()
	p := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
	strict, loose := migratetest.NewFamily(p, false), migratetest.NewFamily(p, true)
	if err := migratetest.Migrate(ctx, drv, strict.Tables()); err != nil {
		b.Fatal(err)
	}
	fillParents(b, db, strict)
	b.Cleanup(func() { dropAll(db, strict) })
	checksum := func() string { return checksumOf(b, db, strict) }
	want := checksum()
	// migrate times one migration to tables, whole and its transaction
	// alone; the way back is untimed.
	timed := &timedDriver{Driver: drv}
	migrate := func(to []*entschema.Table, opts ...entschema.MigrateOption) (whole, tx time.Duration) {
		timed.tx = 0
		start := time.Now()
		if err := migratetest.Migrate(ctx, timed, to, opts...); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), timed.tx
	}
	b.ResetTimer()
	var rebuild, alter, rebuildTx, alterTx time.Duration
	for i := 0; i < b.N; i++ {
		w, tx := migrate(loose.Tables())
		rebuild, rebuildTx = rebuild+w, rebuildTx+tx
		b.StopTimer()
		migrate(strict.Tables(), schema.WithLibSQL())
		b.StartTimer()
		w, tx = migrate(loose.Tables(), schema.WithLibSQL())
		alter, alterTx = alter+w, alterTx+tx
		b.StopTimer()
		migrate(strict.Tables(), schema.WithLibSQL())
		b.StartTimer()
	}
	b.StopTimer()
	changed := 0
	if checksum() != want {
		changed = 1
		b.Errorf("rows changed: %s, want %s", checksum(), want)
	}
	if n := migratetest.Count(b, db, strict.Children.Name); n != benchChildren {
		b.Errorf("%d of %d child rows kept", n, benchChildren)
	}
	n := float64(b.N)
	b.ReportMetric(float64(rebuild.Milliseconds())/n, "rebuild-ms/op")
	b.ReportMetric(float64(alter.Microseconds())/1000/n, "alter-ms/op")
	b.ReportMetric(float64(rebuild)/float64(alter), "x-faster")
	b.ReportMetric(float64(rebuildTx.Microseconds())/1000/n, "rebuild-tx-ms/op")
	b.ReportMetric(float64(alterTx.Microseconds())/1000/n, "alter-tx-ms/op")
	b.ReportMetric(float64(rebuildTx)/float64(alterTx), "tx-x-faster")
	b.ReportMetric(float64(changed), "rows-changed")
}

func debugOpts() []libsql.Option {
	if os.Getenv("BENCH_DEBUG") == "" {
		return nil
	}
	return []libsql.Option{libsql.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))}
}

// timedDriver measures a migration's transaction, from BEGIN to the end of
// COMMIT: the change itself, without ent's schema inspection.
type timedDriver struct {
	dialect.Driver
	tx time.Duration
}

func (d *timedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	start := time.Now()
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &timedTx{Tx: tx, done: func() { d.tx += time.Since(start) }}, nil
}

type timedTx struct {
	dialect.Tx
	done func()
}

func (t *timedTx) Commit() error   { defer t.done(); return t.Tx.Commit() }
func (t *timedTx) Rollback() error { defer t.done(); return t.Tx.Rollback() }

// BenchmarkAddColumn adds a field to a 1,000,000-row table with an index
// and a child table, through ent's migration, three ways on the same
// sqld: the rebuild ent and Atlas plan (Schema.Create without WithLibSQL:
// ent writes the default as an expression, which Atlas never adds in
// place), ADD COLUMN for a constant default (WithLibSQL), and ADD COLUMN
// then UPDATE then ALTER COLUMN for CURRENT_TIMESTAMP, which SQLite
// cannot add in place (WithLibSQL). It reports the times of the whole
// Schema.Create and of its transaction alone, their ratios to the
// rebuild, and the rows that changed (which must be 0). Run it with:
//
//	go test -run '^$' -bench AddColumn -benchtime 2x -timeout 30m ./schema
func BenchmarkAddColumn(b *testing.B) {
	drv := openDriver(b, debugOpts()...)
	db, ctx := drv.DB(), context.Background()
	p := fmt.Sprintf("badd%d", time.Now().UnixNano()%1e9)
	base := migratetest.NewFamily(p, false)
	withIndex := func(f migratetest.Family) migratetest.Family {
		f.Parents.Indexes = []*entschema.Index{{Name: p + "_parents_name", Columns: f.Parents.Columns[1:2]}}
		return f
	}
	base = withIndex(base)
	withField := func(col *entschema.Column) []*entschema.Table {
		f := withIndex(migratetest.NewFamily(p, false))
		f.Parents.Columns = append(f.Parents.Columns, col)
		return f.Tables()
	}
	rank := withField(&entschema.Column{Name: "rank", Type: field.TypeInt, Default: 7})
	seen := withField(&entschema.Column{Name: "rank", Type: field.TypeString, Default: entschema.Expr("CURRENT_TIMESTAMP")})
	if err := migratetest.Migrate(ctx, drv, base.Tables()); err != nil {
		b.Fatal(err)
	}
	fillParents(b, db, base)
	b.Cleanup(func() { dropAll(db, base) })
	checksum := func() string { return checksumOf(b, db, base) }
	want := checksum()
	changed := 0
	// migrate times one migration, whole and its transaction alone (the
	// change itself, without ent's schema inspection).
	timed := &timedDriver{Driver: drv}
	var txs [3]time.Duration
	migrate := func(to []*entschema.Table, opts ...entschema.MigrateOption) time.Duration {
		timed.tx = 0
		start := time.Now()
		if err := migratetest.Migrate(ctx, timed, to, opts...); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	dropBack := func(where string) {
		b.StopTimer()
		if n := migratetest.Count(b, db, base.Parents.Name+" WHERE "+where); n != benchParents {
			b.Errorf("%d of %d rows have the default (%s)", n, benchParents, where)
		}
		if checksum() != want {
			changed++
		}
		migrate(base.Tables(), schema.WithLibSQL(), entschema.WithDropColumn(true))
		b.StartTimer()
	}
	b.ResetTimer()
	var rebuild, add, addExpr time.Duration
	for i := 0; i < b.N; i++ {
		rebuild += migrate(rank)
		txs[0] += timed.tx
		dropBack("rank = 7")
		add += migrate(rank, schema.WithLibSQL())
		txs[1] += timed.tx
		dropBack("rank = 7")
		addExpr += migrate(seen, schema.WithLibSQL())
		txs[2] += timed.tx
		dropBack("rank <> ''")
	}
	b.StopTimer()
	if n := migratetest.Count(b, db, base.Children.Name); n != benchChildren {
		b.Errorf("%d of %d child rows kept", n, benchChildren)
	}
	if changed > 0 {
		b.Errorf("rows changed in %d migrations", changed)
	}
	n := float64(b.N)
	b.ReportMetric(float64(rebuild.Milliseconds())/n, "rebuild-ms/op")
	b.ReportMetric(float64(add.Microseconds())/1000/n, "add-column-ms/op")
	b.ReportMetric(float64(addExpr.Milliseconds())/n, "add-expr-ms/op")
	b.ReportMetric(float64(rebuild)/float64(add), "add-x-faster")
	b.ReportMetric(float64(rebuild)/float64(addExpr), "expr-x-faster")
	b.ReportMetric(float64(txs[0].Milliseconds())/n, "rebuild-tx-ms/op")
	b.ReportMetric(float64(txs[1].Microseconds())/1000/n, "add-column-tx-ms/op")
	b.ReportMetric(float64(txs[0])/float64(txs[1]), "add-tx-x-faster")
	b.ReportMetric(float64(txs[0])/float64(txs[2]), "expr-tx-x-faster")
	b.ReportMetric(float64(changed), "rows-changed")
}

// checksumOf sums the rows of a family's parents and children.
func checksumOf(b *testing.B, db *sql.DB, f migratetest.Family) string {
	var s string
	q := fmt.Sprintf(`SELECT (SELECT count(*) || ':' || sum(id) || ':' || total(length(name) + length(note)) FROM %s) || '/' ||
		(SELECT count(*) || ':' || sum(parent_id) || ':' || total(length(label)) FROM %s)`, f.Parents.Name, f.Children.Name)
	if err := db.QueryRowContext(context.Background(), q).Scan(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

// fillParents gives a family 1,000,000 parents and 100,000 children.
func fillParents(b *testing.B, db *sql.DB, f migratetest.Family) {
	ctx := context.Background()
	fill := []string{
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT %d)
			INSERT INTO %s (id, name, note, mentor_id) SELECT x, 'parent ' || x, 'note ' || x, NULL FROM c`, benchParents, f.Parents.Name),
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT %d)
			INSERT INTO %s (id, label, parent_id) SELECT x, 'child ' || x, (x * 7919) %% %d + 1 FROM c`, benchChildren, f.Children.Name, benchParents),
	}
	for _, q := range fill {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// dropAll drops a family's tables with foreign keys off: with them on,
// dropping the parents would check each of its million rows against the
// unindexed self-reference.
func dropAll(db *sql.DB, f migratetest.Family) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.ExecContext(context.Background(), "PRAGMA foreign_keys = off")
	for _, t := range []string{f.ParentTags.Name, f.Children.Name, f.Tags.Name, f.Parents.Name} {
		conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+t)
	}
}
