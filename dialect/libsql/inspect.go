package libsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// Schema inspection in one request. ent's Schema.Create (and enttest, and
// versioned migrations) inspect the database through Atlas, which asks a
// table and a query at a time, one after another: 5 queries a table plus
// 4 (254 for 50 tables; 6.8 s behind 20 ms of latency for ent over
// libsql-client-go). So when a connection sees the query that starts
// Atlas's inspection (its list of databases), it sends that query
// together with the tables query and four set-based queries that read
// every table's columns, indexes, index columns and foreign keys, in one
// request, and answers Atlas's next queries from what came back: each
// answer is exactly what the server would have answered to the per-table
// query Atlas sends (pinned by TestAtlasInspectionQueries and
// TestInspectionAnswersAreTheServers). If sqld refuses that answer as
// too large, the query goes alone and the driver inspects query by query
// from then on.
//
// Correct whatever Atlas does: a query is answered from the cache only if
// its text is exactly one Atlas sends today, for a table or an index the
// cache read; anything else goes to the server as before, and a changed
// Atlas costs requests, never a wrong answer.
//
// Never stale: the cache lives on one connection and only until Atlas is
// done with it. Each answer is given once. The cache is dropped by any
// other statement on the connection (a migration's held-back plan
// included), the start or end of a transaction on it, and once it is
// older than inspectionTTL; and it is dead as soon as any connection of
// the same driver writes, begins a transaction or starts another
// inspection (inspectionEpoch). An inspection inside a transaction (the
// schema package's Diff inspects its dev database in one) is answered
// only inside that transaction, which sees nothing another connection
// commits meanwhile.

// Atlas's inspection queries (ariga.io/atlas/sql/sqlite, inspect.go, the
// constants at its end), byte for byte.
const (
	atlasDatabasesQuery     = "SELECT `name`, `file` FROM pragma_database_list() WHERE `name` <> 'temp'"
	atlasDatabasesQueryArgs = "SELECT `name`, `file` FROM pragma_database_list() WHERE `name` IN (%s)"
	atlasTablesQuery        = `
SELECT
	sqlite_master.name, sqlite_master.sql, wr, strict
FROM
	sqlite_master
	JOIN pragma_table_list(sqlite_master.name)
WHERE
	sqlite_master.type = 'table'
	AND sqlite_master.name NOT LIKE 'sqlite_%'
	AND sqlite_master.name NOT LIKE 'libsql_%'
`
	atlasTablesFilter      = " AND sqlite_master.name IN (%s)"
	atlasColumnsQuery      = "SELECT `name`, `type`, (not `notnull`) AS `nullable`, `dflt_value`, (`pk` <> 0) AS `pk`, `hidden` FROM pragma_table_xinfo('%s') ORDER BY `cid`"
	atlasIndexesQuery      = "SELECT `il`.`name`, `il`.`unique`, `il`.`origin`, `il`.`partial`, `m`.`sql` FROM pragma_index_list('%s') AS il JOIN sqlite_master AS m ON il.name = m.name"
	atlasIndexColumnsQuery = "SELECT name, desc FROM pragma_index_xinfo('%s') WHERE key = 1 ORDER BY seqno"
	atlasForeignKeysQuery  = "SELECT `id`, `from`, `to`, `table`, `on_update`, `on_delete` FROM pragma_foreign_key_list('%s') ORDER BY id, seq"
)

// The set-based queries: the same columns as Atlas's per-table queries,
// computed by the same pragmas with the same arguments, for every table
// its tables query can list, each row led by the table (or index) it is
// for, and ordered within it as Atlas's query orders it. Atlas's indexes
// query has no ORDER BY: SQLite scans sqlite_master and looks each row up
// in pragma_index_list (EXPLAIN QUERY PLAN: SCAN m, then SCAN il), so its
// rows come in sqlite_master's rowid order, which the set query sorts by.
const (
	inspectedTables    = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'libsql_%'"
	setColumnsQuery    = "SELECT t.name, x.`name`, x.`type`, (not x.`notnull`) AS `nullable`, x.`dflt_value`, (x.`pk` <> 0) AS `pk`, x.`hidden` FROM (" + inspectedTables + ") AS t JOIN pragma_table_xinfo(t.name) AS x ORDER BY t.name, x.`cid`"
	setIndexesQuery    = "SELECT t.name, il.`name`, il.`unique`, il.`origin`, il.`partial`, m.`sql` FROM (" + inspectedTables + ") AS t JOIN pragma_index_list(t.name) AS il JOIN sqlite_master AS m ON il.name = m.name ORDER BY t.name, m.rowid"
	setIndexColumnsQry = "SELECT il.`name`, x.`name`, x.`desc` FROM (" + inspectedTables + ") AS t JOIN pragma_index_list(t.name) AS il JOIN pragma_index_xinfo(il.name) AS x WHERE x.`key` = 1 ORDER BY il.`name`, x.`seqno`"
	setForeignKeysQry  = "SELECT t.name, f.`id`, f.`from`, f.`to`, f.`table`, f.`on_update`, f.`on_delete` FROM (" + inspectedTables + ") AS t JOIN pragma_foreign_key_list(t.name) AS f ORDER BY t.name, f.`id`, f.`seq`"
)

// inspectionTTL bounds how long a cache may wait for Atlas's next query:
// Atlas asks them back to back.
const inspectionTTL = 5 * time.Second

// inspectionEpoch counts, per driver, what ends every connection's cache:
// a statement that is not a plain read, a transaction, a new inspection.
// tooLarge records that sqld refused an inspection's answer as over its
// --max-response-size: the driver's later inspections go query by query.
type inspectionEpoch struct {
	n        atomic.Uint64
	tooLarge atomic.Bool
}

func (e *inspectionEpoch) bump() uint64 { return e.n.Add(1) }

// inspection is a connection's cache: the answers to the queries Atlas
// will send, by their exact text.
type inspection struct {
	epoch   uint64
	tx      txState // the connection's, when the inspection was read
	expires time.Time
	answers map[string]*hrana.StmtResult
	tables  *hrana.StmtResult // the tables query unfiltered, for its filtered form
}

// isInspectionStart reports whether query, with args, is the query with
// which Atlas starts inspecting a database (InspectSchema, InspectRealm).
func isInspectionStart(query string, args []driver.NamedValue) bool {
	if !strings.HasPrefix(query, "SELECT `name`, `file` FROM pragma_database_list()") {
		return false
	}
	if query == atlasDatabasesQuery {
		return len(args) == 0
	}
	return len(args) > 0 && allStrings(args) && query == fmt.Sprintf(atlasDatabasesQueryArgs, placeholders(len(args)))
}

func allStrings(args []driver.NamedValue) bool {
	for _, a := range args {
		if _, ok := a.Value.(string); !ok || a.Name != "" {
			return false
		}
	}
	return true
}

func placeholders(n int) string { return strings.Repeat("?, ", n-1) + "?" }

// fromInspection answers query from the connection's cache, once, or
// drops the cache and reports false.
func (c *conn) fromInspection(query string, args []driver.NamedValue) (driver.Rows, bool) {
	in := c.inspection
	if in == nil {
		return nil, false
	}
	if in.epoch != c.opts.shared.epoch.n.Load() || time.Now().After(in.expires) || c.tx != in.tx {
		c.inspection = nil
		return nil, false
	}
	if len(args) == 0 {
		if res, ok := in.answers[query]; ok {
			delete(in.answers, query)
			if query == atlasTablesQuery {
				in.tables = nil
			}
			return newCachedRows(res), true
		}
	} else if in.tables != nil && allStrings(args) && query == atlasTablesQuery+fmt.Sprintf(atlasTablesFilter, placeholders(len(args))) {
		names := make(map[string]bool, len(args))
		for _, a := range args {
			names[a.Value.(string)] = true
		}
		res := &hrana.StmtResult{Cols: in.tables.Cols, Rows: [][]hrana.Value{}}
		for _, row := range in.tables.Rows {
			if name, ok := row[0].V.(string); ok && names[name] {
				res.Rows = append(res.Rows, row)
			}
		}
		delete(in.answers, atlasTablesQuery)
		in.tables = nil
		return newCachedRows(res), true
	}
	c.inspection = nil
	return nil, false
}

// dropInspection ends the connection's cache and every other
// connection's: a statement that may write, or a transaction, comes.
func (c *conn) dropInspection() {
	c.inspection = nil
	c.opts.shared.epoch.bump()
}

// inspect runs the query that starts Atlas's inspection, st, with the
// whole inspection in the same request, and keeps the answers. The
// queries run as Atlas's own would, each on its own (no transaction),
// but back to back on the server.
func (c *conn) inspect(ctx context.Context, st hrana.Stmt) (driver.Rows, error) {
	epoch := c.opts.shared.epoch.bump()
	c.inspection = nil
	c.coolIfIdle()
	steps := []hrana.BatchStep{
		{Stmt: st},
		{Stmt: hrana.Stmt{SQL: atlasTablesQuery}},
		{Stmt: hrana.Stmt{SQL: setColumnsQuery}},
		{Stmt: hrana.Stmt{SQL: setIndexesQuery}},
		{Stmt: hrana.Stmt{SQL: setIndexColumnsQry}},
		{Stmt: hrana.Stmt{SQL: setForeignKeysQry}},
	}
	results, err := c.pipeline(ctx, hrana.ExecuteBatch(hrana.Batch{Steps: steps}))
	var br *hrana.BatchResult
	if err == nil && results[0].Err == nil {
		br = results[0].Response.Batch
	}
	if err == nil && results[0].Err != nil {
		err = results[0].Err
	}
	if refusedAsTooLarge(err) {
		c.opts.shared.epoch.tooLarge.Store(true)
	}
	if br == nil || len(br.StepResults) != len(steps) || len(br.StepErrors) != len(steps) ||
		(br.StepResults[0] == nil && br.StepErrors[0] == nil) {
		// Too large for one answer, refused, or lost: the query alone,
		// which fails as it would have if the connection is gone.
		if ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return nil, err
		}
		if err != nil && c.bad {
			// The exchange lost the session state: its error says so,
			// where the query alone would only say "bad connection".
			return nil, err
		}
		return c.query(ctx, st)
	}
	if e := br.StepErrors[0]; e != nil {
		return nil, c.stmtFailed(e)
	}
	c.inspection = cacheInspection(br, epoch)
	c.inspection.tx = c.tx
	return newCachedRows(br.StepResults[0]), nil
}

// refusedAsTooLarge reports whether err is the refusal of an answer as too
// large, by sqld or by the driver's own bound (WithMaxResponseSize).
func refusedAsTooLarge(err error) bool {
	var he *hrana.Error
	var hte *hrana.HTTPError
	var tl *hrana.ResponseTooLargeError
	return errors.As(err, &tl) || errors.As(err, &he) && he.Code == hrana.ResponseTooLargeCode ||
		errors.As(err, &hte) && hte.Code == hrana.ResponseTooLargeCode
}

// cacheInspection keys the answers of an inspection batch by the text of
// the per-table queries Atlas will send. A table or index whose name has
// a quote is left out: Atlas's query for it is not what it means, and
// goes to the server as before.
func cacheInspection(br *hrana.BatchResult, epoch uint64) *inspection {
	in := &inspection{epoch: epoch, expires: time.Now().Add(inspectionTTL), answers: map[string]*hrana.StmtResult{}}
	tables := br.StepResults[1]
	if tables == nil {
		return in
	}
	in.answers[atlasTablesQuery] = tables
	in.tables = tables
	parts := func(step int) map[string]*hrana.StmtResult {
		r := br.StepResults[step]
		if r == nil || len(r.Cols) == 0 {
			return nil
		}
		out := map[string]*hrana.StmtResult{}
		for _, row := range r.Rows {
			key, ok := row[0].V.(string)
			if !ok || len(row) != len(r.Cols) {
				return nil
			}
			p := out[key]
			if p == nil {
				p = &hrana.StmtResult{Cols: r.Cols[1:], Rows: [][]hrana.Value{}}
				out[key] = p
			}
			p.Rows = append(p.Rows, row[1:])
		}
		return out
	}
	empty := func(step int) *hrana.StmtResult {
		return &hrana.StmtResult{Cols: br.StepResults[step].Cols[1:], Rows: [][]hrana.Value{}}
	}
	columns, indexes, indexColumns, fks := parts(2), parts(3), parts(4), parts(5)
	for _, row := range tables.Rows {
		name, ok := row[0].V.(string)
		if !ok || strings.Contains(name, "'") {
			continue
		}
		if columns != nil {
			in.answers[fmt.Sprintf(atlasColumnsQuery, name)] = orEmpty(columns[name], empty(2))
		}
		if fks != nil {
			in.answers[fmt.Sprintf(atlasForeignKeysQuery, name)] = orEmpty(fks[name], empty(5))
		}
		if indexes == nil {
			continue
		}
		idx := orEmpty(indexes[name], empty(3))
		in.answers[fmt.Sprintf(atlasIndexesQuery, name)] = idx
		if indexColumns == nil {
			continue
		}
		for _, ir := range idx.Rows {
			if iname, ok := ir[0].V.(string); ok && !strings.Contains(iname, "'") {
				in.answers[fmt.Sprintf(atlasIndexColumnsQuery, iname)] = orEmpty(indexColumns[iname], empty(4))
			}
		}
	}
	return in
}

func orEmpty(r, empty *hrana.StmtResult) *hrana.StmtResult {
	if r == nil {
		return empty
	}
	return r
}

// newCachedRows reads a result the cache holds: its rows are handed out
// once, so they need no copy.
func newCachedRows(res *hrana.StmtResult) driver.Rows {
	r, _ := newRows(res)
	return r
}
