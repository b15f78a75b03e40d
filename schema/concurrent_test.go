package schema_test

import (
	"context"
	"errors"

	"fmt"
	"strings"
	"sync"
	"testing"

	atlas "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
	"github.com/entlibsql/entlibsql/schema"
)

// Several app instances starting at once run the same Schema.Create.
// ent inspects and plans on the pool, before its transaction; the
// migration then queues at BEGIN IMMEDIATE. Each must apply a plan that
// holds under the lock: the first changes the schema, the others find
// it done and change nothing. A barrier holds every instance until all
// have planned, so the race is the worst one every time.

// raceChange is a schema change that instances race to make.
type raceChange struct {
	name    string
	to      func(p string) []*entschema.Table
	rebuild bool // the change rebuilds the parents table
	check   func(t *testing.T, e raceEnv)
}

// raceEnv is what a check reads.
type raceEnv struct {
	p   string
	drv *libsql.Driver
}

func (e raceEnv) one(t *testing.T, q string) string {
	t.Helper()
	var s string
	if err := e.drv.DB().QueryRowContext(context.Background(), q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

// family is v1 with the parents table changed by f.
func family(p string, f func(migratetest.Family)) []*entschema.Table {
	fam := migratetest.NewFamily(p, false)
	f(fam)
	return fam.Tables()
}

func addColumn(col func() *entschema.Column) func(migratetest.Family) {
	return func(f migratetest.Family) { f.Parents.Columns = append(f.Parents.Columns, col()) }
}

func rankColumn() *entschema.Column {
	return &entschema.Column{Name: "rank", Type: field.TypeInt, Default: 7}
}

func nameIndex(f migratetest.Family) {
	f.Parents.Indexes = append(f.Parents.Indexes, &entschema.Index{Name: f.Parents.Name + "_name", Columns: f.Parents.Columns[1:2]})
}

func labelsTable(p string) *entschema.Table {
	t := &entschema.Table{Name: p + "_labels", Columns: []*entschema.Column{
		{Name: "id", Type: field.TypeInt, Increment: true},
		{Name: "text", Type: field.TypeString},
	}}
	t.PrimaryKey = t.Columns[:1]
	return t
}

var raceChanges = []raceChange{
	{name: "AddColumnDefault", to: func(p string) []*entschema.Table { return family(p, addColumn(rankColumn)) },
		check: func(t *testing.T, e raceEnv) {
			if n := e.one(t, fmt.Sprintf("SELECT count(*) FROM %s_parents WHERE rank = 7", e.p)); n != fmt.Sprint(migratetest.NumParents) {
				t.Fatalf("%s rows with rank 7", n)
			}
		}},
	{name: "AddColumnCurrentTimestamp", to: func(p string) []*entschema.Table {
		return family(p, addColumn(func() *entschema.Column {
			return &entschema.Column{Name: "seen", Type: field.TypeString, Default: entschema.Expr("CURRENT_TIMESTAMP")}
		}))
	}, check: func(t *testing.T, e raceEnv) {
		if n := e.one(t, fmt.Sprintf("SELECT count(*) FROM %s_parents WHERE seen IS NOT NULL AND seen > '2000'", e.p)); n != fmt.Sprint(migratetest.NumParents) {
			t.Fatalf("%s rows with a timestamp", n)
		}
	}},
	{name: "RebuildNewCheck", rebuild: true, to: func(p string) []*entschema.Table {
		return family(p, func(f migratetest.Family) {
			f.Parents.Annotation = &entsql.Annotation{Checks: map[string]string{p + "_name": "name <> ''"}}
		})
	}, check: func(t *testing.T, e raceEnv) {
		if _, err := e.drv.DB().ExecContext(context.Background(), fmt.Sprintf("INSERT INTO %s_parents (name, note) VALUES ('', 'x')", e.p)); err == nil {
			t.Fatal("the CHECK does not hold")
		}
	}},
	{name: "NewTable", to: func(p string) []*entschema.Table {
		return append(family(p, func(migratetest.Family) {}), labelsTable(p))
	}, check: func(t *testing.T, e raceEnv) {
		e.one(t, fmt.Sprintf("SELECT count(*) FROM %s_labels", e.p))
	}},
	{name: "NewIndex", to: func(p string) []*entschema.Table { return family(p, nameIndex) },
		check: func(t *testing.T, e raceEnv) {
			if n := e.one(t, fmt.Sprintf("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '%s_parents_name'", e.p)); n != "1" {
				t.Fatalf("%s indexes", n)
			}
		}},
}

// raceEngine is where instances race: each instance opens its own
// driver, as a separate process would.
type raceEngine struct {
	name string
	open func(t *testing.T) (newDriver func() *libsql.Driver)
	// shared: every instance gets the same driver, its migrations
	// queueing for its one connection.
	shared bool
}

func raceEngines(t *testing.T) []raceEngine {
	es := []raceEngine{
		{"sqld", func(t *testing.T) func() *libsql.Driver { return func() *libsql.Driver { return openDriver(t) } }, false},
		{"sqld-libsql-wal", func(t *testing.T) func() *libsql.Driver {
			url := freshServer(t, "--use-custom-wal", "libsql-wal")
			return func() *libsql.Driver { return openURL(t, url) }
		}, false},
	}
	if embeddedEngine == nil {
		t.Log("this build has no cgo: the embedded engine is not tested")
		return es
	}
	// Each instance opens the file itself, as a separate process would; a
	// write meeting another's lock waits (embedded.DefaultBusyTimeout).
	return append(es, raceEngine{"embedded", func(t *testing.T) func() *libsql.Driver {
		url := "file:" + t.TempDir() + "/race.db"
		return func() *libsql.Driver { return openURL(t, url) }
	}, false})
}

func TestConcurrentSchemaCreate(t *testing.T) {
	for _, e := range raceEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			newDriver := e.open(t)
			for _, n := range []int{4, 8} {
				for _, c := range raceChanges {
					t.Run(fmt.Sprintf("%s/%d", c.name, n), func(t *testing.T) {
						raceOne(t, newDriver, e.shared, n, c)
					})
				}
			}
		})
	}
}

// raceOne runs n instances of the same change over v1 with rows.
func raceOne(t *testing.T, newDriver func() *libsql.Driver, shared bool, n int, c raceChange) {
	drv := newDriver()
	p := prefix(t)
	v1 := migratetest.Created(t, drv, drv.DB(), p, false)
	before := v1Rows(t, drv, v1)
	if shared {
		drv.DB().SetMaxOpenConns(1)
	}
	results := race(t, newDriver, n, func(int) []*entschema.Table { return c.to(p) })
	drv.DB().SetMaxOpenConns(0)
	changed := 0
	for i, r := range results {
		if r.err != nil {
			t.Errorf("instance %d: %v", i, r.err)
		}
		if r.stmts > 0 {
			changed++
		}
		if r.drops > 0 && !c.rebuild {
			t.Errorf("instance %d rebuilt a table: %d DROP TABLE", i, r.drops)
		}
		if r.drops > 1 {
			t.Errorf("instance %d rebuilt %d times", i, r.drops)
		}
	}
	if changed != 1 {
		t.Errorf("%d instances changed the schema, want 1 (the others find it done)", changed)
	}
	if after := v1Rows(t, drv, v1); after != before {
		t.Fatalf("rows changed: %s", firstDiff(before, after))
	}
	if plan := writeTo(t, drv, c.to(p), schema.WithLibSQL()); plan != "" {
		t.Fatalf("the schema is not as desired: a further run plans\n%s", plan)
	}
	c.check(t, raceEnv{p: p, drv: drv})
	migratetest.ForeignKeysOnEverywhere(t, drv.DB())
}

// v1Rows is the rows of v1's columns in every table of the family.
func v1Rows(t *testing.T, drv *libsql.Driver, f migratetest.Family) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range f.Tables() {
		cols := make([]string, len(tb.Columns))
		for i, c := range tb.Columns {
			cols[i] = c.Name
		}
		rows, err := drv.DB().QueryContext(context.Background(), fmt.Sprintf("SELECT rowid, %s FROM %s ORDER BY rowid", strings.Join(cols, ", "), tb.Name))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols)+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", tb.Name, vals)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// raceResult is what one instance did.
type raceResult struct {
	err   error
	stmts int // statements its migration transaction executed
	drops int // of them, DROP TABLE
}

// race runs n instances of Schema.Create (with WithLibSQL) at once, each
// on its own driver, to the tables tables(i) gives instance i; every
// instance plans before any applies.
func race(t *testing.T, newDriver func() *libsql.Driver, n int, tables func(i int) []*entschema.Table, opts ...entschema.MigrateOption) []raceResult {
	t.Helper()
	ctx := context.Background()
	b := newBarrier(n)
	results := make([]raceResult, n)
	drivers := make([]*libsql.Driver, n)
	for i := range drivers {
		drivers[i] = newDriver()
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cd := &countingDriver{Driver: drivers[i]}
			err := migratetest.Migrate(ctx, cd, tables(i), append([]entschema.MigrateOption{schema.WithLibSQL(), entschema.WithDiffHook(b.hook())}, opts...)...)
			if err != nil && !b.passed() {
				b.fail()
			}
			results[i] = raceResult{err: err, stmts: cd.stmts, drops: cd.drops}
		}()
	}
	wg.Wait()
	if !b.passed() {
		t.Fatal("not every instance reached the barrier")
	}
	return results
}

// barrier holds each instance after its first diff until all n have
// diffed (or one failed before).
type barrier struct {
	mu      sync.Mutex
	waiting int
	all     chan struct{}
	done    bool
}

func newBarrier(n int) *barrier { return &barrier{waiting: n, all: make(chan struct{})} }

func (b *barrier) arrive() {
	b.mu.Lock()
	b.waiting--
	if b.waiting == 0 && !b.done {
		b.done = true
		close(b.all)
	}
	b.mu.Unlock()
	<-b.all
}

func (b *barrier) fail() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.done, b.waiting = true, -1
		close(b.all)
	}
}

func (b *barrier) passed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done && b.waiting == 0
}

// hook is a diff hook, inside WithLibSQL's, that waits at the barrier
// after the instance's first diff.
func (b *barrier) hook() entschema.DiffHook {
	var once sync.Once
	return func(next entschema.Differ) entschema.Differ {
		return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
			changes, err := next.Diff(current, desired)
			once.Do(b.arrive)
			return changes, err
		})
	}
}

// countingDriver counts the statements its transactions execute.
type countingDriver struct {
	dialect.Driver
	mu           sync.Mutex
	stmts, drops int
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, d: d}, nil
}

type countingTx struct {
	dialect.Tx
	d *countingDriver
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	err := t.Tx.Exec(ctx, query, args, v)
	if err == nil {
		t.d.mu.Lock()
		t.d.stmts++
		if strings.HasPrefix(strings.TrimSpace(query), "DROP TABLE") {
			t.d.drops++
		}
		t.d.mu.Unlock()
	}
	return err
}

// The check that the plan still holds under the lock costs no request on
// an up-to-date schema (nothing to apply, nothing checked) and at most
// one on a migration that changes something.
func TestRequestsOfCheckedMigration(t *testing.T) {
	px, err := sqldtest.NewProxy(freshServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	drv := openURL(t, px.URL())
	ctx, p := context.Background(), prefix(t)
	migratetest.Created(t, drv, drv.DB(), p, false)
	count := func(tables []*entschema.Table) int64 {
		t.Helper()
		px.Reset()
		if err := migratetest.Migrate(ctx, drv, tables, schema.WithLibSQL()); err != nil {
			t.Fatal(err)
		}
		return px.Requests()
	}
	add := count(family(p, addColumn(rankColumn)))
	upToDate := count(family(p, addColumn(rankColumn)))
	rebuild := count(family(p, func(f migratetest.Family) {
		f.Parents.Columns = append(f.Parents.Columns, rankColumn())
		f.Parents.Annotation = &entsql.Annotation{Checks: map[string]string{p + "_name": "name <> ''"}}
	}))
	t.Logf("requests: adding a column %d, up to date %d, a rebuild %d", add, upToDate, rebuild)
	// Before the check: 21, 16 and 26 (the rebuild reads the catalog
	// anyway, so its check is free).
	if add > 22 || upToDate > 16 || rebuild > 26 {
		t.Fatalf("requests: adding a column %d (want at most 22), up to date %d (16), a rebuild %d (26)", add, upToDate, rebuild)
	}
}

// Two different but compatible versions race: v2 adds a field, v3 the
// same field, an index and a table. Whichever goes first, both succeed,
// the other applies only what is left, and the schema ends as v3.
func TestConcurrentCompatibleVersions(t *testing.T) {
	for _, e := range raceEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			newDriver := e.open(t)
			for _, n := range []int{2, 4, 8} {
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					drv := newDriver()
					p := prefix(t)
					v1 := migratetest.Created(t, drv, drv.DB(), p, false)
					before := v1Rows(t, drv, v1)
					v2 := func() []*entschema.Table { return family(p, addColumn(rankColumn)) }
					v3 := func() []*entschema.Table {
						return append(family(p, func(f migratetest.Family) {
							addColumn(rankColumn)(f)
							nameIndex(f)
						}), labelsTable(p))
					}
					if e.shared {
						drv.DB().SetMaxOpenConns(1)
					}
					results := race(t, newDriver, n, func(i int) []*entschema.Table {
						if i%2 == 0 {
							return v2()
						}
						return v3()
					})
					drv.DB().SetMaxOpenConns(0)
					for i, r := range results {
						if r.err != nil {
							t.Errorf("instance %d: %v", i, r.err)
						}
						if r.drops > 0 {
							t.Errorf("instance %d rebuilt a table", i)
						}
					}
					if after := v1Rows(t, drv, v1); after != before {
						t.Fatalf("rows changed: %s", firstDiff(before, after))
					}
					if plan := writeTo(t, drv, v3(), schema.WithLibSQL()); plan != "" {
						t.Fatalf("the schema is not v3: a further run plans\n%s", plan)
					}
					env := raceEnv{p: p, drv: drv}
					if n := env.one(t, fmt.Sprintf("SELECT count(*) FROM %s_parents WHERE rank = 7", p)); n != fmt.Sprint(migratetest.NumParents) {
						t.Fatalf("%s rows with rank 7", n)
					}
				})
			}
		})
	}
}

// firstDiff names the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: %q, now %q", i+1, x, y)
		}
	}
	return "no line"
}

// With ent's universal IDs (WithGlobalUniqueID), a new table also gets a
// row in ent_types, its range: allocated once, whoever wins.
func TestConcurrentNewTableUniversalID(t *testing.T) {
	for _, e := range raceEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			newDriver := e.open(t)
			ctx, drv := context.Background(), newDriver()
			p := prefix(t)
			if err := migratetest.Migrate(ctx, drv, family(p, func(migratetest.Family) {}), entschema.WithGlobalUniqueID(true)); err != nil {
				t.Fatal(err)
			}
			v2 := func(int) []*entschema.Table { return append(family(p, func(migratetest.Family) {}), labelsTable(p)) }
			if e.shared {
				drv.DB().SetMaxOpenConns(1)
			}
			results := race(t, newDriver, 4, v2, entschema.WithGlobalUniqueID(true))
			drv.DB().SetMaxOpenConns(0)
			for i, r := range results {
				if r.err != nil {
					t.Errorf("instance %d: %v", i, r.err)
				}
			}
			env := raceEnv{p: p, drv: drv}
			if n := env.one(t, fmt.Sprintf("SELECT count(*) FROM ent_types WHERE type = '%s_labels'", p)); n != "1" {
				t.Fatalf("%s ent_types rows for the new table", n)
			}
			pos := env.one(t, fmt.Sprintf("SELECT id - 1 FROM ent_types WHERE type = '%s_labels'", p))
			seq := env.one(t, fmt.Sprintf("SELECT seq >> 32 FROM sqlite_sequence WHERE name = '%s_labels'", p))
			if pos != seq {
				t.Fatalf("the table's range starts at %s<<32, its ent_types row is %s", seq, pos)
			}
		})
	}
}
