package schema_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/entlibsql/entlibsql/dialect/libsql"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/rebuild"
	"github.com/entlibsql/entlibsql/schema"
)

var (
	evolutionSteps = flag.Int("evolution.steps", 0, "schema changes per engine in TestRandomEvolution (default 25; 10 with -short)")
	evolutionSeed  = flag.Int64("evolution.seed", 0, "seed of TestRandomEvolution (default: the clock; the test logs it)")
)

// TestRandomEvolution makes random schema changes to populated tables
// that also hold what the ent schema does not declare (triggers, views,
// expression and vector indexes, undeclared and generated columns, STRICT,
// WITHOUT ROWID and RANDOM ROWID tables, statistics on the embedded
// engine), through Schema.Create with WithLibSQL, and checks each one
// against a model: row by row and object by object after a change that
// succeeds, the database unchanged after one that fails, and a failure
// only where the model predicts one (a NOT NULL over rows without a
// value, a dropped column a trigger or view uses). Any difference is a
// violation. Run the long form with
//
//	go test -run TestRandomEvolution -timeout 30m ./schema -args -evolution.steps=250
func TestRandomEvolution(t *testing.T) {
	steps := *evolutionSteps
	switch {
	case steps > 0:
	case testing.Short():
		steps = 10
	default:
		steps = 25
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			seed := *evolutionSeed
			if seed == 0 {
				seed = time.Now().UnixNano()
			}
			t.Logf("seed %d (-args -evolution.seed=%d reproduces this run)", seed, seed)
			ev := &evolution{t: t, drv: e.open(t), r: rand.New(rand.NewSource(seed)), p: prefix(t) + "ev", stats: e.name == "embedded"}
			ev.db = ev.drv.DB()
			ev.setup()
			for i := 0; i < steps; i++ {
				ev.step(i)
			}
			t.Logf("%s: %d schema changes on %d tables: %d applied (%d with a rebuild, %d in place), %d refused as predicted, %d statements run, 0 violations",
				e.name, steps, len(ev.tables), ev.applied, ev.rebuilds, ev.applied-ev.rebuilds, ev.refused, ev.stmts)
			// Every fourth step adds or drops a CHECK (a rebuild); most of
			// the others change tables in place. A seed may draw many
			// changes that must be refused (9 of 25 applied, seen once), so
			// the bound is loose: it catches a run that stopped changing
			// anything, not an unlucky draw.
			if ev.rebuilds == 0 || steps >= 20 && (ev.applied < steps/4 || ev.applied == ev.rebuilds) {
				t.Fatalf("the run did not exercise enough: %d applied, %d rebuilds", ev.applied, ev.rebuilds)
			}
		})
	}
}

type ecol struct {
	name  string
	typ   string // "int" or "string"
	null  bool
	def   string // "", "const" or "expr" (CURRENT_TIMESTAMP)
	val   string // the constant default
	index bool   // an ent index on it
}

type etable struct {
	name   string
	kind   string // "plain", "strict", "wr" (WITHOUT ROWID, text id), "rr" (RANDOM ROWID)
	cols   []*ecol
	extras []string // columns ent does not declare
	check  bool
}

// hand is an object made by hand, with the columns it uses.
type hand struct {
	typ, name, table, sql string
	uses                  []string
	generated             bool // a generated column (typ "column")
}

type evolution struct {
	t      *testing.T
	drv    *libsql.Driver
	db     *sql.DB
	r      *rand.Rand
	p      string
	stats  bool
	tables []*etable
	hands  []*hand
	seq    int
	// What the run did.
	applied, refused, rebuilds, stmts int
}

func (ev *evolution) name(kind string) string {
	ev.seq++
	return fmt.Sprintf("%s_%s%d", ev.p, kind, ev.seq)
}

func (ev *evolution) exec(q string, args ...any) {
	ev.t.Helper()
	if _, err := ev.db.ExecContext(context.Background(), q, args...); err != nil {
		ev.t.Fatalf("%s: %v", q, err)
	}
}

func (ev *evolution) setup() {
	t := ev.t
	a := &etable{name: ev.p + "_a", kind: "plain", cols: []*ecol{{name: "name", typ: "string"}}}
	b := &etable{name: ev.p + "_b", kind: "strict", cols: []*ecol{{name: "name", typ: "string"}}}
	c := &etable{name: ev.p + "_c", kind: "wr", cols: []*ecol{{name: "name", typ: "string"}}}
	d := &etable{name: ev.p + "_d", kind: "rr", cols: []*ecol{{name: "name", typ: "string"}}}
	ev.tables = []*etable{a, b, c, d}
	ev.exec(fmt.Sprintf("CREATE TABLE %s (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL) STRICT", b.name))
	ev.exec(fmt.Sprintf("CREATE TABLE %s (`id` text NOT NULL, `name` text NOT NULL, PRIMARY KEY (`id`)) WITHOUT ROWID", c.name))
	ev.exec(fmt.Sprintf("CREATE TABLE %s (`id` integer NOT NULL PRIMARY KEY, `name` text NOT NULL, `a_id` integer NULL, CONSTRAINT `%s_a` FOREIGN KEY (`a_id`) REFERENCES `%s` (`id`) ON DELETE SET NULL) RANDOM ROWID", d.name, d.name, a.name))
	ev.exec(fmt.Sprintf("CREATE TABLE %s (tbl text, msg text)", ev.p+"_audit"))
	// The parent first: d's foreign key needs it.
	ev.exec(fmt.Sprintf("CREATE TABLE %s (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL)", a.name))
	if err := migratetest.Migrate(context.Background(), ev.drv, ev.entTables(), schema.WithLibSQL()); err != nil {
		t.Fatalf("creating the tables: %v", err)
	}
	ev.hands = append(ev.hands, &hand{typ: "index", name: a.name + "_vec", table: a.name, uses: []string{"emb"},
		sql: fmt.Sprintf("CREATE INDEX %s_vec ON %s (libsql_vector_idx(emb, 'metric=cosine'))", a.name, a.name)})
	ev.exec(ev.hands[0].sql)
	ev.insertRows(30)
	for i := 0; i < 4; i++ {
		ev.addHand()
	}
	if ev.stats {
		ev.exec("ANALYZE")
	}
	if drift := ev.plan(); drift != "" {
		t.Fatalf("after the setup the schema is not the model's:\n%s", drift)
	}
}

// entTables is the model's ent schema.
func (ev *evolution) entTables() []*entschema.Table {
	var out []*entschema.Table
	var a *entschema.Table
	for _, et := range ev.tables {
		id := &entschema.Column{Name: "id", Type: field.TypeInt, Increment: true}
		if et.kind == "wr" {
			id = &entschema.Column{Name: "id", Type: field.TypeString}
		}
		tb := &entschema.Table{Name: et.name, Columns: []*entschema.Column{id}}
		for _, c := range et.cols {
			col := &entschema.Column{Name: c.name, Type: field.TypeInt, Nullable: c.null}
			if c.typ == "string" {
				col.Type = field.TypeString
			}
			switch c.def {
			case "const":
				if c.typ == "int" {
					var n int64
					fmt.Sscan(c.val, &n)
					col.Default = n
				} else {
					col.Default = c.val
				}
			case "expr":
				col.Default = entschema.Expr("CURRENT_TIMESTAMP")
			}
			tb.Columns = append(tb.Columns, col)
			if c.index {
				tb.Indexes = append(tb.Indexes, &entschema.Index{Name: et.name + "_" + c.name + "_idx", Columns: []*entschema.Column{col}})
			}
		}
		if et.kind == "plain" {
			// A vector column ent declares (with its SQLite type); its
			// index is made by hand.
			tb.Columns = append(tb.Columns, &entschema.Column{Name: "emb", Type: field.TypeBytes, Nullable: true, SchemaType: map[string]string{dialect.SQLite: "F32_BLOB(3)"}})
		}
		if et.kind == "rr" {
			fk := &entschema.Column{Name: "a_id", Type: field.TypeInt, Nullable: true}
			tb.Columns = append(tb.Columns, fk)
			tb.ForeignKeys = []*entschema.ForeignKey{{Symbol: et.name + "_a", Columns: []*entschema.Column{fk}, RefTable: a, RefColumns: a.Columns[:1], OnDelete: entschema.SetNull}}
		}
		tb.PrimaryKey = tb.Columns[:1]
		if et.check {
			tb.Annotation = &entsql.Annotation{Checks: map[string]string{et.name + "_ck": "id IS NOT NULL"}}
		}
		if et.kind == "plain" {
			a = tb
		}
		out = append(out, tb)
	}
	return out
}

// plan is what migrating to the model would run: "" once the database is
// the model.
func (ev *evolution) plan() string {
	return writeTo(ev.t, ev.drv, ev.entTables(), schema.WithLibSQL())
}

func (ev *evolution) insertRows(n int) {
	ctx := context.Background()
	for _, et := range ev.tables {
		for i := 0; i < n; i++ {
			cols, vals := []string{}, []any{}
			if et.kind == "wr" {
				ev.seq++
				cols, vals = append(cols, "id"), append(vals, fmt.Sprintf("k%06d", ev.seq))
			}
			for _, c := range et.cols {
				if c.null && ev.r.Intn(3) == 0 {
					continue // NULL, or the default
				}
				if c.def != "" && ev.r.Intn(2) == 0 {
					continue
				}
				cols = append(cols, "`"+c.name+"`")
				if c.typ == "int" {
					vals = append(vals, ev.r.Int63n(1000))
				} else {
					vals = append(vals, fmt.Sprintf("v%d", ev.r.Intn(1000)))
				}
			}
			if et.kind == "plain" {
				cols, vals = append(cols, "emb"), append(vals, fmt.Sprintf("[%d, %d, %d]", ev.r.Intn(9)+1, ev.r.Intn(9)+1, ev.r.Intn(9)+1))
			}
			if et.kind == "rr" && ev.r.Intn(2) == 0 {
				cols = append(cols, "a_id")
				vals = append(vals, 1+ev.r.Intn(10))
			}
			ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
			if et.kind == "plain" {
				ph = strings.TrimSuffix(strings.Repeat("?, ", len(vals)-1), ", ")
				if ph != "" {
					ph += ", "
				}
				ph += "vector32(?)"
			}
			q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", et.name, strings.Join(cols, ", "), ph)
			if len(cols) == 0 {
				q = fmt.Sprintf("INSERT INTO %s DEFAULT VALUES", et.name)
			}
			if _, err := ev.db.ExecContext(ctx, q, vals...); err != nil {
				ev.t.Fatalf("%s %v: %v", q, vals, err)
			}
		}
	}
}

// columns are the names a hand object may use in et: its declared and
// undeclared columns.
func (et *etable) columns() []string {
	names := []string{"id"}
	for _, c := range et.cols {
		names = append(names, c.name)
	}
	return append(names, et.extras...)
}

func (ev *evolution) pick(list []string) string { return list[ev.r.Intn(len(list))] }

// addHand makes a random object by hand.
func (ev *evolution) addHand() {
	et := ev.tables[ev.r.Intn(len(ev.tables))]
	col := ev.pick(et.columns())
	audit := ev.p + "_audit"
	var h *hand
	switch ev.r.Intn(5) {
	case 0:
		n := ev.name("tr")
		h = &hand{typ: "trigger", name: n, table: et.name, uses: []string{col},
			sql: fmt.Sprintf("CREATE TRIGGER %s AFTER INSERT ON %s BEGIN INSERT INTO %s (tbl, msg) VALUES ('%s', CAST(new.%s AS TEXT)); END", n, et.name, audit, et.name, col)}
	case 1:
		n := ev.name("v")
		h = &hand{typ: "view", name: n, table: n, uses: []string{col}, sql: fmt.Sprintf("CREATE VIEW %s AS SELECT id, %s FROM %s", n, col, et.name)}
	case 2:
		n := ev.name("ix")
		h = &hand{typ: "index", name: n, table: et.name, uses: []string{col}, sql: fmt.Sprintf("CREATE INDEX %s ON %s (lower(%s))", n, et.name, col)}
	case 3:
		n := ev.name("x")
		ev.exec(fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s text DEFAULT 'h'", et.name, n))
		ev.exec(fmt.Sprintf("UPDATE %s SET %s = 'v' || id", et.name, n))
		et.extras = append(et.extras, n)
		return
	case 4:
		if et.kind == "wr" || et.kind == "strict" && ev.r.Intn(2) == 0 {
			return
		}
		n := ev.name("g")
		h = &hand{typ: "column", name: n, table: et.name, uses: []string{col}, generated: true,
			sql: fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s text GENERATED ALWAYS AS (upper(%s)) VIRTUAL", et.name, n, col)}
		et.extras = append(et.extras, n)
	}
	ev.exec(h.sql)
	ev.hands = append(ev.hands, h)
}

// dropHand drops a random trigger, view or index made by hand (not the
// vector index, which every step checks).
func (ev *evolution) dropHand() {
	var cands []int
	for i, h := range ev.hands {
		if h.typ != "column" && i > 0 {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return
	}
	i := cands[ev.r.Intn(len(cands))]
	h := ev.hands[i]
	ev.exec(fmt.Sprintf("DROP %s %s", strings.ToUpper(h.typ), h.name))
	ev.hands = append(ev.hands[:i], ev.hands[i+1:]...)
}

// dropHandObject drops h, a hand object: a trigger, a view or a
// generated column.
func (ev *evolution) dropHandObject(h *hand) {
	for _, x := range ev.hands {
		if x != h {
			continue
		}
		if h.typ == "column" {
			for _, y := range append([]*hand(nil), ev.hands...) {
				if y != h && contains(y.uses, h.name) && (y.table == h.table || y.typ == "view" && strings.Contains(y.sql, " FROM "+h.table)) {
					ev.dropHandObject(y) // what reads the generated column first
				}
			}
			ev.exec(fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", h.table, h.name))
			for _, et := range ev.tables {
				if et.name == h.table {
					var extras []string
					for _, c := range et.extras {
						if c != h.name {
							extras = append(extras, c)
						}
					}
					et.extras = extras
				}
			}
		} else {
			ev.exec(fmt.Sprintf("DROP %s %s", strings.ToUpper(h.typ), h.name))
		}
		var kept []*hand
		for _, y := range ev.hands {
			if y != h {
				kept = append(kept, y)
			}
		}
		ev.hands = kept
		return
	}
}

// change is one step's changes to the model and what they predict.
type change struct {
	desc     []string
	fail     string                // the refusal predicted, "" for none
	fills    map[string]*ecol      // "table.col" made NOT NULL with a default: NULLs become it
	added    map[string]*ecol      // "table.col" new
	dropped  map[string]bool       // "table.col" dropped on purpose
	demoted  map[string]bool       // "table.col" left out of the schema, kept in the table
	gone     map[string]bool       // hand objects that go: indexes on a dropped column, dropped generated columns
	touched  map[string]bool       // "table.col" changed by this step already: one change a column a step
	blockers []*hand               // hand objects that predict a "keep" refusal
	dropCols bool                  // WithDropColumn
	before   map[string]*etable    // their model before
	counts   map[string]int        // rows per table
	nulls    func(t, c string) int // NULLs in a column now
}

func (ev *evolution) countRows(table string) int { return migratetest.Count(ev.t, ev.db, table) }

// mutate changes the model at random, recording the change: op (0 to 9)
// picks what; 7 is a CHECK, which only a rebuild can add or drop.
func (ev *evolution) mutate(ch *change, op int) {
	et := ev.tables[ev.r.Intn(len(ev.tables))]
	if _, ok := ch.before[et.name]; !ok {
		cp := *et
		cp.cols = nil
		for _, c := range et.cols {
			cc := *c
			cp.cols = append(cp.cols, &cc)
		}
		cp.extras = append([]string(nil), et.extras...)
		ch.before[et.name] = &cp
	}
	key := func(c string) string { return et.name + "." + c }
	// untouched picks a column this step has not changed yet, or nil.
	untouched := func() *ecol {
		c := et.cols[ev.r.Intn(len(et.cols))]
		if ch.touched[key(c.name)] {
			return nil
		}
		ch.touched[key(c.name)] = true
		return c
	}
	switch {
	case op < 3 || len(et.cols) == 0: // add a field
		c := &ecol{name: ev.name("f")[len(ev.p)+1:], typ: []string{"int", "string"}[ev.r.Intn(2)]}
		switch ev.r.Intn(5) {
		case 0:
			c.null = true
		case 1:
			c.null, c.def, c.val = true, "const", "5"
		case 2:
			c.def, c.val = "const", "9"
		case 3:
			c.typ, c.def = "string", "expr"
		case 4: // NOT NULL without a default: refused over rows
			if ch.counts[et.name] > 0 {
				ch.fail = "tighten"
			}
		}
		if c.def == "const" && c.typ == "string" {
			c.val = "d" + c.val
		}
		c.index = ev.r.Intn(4) == 0
		et.cols = append(et.cols, c)
		ch.added[key(c.name)] = c
		ch.touched[key(c.name)] = true
		ch.desc = append(ch.desc, fmt.Sprintf("add %s %+v", key(c.name), *c))
	case op < 5: // drop a field
		i := ev.r.Intn(len(et.cols))
		c := et.cols[i]
		if c.name == "name" || ch.touched[key(c.name)] {
			return // every table keeps one declared column
		}
		ch.touched[key(c.name)] = true
		if !ch.dropCols && !c.null && c.def == "" {
			return // left in the table, it would refuse the rows ent inserts
		}
		et.cols = append(et.cols[:i], et.cols[i+1:]...)
		if !ch.dropCols {
			et.extras = append(et.extras, c.name)
			ch.demoted[key(c.name)] = true
			ch.desc = append(ch.desc, "leave "+key(c.name)+" out of the schema")
			return
		}
		ch.desc = append(ch.desc, "drop "+key(c.name))
		ev.dropping(ch, et, c.name)
	case op < 7: // NOT NULL or nullable
		c := untouched()
		if c == nil {
			return
		}
		if c.null && c.def == "" && ch.nulls(et.name, c.name) > 0 {
			ch.fail = "tighten"
		}
		if c.null && c.def != "" {
			ch.fills[key(c.name)] = c
		}
		c.null = !c.null
		ch.desc = append(ch.desc, fmt.Sprintf("%s nullable=%v", key(c.name), c.null))
	case op < 8: // a CHECK: a rebuild
		et.check = !et.check
		ch.desc = append(ch.desc, fmt.Sprintf("%s check=%v", et.name, et.check))
	case op < 9: // an index
		c := untouched()
		if c == nil {
			return
		}
		c.index = !c.index
		ch.desc = append(ch.desc, fmt.Sprintf("%s index=%v", key(c.name), c.index))
	default: // another constant default
		c := untouched()
		if c == nil || c.def == "expr" {
			return
		}
		c.def, c.val = "const", fmt.Sprint(ev.r.Intn(90)+10)
		if c.typ == "string" {
			c.val = "d" + c.val
		}
		ch.desc = append(ch.desc, fmt.Sprintf("%s default %s", key(c.name), c.val))
	}
}

// dropping records that the change drops column col of et.
func (ev *evolution) dropping(ch *change, et *etable, col string) {
	ch.dropped[et.name+"."+col] = true
}

// predictDrops says what the dropped columns predict: the indexes on them
// and the generated columns dropped go, a trigger, a view or a generated
// column kept that uses one stops the change.
func (ev *evolution) predictDrops(ch *change) {
	for _, h := range ev.hands {
		if h.typ == "column" && ch.dropped[h.table+"."+h.name] {
			ch.gone[h.name] = true
			continue
		}
		for key := range ch.dropped {
			table, col, _ := strings.Cut(key, ".")
			if !contains(h.uses, col) || h.table != table && (h.typ != "view" || !strings.Contains(h.sql, " FROM "+table)) {
				continue
			}
			if h.typ == "index" {
				ch.gone[h.name] = true
			} else {
				ch.fail = "keep"
				ch.blockers = append(ch.blockers, h)
			}
		}
	}
}

// snapshot is the whole database: objects, rows by key, statistics.
type snapshot struct {
	objects map[string]migratetest.Object
	rows    map[string]map[string]map[string]string // table, row key, column: value
	text    string
	stats   string
}

func (ev *evolution) snapshot() snapshot {
	s := snapshot{objects: migratetest.Objects(ev.t, ev.db), rows: map[string]map[string]map[string]string{}, stats: migratetest.Stats(ev.t, ev.db)}
	var text strings.Builder
	for _, et := range append(ev.tables, &etable{name: ev.p + "_audit", kind: "audit"}) {
		s.rows[et.name] = ev.rowsOf(et)
		text.WriteString(migratetest.Rows(ev.t, ev.db, et.name))
	}
	s.text = text.String()
	return s
}

func (ev *evolution) rowsOf(et *etable) map[string]map[string]string {
	q := fmt.Sprintf("SELECT rowid AS rowid_, * FROM %s", et.name)
	if et.kind == "wr" {
		q = fmt.Sprintf("SELECT id AS rowid_, * FROM %s", et.name)
	}
	rows, err := ev.db.QueryContext(context.Background(), q)
	if err != nil {
		ev.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]map[string]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			ev.t.Fatal(err)
		}
		row := map[string]string{}
		for i, c := range cols[1:] {
			row[c] = valueText(vals[i+1])
		}
		out[valueText(vals[0])] = row
	}
	if err := rows.Err(); err != nil {
		ev.t.Fatal(err)
	}
	return out
}

func valueText(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return fmt.Sprintf("x'%x'", v)
	}
	return fmt.Sprint(v)
}

// step makes one schema change and checks it.
func (ev *evolution) step(i int) {
	t := ev.t
	ctx := context.Background()
	if ev.r.Intn(3) == 0 {
		if ev.r.Intn(3) == 0 {
			ev.dropHand()
		} else {
			ev.addHand()
		}
	}
	if ev.r.Intn(3) == 0 {
		ev.insertRows(3)
	}
	ch := &change{fills: map[string]*ecol{}, added: map[string]*ecol{}, dropped: map[string]bool{}, demoted: map[string]bool{}, gone: map[string]bool{}, touched: map[string]bool{},
		before: map[string]*etable{}, counts: map[string]int{}, dropCols: ev.r.Intn(3) > 0}
	for _, et := range ev.tables {
		ch.counts[et.name] = ev.countRows(et.name)
	}
	ch.nulls = func(table, col string) int {
		return migratetest.Count(t, ev.db, fmt.Sprintf("%s WHERE `%s` IS NULL", table, col))
	}
	for n := 1 + ev.r.Intn(2); n > 0; n-- {
		ev.mutate(ch, ev.r.Intn(10))
	}
	if i%4 == 0 || len(ch.desc) == 0 {
		ev.mutate(ch, 7) // a rebuild, at least every fourth step
	}
	if ch.dropCols {
		// WithDropColumn drops every column the ent schema lacks.
		for _, et := range ev.tables {
			for _, x := range et.extras {
				ch.desc = append(ch.desc, "drop undeclared "+et.name+"."+x)
				ev.dropping(ch, et, x)
			}
		}
	}
	ev.predictDrops(ch)
	before := ev.snapshot()
	opts := []entschema.MigrateOption{schema.WithLibSQL()}
	if ch.dropCols {
		opts = append(opts, entschema.WithDropColumn(true))
	}
	var b bytes.Buffer
	planErr := migratetest.Migrate(ctx, &entschema.WriteDriver{Writer: &b, Driver: ev.drv}, ev.entTables(), opts...)
	plan := b.String()
	err := migratetest.Migrate(ctx, ev.drv, ev.entTables(), opts...)
	if (planErr == nil) != (err == nil) {
		t.Fatalf("step %d: WriteTo said %v, Create %v", i, planErr, err)
	}
	where := fmt.Sprintf("step %d (%s)", i, strings.Join(ch.desc, "; "))
	switch {
	case err != nil && ch.fail == "":
		t.Fatalf("%s: failed, the model predicts success: %v\nplan:\n%s", where, err, plan)
	case err == nil && ch.fail != "":
		t.Fatalf("%s: succeeded, the model predicts a refusal (%s)\nplan:\n%s", where, ch.fail, plan)
	case err != nil:
		var te *schema.TightenError
		var ke *rebuild.Error
		if ch.fail == "tighten" && !errors.As(err, &te) || ch.fail == "keep" && !errors.As(err, &ke) && !errors.As(err, &te) {
			t.Fatalf("%s: want a %s refusal, got %v", where, ch.fail, err)
		}
		if after := ev.snapshot(); after.text != before.text || after.stats != before.stats || len(migratetest.LostObjects(before.objects, after.objects)) > 0 ||
			len(after.objects) != len(before.objects) {
			t.Fatalf("%s: the refused change changed the database: %v", where, err)
		}
		ev.refused++
		ev.undo(ch)
		// As the error says: drop what stops the change, so that the run
		// does not refuse every later step that drops the same column.
		for _, h := range ch.blockers {
			ev.dropHandObject(h)
		}
		return
	}
	ev.applied++
	ev.stmts += strings.Count(plan, ";\n")
	if strings.Contains(plan, "RENAME TO") {
		ev.rebuilds++
	}
	ev.check(where, plan, ch, before)
}

// undo puts the model back after a refused change.
func (ev *evolution) undo(ch *change) {
	for i, et := range ev.tables {
		if b, ok := ch.before[et.name]; ok {
			ev.tables[i] = b
		}
	}
}

// check compares the database after a change with the model.
func (ev *evolution) check(where, plan string, ch *change, before snapshot) {
	t := ev.t
	after := ev.snapshot()
	// Objects: every hand-made one is there as it was, but the indexes
	// that went with a dropped column.
	var kept []*hand
	for _, h := range ev.hands {
		if ch.gone[h.name] {
			if _, ok := after.objects["index "+h.name]; ok {
				t.Fatalf("%s: index %s outlived its dropped column", where, h.name)
			}
			continue
		}
		kept = append(kept, h)
		if h.typ == "column" {
			continue
		}
		if o, ok := after.objects[h.typ+" "+h.name]; !ok || o.SQL != h.sql {
			t.Fatalf("%s: %s %s was lost or changed: %q\nplan:\n%s", where, h.typ, h.name, o.SQL, plan)
		}
	}
	ev.hands = kept
	for _, et := range ev.tables {
		var extras []string
		for _, x := range et.extras {
			if !ch.dropped[et.name+"."+x] {
				extras = append(extras, x)
			}
		}
		et.extras = extras
	}
	for _, et := range ev.tables {
		sql := after.objects["table "+et.name].SQL
		for opt, kind := range map[string]string{"STRICT": "strict", "WITHOUT ROWID": "wr", "RANDOM ROWID": "rr"} {
			if et.kind == kind && !strings.Contains(sql, opt) {
				t.Fatalf("%s: %s lost %s: %s", where, et.name, opt, sql)
			}
		}
		for _, h := range ev.hands {
			if h.generated && h.table == et.name && !strings.Contains(sql, "GENERATED ALWAYS AS (upper(") {
				t.Fatalf("%s: %s lost its generated column %s: %s", where, et.name, h.name, sql)
			}
		}
		if et.check != strings.Contains(sql, "id IS NOT NULL") {
			t.Fatalf("%s: %s check=%v, table: %s", where, et.name, et.check, sql)
		}
	}
	// Rows: every row still there, every value as it was, new columns
	// with their defaults. A generated column follows the column it reads
	// (NULLs given a default change it): it must still compute from it.
	for _, et := range ev.tables {
		derived := map[string]bool{}
		for _, h := range ev.hands {
			if h.generated && h.table == et.name {
				derived[et.name+"."+h.name] = true
				if n := migratetest.Count(t, ev.db, fmt.Sprintf("%s WHERE %s IS NOT upper(%s)", et.name, h.name, h.uses[0])); n > 0 {
					t.Fatalf("%s: %d rows of %s.%s are not upper(%s)\nplan:\n%s", where, n, et.name, h.name, h.uses[0], plan)
				}
			}
		}
		b, a := before.rows[et.name], after.rows[et.name]
		if len(a) != len(b) {
			t.Fatalf("%s: %s has %d rows, %d before", where, et.name, len(a), len(b))
		}
		for k, brow := range b {
			arow, ok := a[k]
			if !ok {
				t.Fatalf("%s: row %s of %s is gone (rowid not kept?)", where, k, et.name)
			}
			for col, bv := range brow {
				key := et.name + "." + col
				av, ok := arow[col]
				switch {
				case ch.dropped[key]:
					if ok {
						t.Fatalf("%s: %s was dropped but is still there", where, key)
					}
				case !ok:
					t.Fatalf("%s: column %s with its values is gone\nplan:\n%s", where, key, plan)
				case derived[key]:
				case ch.fills[key] != nil && bv == "NULL":
					if c := ch.fills[key]; c.def == "const" && av != c.val || av == "NULL" {
						t.Fatalf("%s: %s row %s: NULL became %s, want the default %s", where, key, k, av, c.val)
					}
				case av != bv:
					t.Fatalf("%s: %s row %s changed: %s -> %s\nplan:\n%s", where, key, k, bv, av, plan)
				}
			}
			for key, c := range ch.added {
				if !strings.HasPrefix(key, et.name+".") {
					continue
				}
				av := arow[c.name]
				switch {
				case c.def == "const" && av != c.val:
					t.Fatalf("%s: new %s row %s is %s, want its default %s", where, key, k, av, c.val)
				case c.def == "expr" && (av == "NULL" || av == ""):
					t.Fatalf("%s: new %s row %s has no CURRENT_TIMESTAMP: %s", where, key, k, av)
				case c.def == "" && av != "NULL":
					t.Fatalf("%s: new %s row %s is %s, want NULL", where, key, k, av)
				}
			}
		}
	}
	// Statistics: those of tables and unchanged indexes stay.
	if ev.stats {
		for _, line := range strings.Split(before.stats, "\n") {
			parts := strings.SplitN(line, "|", 3)
			if len(parts) != 3 || parts[1] != "" && parts[1] != parts[0] && !sameIndex(before.objects, after.objects, parts[1]) {
				continue
			}
			if !strings.Contains("\n"+after.stats+"\n", "\n"+line+"\n") {
				t.Fatalf("%s: statistics row %q was lost\nplan:\n%s", where, line, plan)
			}
		}
	}
	// The database is the model: nothing left to plan.
	if again := ev.plan(); again != "" {
		t.Fatalf("%s: the schema is not the model's; a second run plans:\n%s", where, again)
	}
	ev.works(where)
}

func sameIndex(before, after map[string]migratetest.Object, name string) bool {
	b, ok1 := before["index "+name]
	a, ok2 := after["index "+name]
	return ok1 && ok2 && a.SQL == b.SQL
}

// works checks that the objects around the tables still act: each table
// takes a row, its INSERT triggers fire, the views read, the vector
// index finds.
func (ev *evolution) works(where string) {
	t := ev.t
	ctx := context.Background()
	audit := ev.p + "_audit"
	for _, et := range ev.tables {
		triggers := 0
		for _, h := range ev.hands {
			if h.typ == "trigger" && h.table == et.name {
				triggers++
			}
		}
		n := ev.countRows(audit)
		ev.insertRowsInto(et)
		if got := ev.countRows(audit); got != n+triggers {
			t.Fatalf("%s: inserting into %s fired %d triggers, want %d", where, et.name, got-n, triggers)
		}
	}
	for _, h := range ev.hands {
		if h.typ == "view" {
			var n int
			if err := ev.db.QueryRowContext(ctx, "SELECT count(*) FROM "+h.name).Scan(&n); err != nil {
				t.Fatalf("%s: view %s: %v", where, h.name, err)
			}
		}
	}
	a := ev.tables[0].name
	var id int64
	if err := ev.db.QueryRowContext(ctx, fmt.Sprintf("SELECT id FROM vector_top_k('%s_vec', vector32('[1, 2, 3]'), 1)", a)).Scan(&id); err != nil {
		t.Fatalf("%s: vector_top_k: %v", where, err)
	}
	migratetest.ForeignKeysOnEverywhere(t, ev.db)
}

func (ev *evolution) insertRowsInto(et *etable) {
	all := ev.tables
	ev.tables = []*etable{et}
	defer func() { ev.tables = all }()
	ev.insertRows(1)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
