package libsql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"github.com/entlibsql/entlibsql/internal/hrana"
	"github.com/entlibsql/entlibsql/internal/inspecttest"
	"github.com/entlibsql/entlibsql/internal/migratetest"
	"github.com/entlibsql/entlibsql/internal/sqldtest"
)

func openInspected(t *testing.T, url string, tables int) (*Driver, string) {
	t.Helper()
	drv, err := Open(url, WithAuthToken(sqldtest.AuthToken()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	p := fmt.Sprintf("in%d", time.Now().UnixNano()%1e12)
	if err := migratetest.Migrate(context.Background(), drv, inspecttest.Tables(p, tables)); err != nil {
		t.Fatal(err)
	}
	return drv, p
}

// recorder is the ExecQuerier Atlas inspects through, writing down the
// queries it sends.
type recorder struct {
	db *sql.DB
	mu sync.Mutex
	qs []string
}

func (r *recorder) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r.mu.Lock()
	r.qs = append(r.qs, q)
	r.mu.Unlock()
	return r.db.QueryContext(ctx, q, args...)
}

func (r *recorder) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.db.ExecContext(ctx, q, args...)
}

// TestAtlasInspectionQueries pins the cache to the queries the vendored
// Atlas sends: every query of its InspectRealm and of an InspectSchema of
// named tables (what ent's Schema.Create runs) is one the cache answers,
// and the whole inspection takes one request. If Atlas changes a query,
// this fails (and the driver sends the new query to the server).
func TestAtlasInspectionQueries(t *testing.T) {
	p, err := sqldtest.NewProxy(sqldtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	drv, prefix := openInspected(t, p.URL(), 4)
	ctx := context.Background()
	rec := &recorder{db: drv.DB()}
	adrv, err := sqlite.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{prefix + "_t0", prefix + "_t1", prefix + "_t2", prefix + "_t3"}
	for _, c := range []struct {
		name    string
		inspect func() error
	}{
		{"InspectRealm", func() error { _, err := adrv.InspectRealm(ctx, nil); return err }},
		{"InspectSchema of tables", func() error {
			_, err := adrv.InspectSchema(ctx, "", &schema.InspectOptions{Tables: names})
			return err
		}},
	} {
		rec.qs = nil
		p.Reset()
		if err := c.inspect(); err != nil {
			t.Fatal(err)
		}
		if n := p.Requests(); n != 1 {
			t.Errorf("%s: %d requests, want 1", c.name, n)
		}
		known := map[string]bool{atlasDatabasesQuery: true, fmt.Sprintf(atlasDatabasesQueryArgs, "?"): true,
			atlasTablesQuery: true, atlasTablesQuery + fmt.Sprintf(atlasTablesFilter, placeholders(len(names))): true}
		for _, n := range names {
			for _, q := range []string{atlasColumnsQuery, atlasIndexesQuery, atlasForeignKeysQuery} {
				known[fmt.Sprintf(q, n)] = true
			}
			for _, idx := range []string{n + "_name_score", n + "_email_key"} {
				known[fmt.Sprintf(atlasIndexColumnsQuery, idx)] = true
			}
		}
		var unknown []string
		for _, q := range rec.qs {
			// InspectRealm also reads the tables of the package's other
			// tests: the one request above says those were cached too.
			if c.name == "InspectRealm" && !strings.Contains(q, prefix+"_") {
				continue
			}
			if !known[q] && !strings.Contains(q, "sqlite_autoindex_") {
				unknown = append(unknown, q)
			}
		}
		if len(unknown) > 0 {
			t.Errorf("%s: Atlas sent queries the cache does not know:\n%s", c.name, strings.Join(unknown, "\n"))
		}
		if len(rec.qs) < 1+1+3*len(names) {
			t.Errorf("%s: Atlas sent only %d queries", c.name, len(rec.qs))
		}
	}
}

// TestInspectionAnswersAreTheServers compares every answer the cache
// holds with what the server answers to the same query, on tables with
// every kind of column, index and key Atlas reads.
func TestInspectionAnswersAreTheServers(t *testing.T) {
	for _, url := range []string{sqldtest.URL(), strings.Replace(sqldtest.URL(), "http", "ws", 1)} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) { inspectionAnswersAreTheServers(t, url) })
	}
}

func inspectionAnswersAreTheServers(t *testing.T, url string) {
	drv, prefix := openInspected(t, url, 3)
	ctx := context.Background()
	db := drv.DB()
	q := func(s string) string { return strings.ReplaceAll(s, "{p}", prefix) }
	for _, s := range []string{
		q("CREATE TABLE {p}_odd (a INTEGER, b TEXT DEFAULT 'x', c REAL GENERATED ALWAYS AS (a * 2) VIRTUAL, d BLOB NOT NULL DEFAULT (x'00'), PRIMARY KEY (b, a)) WITHOUT ROWID"),
		q("CREATE UNIQUE INDEX {p}_odd_part ON {p}_odd (d DESC, a) WHERE a > 0"),
		q("CREATE INDEX {p}_odd_expr ON {p}_odd (lower(b), a)"),
		q("CREATE TABLE {p}_kids (id INTEGER PRIMARY KEY, ob TEXT, oa INTEGER, other INTEGER REFERENCES {p}_t0 (id) ON UPDATE CASCADE, UNIQUE (ob, oa), FOREIGN KEY (ob, oa) REFERENCES {p}_odd (b, a) ON DELETE CASCADE) STRICT"),
		q("CREATE TABLE \"{p}_we'ird\" (\"co'l\" INTEGER)"),
		q("CREATE INDEX \"{p}_i'dx\" ON \"{p}_we'ird\" (\"co'l\")"),
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		// Atlas cannot read a table with a quote in its name: leave none
		// behind for the package's other tests.
		db.Exec(q("DROP TABLE \"{p}_we'ird\""))
	})
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	err = sc.Raw(func(dc any) error {
		c := dc.(*conn)
		rows, err := c.QueryContext(ctx, atlasDatabasesQuery, nil)
		if err != nil {
			return err
		}
		rows.Close()
		in := c.inspection
		if in == nil {
			return fmt.Errorf("no inspection cached")
		}
		if len(in.answers) < 3*5 {
			return fmt.Errorf("only %d answers cached", len(in.answers))
		}
		answers := in.answers
		c.inspection = nil
		for query, cached := range answers {
			res, err := c.run(ctx, hrana.Stmt{SQL: query})
			if err != nil {
				return fmt.Errorf("%s: %v", query, err)
			}
			if !reflect.DeepEqual(colNames(cached), colNames(res)) || !reflect.DeepEqual(cached.Rows, res.Rows) {
				t.Errorf("%s:\ncached %v %v\nserver %v %v", query, colNames(cached), cached.Rows, colNames(res), res.Rows)
			}
		}
		for _, name := range []string{"_odd", "_kids"} {
			if _, ok := answers[fmt.Sprintf(atlasColumnsQuery, prefix+name)]; !ok {
				t.Errorf("no columns cached for %s%s", prefix, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func colNames(r *hrana.StmtResult) []string {
	var out []string
	for _, c := range r.Cols {
		out = append(out, c.Name)
	}
	return out
}

// TestInspectionIsTheSchemaWithout: the schema Atlas reads through the
// cache is the one it reads query by query (inside a transaction, where
// the cache is never used).
func TestInspectionIsTheSchemaWithout(t *testing.T) {
	for _, url := range []string{sqldtest.URL(), strings.Replace(sqldtest.URL(), "http", "ws", 1)} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) { inspectionIsTheSchemaWithout(t, url) })
	}
}

func inspectionIsTheSchemaWithout(t *testing.T, url string) {
	drv, prefix := openInspected(t, url, 5)
	ctx := context.Background()
	var names []string
	for i := 0; i < 5; i++ {
		names = append(names, fmt.Sprintf("%s_t%d", prefix, i))
	}
	cached, err := inspectSchema(ctx, drv.DB(), names)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := drv.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	plain, err := inspectSchema(ctx, tx, names)
	if err != nil {
		t.Fatal(err)
	}
	a, b := realmText(t, cached), realmText(t, plain)
	if a != b {
		t.Fatalf("the schema read through the cache differs:\n%s\nwithout:\n%s", a, b)
	}
}

func inspectSchema(ctx context.Context, q schema.ExecQuerier, tables []string) (*schema.Schema, error) {
	adrv, err := sqlite.Open(q)
	if err != nil {
		return nil, err
	}
	return adrv.InspectSchema(ctx, "", &schema.InspectOptions{Tables: tables})
}

func realmText(t *testing.T, s *schema.Schema) string {
	b, err := sqlite.MarshalHCL(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInspectionNeverStale: the cache answers only Atlas's next queries
// of the inspection it read, each once; a write or a transaction on any
// connection of the driver, another statement on the connection, or time
// ends it, and the query goes to the server.
func TestInspectionNeverStale(t *testing.T) {
	drv, prefix := openInspected(t, sqldtest.URL(), 2)
	ctx := context.Background()
	db := drv.DB()
	columns := fmt.Sprintf(atlasColumnsQuery, prefix+"_t0")
	added := 0
	// columnsOf reads t0's column names through c.
	columnsOf := func(c *conn) []string {
		rows, err := c.QueryContext(ctx, columns, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		dest := make([]driver.Value, len(rows.Columns()))
		for rows.Next(dest) == nil {
			names = append(names, fmt.Sprint(dest[0]))
		}
		return names
	}
	for _, c := range []struct {
		name string
		// between runs between the start of the inspection on c and the
		// columns query; it reports whether it added a column.
		between func(c *conn) bool
	}{
		{"a write on another connection", func(*conn) bool {
			added++
			if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s_t0 ADD COLUMN extra%d integer", prefix, added)); err != nil {
				t.Fatal(err)
			}
			return true
		}},
		{"a transaction on another connection", func(*conn) bool {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			tx.Rollback()
			return false
		}},
		{"another inspection", func(*conn) bool {
			if _, err := inspectSchema(ctx, db, []string{prefix + "_t1"}); err != nil {
				t.Fatal(err)
			}
			return false
		}},
		{"another statement on the connection", func(c *conn) bool {
			rows, err := c.QueryContext(ctx, "SELECT 1", nil)
			if err != nil {
				t.Fatal(err)
			}
			rows.Close()
			return false
		}},
		{"the same query asked before", func(c *conn) bool {
			columnsOf(c)
			return false
		}},
		{"time", func(c *conn) bool {
			c.inspection.expires = time.Now().Add(-time.Second)
			return false
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			err = sc.Raw(func(dc any) error {
				cn := dc.(*conn)
				before := len(columnsOfServer(t, ctx, db, columns))
				rows, err := cn.QueryContext(ctx, atlasDatabasesQuery, nil)
				if err != nil {
					return err
				}
				rows.Close()
				if cn.inspection == nil {
					return fmt.Errorf("no inspection cached")
				}
				addedColumn := c.between(cn)
				got := columnsOf(cn)
				want := before
				if addedColumn {
					want++
				}
				if len(got) != want {
					t.Errorf("%d columns after %s, want %d (%v)", len(got), c.name, want, got)
				}
				if c.name != "the same query asked before" && cn.inspection != nil {
					t.Errorf("the cache outlived %s", c.name)
				}
				if cn.inspection != nil && cn.inspection.answers[columns] != nil {
					t.Errorf("the answer is still cached")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// A transaction on the connection itself: nothing inside it comes
	// from the cache.
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.Raw(func(dc any) error {
		cn := dc.(*conn)
		rows, err := cn.QueryContext(ctx, atlasDatabasesQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		tx, err := cn.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if cn.inspection != nil {
			t.Errorf("the cache outlived BEGIN")
		}
		return nil
	})
}

func columnsOfServer(t *testing.T, ctx context.Context, db *sql.DB, query string) []string {
	t.Helper()
	tx, err := db.BeginTx(ctx, nil) // never from a cache
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		var rest [5]any
		if err := rows.Scan(&n, &rest[0], &rest[1], &rest[2], &rest[3], &rest[4]); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// An inspection whose answer is over sqld's --max-response-size while
// each of Atlas's queries is under it: the migration works, query by
// query, and the driver stops trying to inspect in one answer.
func TestInspectionTooLargeForOneAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := sqldtest.Start(ctx, sqldtest.Options{Args: []string{"--max-response-size", "24KB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	p, err := sqldtest.NewProxy(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	drv, prefix := openInspected(t, p.URL(), 40)
	tables := inspecttest.Tables(prefix, 40)
	for i := 0; i < 2; i++ {
		p.ResetLog()
		if err := migratetest.Migrate(ctx, drv, tables); err != nil {
			t.Fatalf("Schema.Create %d: %v", i+1, err)
		}
		batches := 0
		for _, r := range p.Log() {
			if strings.Contains(string(r.Body), "pragma_table_xinfo(t.name)") {
				batches++
			}
		}
		t.Logf("Schema.Create %d: %d requests, %d inspection batches", i+1, len(p.Log()), batches)
		if i == 1 && batches != 0 {
			t.Errorf("the driver tried the inspection batch again")
		}
		if i == 0 && batches == 0 {
			t.Errorf("no inspection batch tried: the test does not test the limit")
		}
	}
}

// An inspection whose answer is over the driver's own WithMaxResponseSize
// (sqld would send it): the migration works, query by query, over HTTP
// and WebSocket (where the socket survives the refused answer), and the
// driver stops trying to inspect in one answer.
func TestInspectionOverTheDriversLimit(t *testing.T) {
	for _, url := range []string{sqldtest.URL(), strings.Replace(sqldtest.URL(), "http", "ws", 1)} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			ctx := context.Background()
			_, prefix := openInspected(t, url, 40)
			small, err := Open(url, WithAuthToken(sqldtest.AuthToken()), WithMaxResponseSize(24<<10))
			if err != nil {
				t.Fatal(err)
			}
			defer small.Close()
			for i := 0; i < 2; i++ {
				if err := migratetest.Migrate(ctx, small, inspecttest.Tables(prefix, 40)); err != nil {
					t.Fatalf("Schema.Create %d: %v", i+1, err)
				}
				sc, err := small.DB().Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				sc.Raw(func(dc any) error {
					if !dc.(*conn).opts.shared.epoch.tooLarge.Load() {
						t.Errorf("Schema.Create %d: the driver did not note the inspection as too large", i+1)
					}
					return nil
				})
				sc.Close()
			}
		})
	}
}

// A connection whose session state was lost answers nothing itself: not
// Atlas's next query from the cache, not "no new foreign-key
// violations".
func TestLostSessionAnswersNothingItself(t *testing.T) {
	drv, prefix := openInspected(t, sqldtest.URL(), 1)
	ctx := context.Background()
	sc, err := drv.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.Raw(func(dc any) error {
		c := dc.(*conn)
		if _, err := c.ExecContext(ctx, "PRAGMA foreign_keys = off", nil); err != nil {
			t.Fatal(err)
		}
		rows, err := c.QueryContext(ctx, atlasDatabasesQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if c.inspection == nil {
			t.Fatal("no inspection cached")
		}
		c.lose(fmt.Errorf("the stream was lost"))
		for _, q := range []string{fmt.Sprintf(atlasColumnsQuery, prefix+"_t0"), noViolationsQuery} {
			if _, err := c.QueryContext(ctx, q, nil); err != driver.ErrBadConn {
				t.Errorf("%.40s: %v, want driver.ErrBadConn", q, err)
			}
		}
		return nil
	})
}

// An inspection batch lost on a connection holding session state fails
// with the error that says the state is gone, not a bare "bad
// connection".
func TestInspectionLostWithSessionState(t *testing.T) {
	p, err := sqldtest.NewFaultProxy(sqldtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	drv, _ := openInspected(t, p.URL(), 1)
	ctx := context.Background()
	sc, err := drv.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.Raw(func(dc any) error {
		c := dc.(*conn)
		if _, err := c.ExecContext(ctx, "PRAGMA foreign_keys = off", nil); err != nil {
			t.Fatal(err)
		}
		p.Set(sqldtest.Answer502, 1)
		_, err := c.QueryContext(ctx, atlasDatabasesQuery, nil)
		p.Set(sqldtest.NoFault, 0)
		if err == nil || err == driver.ErrBadConn || !c.bad {
			t.Errorf("got %v (bad %v), want the lost stream's error", err, c.bad)
		}
		return nil
	})
}
